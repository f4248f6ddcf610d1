/**
 * Signing in with the PHP session cookie, files store: sessions made by real PHP
 * (`session_start()` with the files handler) open a socket; logged-out, destroyed and expired ones
 * are refused and drop a connected socket at the next re-check; hostile cookies and session files
 * are refused with the contract's codes, nothing outside the session folder is read, and nothing
 * is written.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connectWithCookie, PAGE_ORIGIN, refusedWithCookie, watchDisconnect } from "../support/cookies.js";
import {
  request,
  requireService,
  startServer,
  type TestServer,
  type TestUser,
  until,
} from "../support/harness.js";
import { filesSetup, phpDestroySession, phpStartSession, phpUnsetKey } from "../support/php-session.js";

const skip = await requireService("php");
const RECHECK_WITHIN_MS = 8000;

describe("PHP session cookie, files store", { skip }, () => {
  let server: TestServer;
  let root: string;
  let dir: string;
  let ann: TestUser;
  let bob: TestUser;
  const cookie = (id: string) => `PHPSESSID=${id}`;
  const sessionFor = (user: TestUser, handler: "php" | "php_serialize" = "php") =>
    phpStartSession(filesSetup(dir, handler), { user_id: Number(user.id), cart: ["é", 2] });

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "twc-sessions-"));
    dir = join(root, "sessions");
    mkdirSync(dir);
    server = await startServer({
      env: {
        PHP_SESSION_STORE: "files",
        PHP_SESSION_PATH: dir,
        AUTH_RECHECK_S: "1",
        CORS_ORIGINS: PAGE_ORIGIN,
      },
    });
    ann = await server.addUser("Ann Cookie");
    bob = await server.addUser("Bob Cookie");
  });
  after(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  test("a session started by PHP signs the socket in as its user, with either serialize handler", async () => {
    for (const handler of ["php", "php_serialize"] as const) {
      const id = await sessionFor(ann, handler);
      const { socket, userId } = await connectWithCookie(server.url, {
        cookie: `theme=dark; ${cookie(id)}; x=1`,
      });
      assert.equal(userId, ann.id, handler);
      assert.equal((await request(socket, "room:list", {})).ok, true);
      socket.close();
    }
  });

  test("long-polling carries the cookie too", async () => {
    const id = await sessionFor(bob);
    const { socket, userId } = await connectWithCookie(server.url, {
      cookie: cookie(id),
      transports: ["polling"],
    });
    assert.equal(userId, bob.id);
    socket.close();
  });

  test("without an Origin header the cookie is not accepted (AUTH_REQUIRED)", async () => {
    const id = await sessionFor(ann);
    assert.deepEqual(await refusedWithCookie(server.url, { cookie: cookie(id), origin: null }), {
      message: "unauthorized",
      code: "AUTH_REQUIRED",
    });
  });

  test("from an origin outside CORS_ORIGINS the handshake is refused before authentication", async () => {
    const id = await sessionFor(ann);
    const refusal = await refusedWithCookie(server.url, { cookie: cookie(id), origin: "http://evil.test" });
    assert.equal(refusal.code, undefined);
  });

  test("a present token wins: an invalid one is refused even beside a valid cookie", async () => {
    const id = await sessionFor(ann);
    const invalid = await refusedWithCookie(server.url, { cookie: cookie(id), auth: { token: "not-a-jwt" } });
    assert.equal(invalid.code, "AUTH_INVALID");
    const { socket, userId } = await connectWithCookie(server.url, {
      cookie: cookie(id),
      auth: { token: await server.token(bob.id) },
    });
    assert.equal(userId, bob.id, "a valid token signs in its own user, not the cookie's");
    socket.close();
  });

  test("a logged-out, a destroyed and an unknown session are AUTH_INVALID; an expired one AUTH_EXPIRED", async () => {
    const setup = filesSetup(dir);
    const loggedOut = await sessionFor(ann);
    await phpUnsetKey(setup, loggedOut, "user_id");
    const destroyed = await sessionFor(ann);
    await phpDestroySession(setup, destroyed);
    const expired = await sessionFor(ann);
    const old = Date.now() / 1000 - 1440 - 60;
    utimesSync(join(dir, `sess_${expired}`), old, old);
    const code = async (id: string) => (await refusedWithCookie(server.url, { cookie: cookie(id) })).code;
    assert.equal(await code(loggedOut), "AUTH_INVALID");
    assert.equal(await code(destroyed), "AUTH_INVALID");
    assert.equal(await code("a".repeat(26)), "AUTH_INVALID");
    assert.equal(await code(expired), "AUTH_EXPIRED");
  });

  test("a connected socket is dropped at the next re-check once its session is destroyed, expired or logged out", async () => {
    const setup = filesSetup(dir);
    const ids = [await sessionFor(ann), await sessionFor(ann), await sessionFor(ann), await sessionFor(bob)];
    const sockets = await Promise.all(ids.map((id) => connectWithCookie(server.url, { cookie: cookie(id) })));
    const gone = sockets.map(({ socket }) => watchDisconnect(socket));
    await phpDestroySession(setup, ids[0]!);
    const old = Date.now() / 1000 - 1440 - 60;
    utimesSync(join(dir, `sess_${ids[1]}`), old, old);
    await phpUnsetKey(setup, ids[2]!, "user_id");
    await until(() => gone[0]!() && gone[1]!() && gone[2]!(), RECHECK_WITHIN_MS, "the three sockets dropped");
    assert.equal(gone[3]!(), false, "Bob's live session keeps its socket");
    assert.equal((await request(sockets[3]!.socket, "room:list", {})).ok, true);
    sockets[3]!.socket.close();
  });

  test("hostile cookies are refused with AUTH_INVALID, nothing outside the folder is read and nothing is written", async () => {
    const valid = await sessionFor(ann);
    // a perfectly good session file, but outside the session folder
    const outsideId = "outsideoutsideoutside12345";
    writeFileSync(join(root, `sess_${outsideId}`), `user_id|i:${ann.id};`);
    // a symlink planted in the folder pointing at it
    const linkId = "symlinksymlinksymlink12345";
    symlinkSync(join(root, `sess_${outsideId}`), join(dir, `sess_${linkId}`));
    // a FIFO and a directory where a session file should be (must not hang or crash)
    const fifoId = "fifofifofifofifofifofifo12";
    execFileSync("mkfifo", [join(dir, `sess_${fifoId}`)]);
    const dirId = "directorydirectorydirecto1";
    mkdirSync(join(dir, `sess_${dirId}`));
    // session files PHP never wrote: garbage, an object, a torn write, a user id that is not one
    const bad: Record<string, string | Buffer> = {
      garbagegarbagegarbage12345: Buffer.from([0xff, 0x00, 0x7c, 0x3b, 0x61, 0x3a]),
      objectobjectobjectobject12: `user_id|O:8:"stdClass":1:{s:2:"id";i:${ann.id};}`,
      phpobjectphpobjectphpobj12: `a:2:{s:7:"user_id";i:${ann.id};s:1:"o";O:8:"stdClass":0:{}}`,
      truncatedtruncatedtruncat1: `user_id|i:${ann.id};cart|a:2:{i:0;s:2:"é`,
      notanidnotanidnotanidnota1: 'user_id|s:5:"admin";',
      referencereferencereferen1: `user_id|i:${ann.id};again|R:1;`,
    };
    for (const [id, content] of Object.entries(bad)) writeFileSync(join(dir, `sess_${id}`), content);
    const snapshot = () =>
      readdirSync(dir)
        .sort()
        .map((name) => {
          const s = statSync(join(dir, name), { throwIfNoEntry: false });
          return `${name}:${s?.size}:${s?.mtimeMs}`;
        });
    const before = snapshot();

    const cookies = [
      `PHPSESSID=../sess_${outsideId}`,
      `PHPSESSID=..%2F..%2F..%2Fetc%2Fpasswd${"a".repeat(10)}`,
      `PHPSESSID=${"a".repeat(22)}%00`,
      `PHPSESSID=${valid}; PHPSESSID=${valid}`,
      `PHPSESSID=${valid}; PHPSESSID=${outsideId}`,
      `PHPSESSID="${valid}"`,
      "PHPSESSID=",
      "PHPSESSID=short",
      `PHPSESSID=${"a".repeat(257)}`,
      `PHPSESSID=${valid.slice(0, 10)} ${valid.slice(10)}`,
      `PHPSESSID=${valid}/../${valid}`,
      `PHPSESSID=${linkId}`,
      `PHPSESSID=${fifoId}`,
      `PHPSESSID=${dirId}`,
      ...Object.keys(bad).map((id) => `PHPSESSID=${id}`),
    ];
    for (const c of cookies) {
      const refusal = await refusedWithCookie(server.url, { cookie: c });
      assert.equal(refusal.code, "AUTH_INVALID", `cookie ${JSON.stringify(c)}`);
    }
    assert.deepEqual(snapshot(), before, "the session folder is unchanged");

    // the process is unaffected: health answers and a good session still signs in
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
    const { socket } = await connectWithCookie(server.url, { cookie: cookie(valid) });
    socket.close();
  });

  test("a cookie with another name is no credential (AUTH_REQUIRED)", async () => {
    const id = await sessionFor(ann);
    assert.equal(
      (await refusedWithCookie(server.url, { cookie: `OTHERSESSID=${id}` })).code,
      "AUTH_REQUIRED",
    );
  });
});

describe("PHP session cookie with a custom cookie name and a nested user key", { skip }, () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "twc-sessions-"));
    server = await startServer({
      env: {
        PHP_SESSION_STORE: "files",
        PHP_SESSION_PATH: dir,
        PHP_SESSION_COOKIE: "timewise_sid",
        PHP_SESSION_USER_KEY: "auth.user.id",
        CORS_ORIGINS: PAGE_ORIGIN,
      },
    });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the user id is read at the dotted path under the configured cookie", async () => {
    const cat = await server.addUser("Cat Nested");
    const setup = filesSetup(dir, "php_serialize");
    const id = await phpStartSession(setup, { auth: { user: { id: String(cat.id), name: "Cat" } } });
    const { socket, userId } = await connectWithCookie(server.url, { cookie: `timewise_sid=${id}` });
    assert.equal(userId, cat.id);
    socket.close();
    assert.equal((await refusedWithCookie(server.url, { cookie: `PHPSESSID=${id}` })).code, "AUTH_REQUIRED");
  });
});
