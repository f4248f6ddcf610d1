/**
 * Token attacks that handshake.test.ts does not cover: algorithm confusion (an RS256/ES256 header
 * over an HMAC signature), `none` spelled differently, `crit` headers, headers that point at other
 * keys, malformed JWT shapes; and that no token, password or Authorization value ever reaches a log.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { io } from "socket.io-client";
import { type App, createApp } from "../../src/app.js";
import { loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/logger.js";
import { openDatabase } from "../../src/storage/sqlite/open.js";
import { BuiltinDirectory } from "../../src/users/builtin-directory.js";
import {
  craftToken,
  request,
  startServer,
  TEST_SECRET,
  type TestServer,
  type TestUser,
} from "../support/harness.js";

const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
/** An HMAC-SHA256 signature over `head` keyed with the shared secret, whatever the header claims. */
const hmac = (head: string, secret = TEST_SECRET) =>
  createHmac("sha256", secret).update(head).digest("base64url");

describe("tokens with hostile headers and shapes", () => {
  let server: TestServer;
  let ann: TestUser;
  const claims = () => ({ sub: ann.id, iat: now(), exp: now() + 3600 });
  /** A token with exactly this header, signed HMAC-SHA256 with the secret. */
  const withHeader = (header: Record<string, unknown>) => {
    const head = `${b64(header)}.${b64(claims())}`;
    return `${head}.${hmac(head)}`;
  };
  before(async () => {
    server = await startServer();
    ann = await server.addUser("Ann Tokens");
  });
  after(() => server.close());

  const refused: [string, () => string][] = [
    // key confusion: a verifier that took the key type from the header would check the HMAC here
    [
      "an RS256 header over an HMAC signature made with the secret",
      () => withHeader({ alg: "RS256", typ: "JWT" }),
    ],
    [
      "an ES256 header over an HMAC signature made with the secret",
      () => withHeader({ alg: "ES256", typ: "JWT" }),
    ],
    [
      "a PS256 header over an HMAC signature made with the secret",
      () => withHeader({ alg: "PS256", typ: "JWT" }),
    ],
    [
      "an alg of None (capitalised) with an empty signature",
      () => `${b64({ alg: "None" })}.${b64(claims())}.`,
    ],
    ["an alg of nOnE with an empty signature", () => `${b64({ alg: "nOnE" })}.${b64(claims())}.`],
    [
      "an alg of none carrying a valid HS256 signature",
      () => {
        const head = `${b64({ alg: "none", typ: "JWT" })}.${b64(claims())}`;
        return `${head}.${hmac(head)}`;
      },
    ],
    ["a header without alg", () => withHeader({ typ: "JWT" })],
    [
      "a crit header naming an extension the server does not know",
      () => withHeader({ alg: "HS256", crit: ["x-tw"], "x-tw": 1 }),
    ],
    ["a crit header that is not a list", () => withHeader({ alg: "HS256", crit: "exp" })],
    [
      "an embedded jwk whose key signed the token instead of the secret",
      () => {
        const other = "attacker-chosen-secret-0123456789abcdef";
        const header = { alg: "HS256", jwk: { kty: "oct", k: Buffer.from(other).toString("base64url") } };
        const head = `${b64(header)}.${b64(claims())}`;
        return `${head}.${hmac(head, other)}`;
      },
    ],
    [
      "a JWT-looking string with four parts",
      () => `${craftToken(claims(), { secret: TEST_SECRET })}.${b64({})}`,
    ],
    ["a JWE-shaped string with five parts", () => ["a", "b", "c", "d", "e"].join(".")],
    [
      "a token with characters outside base64url",
      () => `${b64({ alg: "HS256" })}.${b64(claims())}.!!!$$$***`,
    ],
    [
      "a token whose payload is not JSON",
      () => {
        const head = `${b64({ alg: "HS256" })}.${Buffer.from("not json").toString("base64url")}`;
        return `${head}.${hmac(head)}`;
      },
    ],
    [
      "a token whose payload is a JSON array",
      () => {
        const head = `${b64({ alg: "HS256" })}.${b64([ann.id])}`;
        return `${head}.${hmac(head)}`;
      },
    ],
    ["a token made of three empty parts", () => ".."],
    ["a token with a NUL byte inside", () => `${craftToken(claims(), { secret: TEST_SECRET })}\u0000`],
  ];
  for (const [name, token] of refused) {
    test(`${name} is refused with AUTH_INVALID at the handshake and over HTTP`, async () => {
      const value = token();
      assert.deepEqual(await server.connectRefused({ token: value }), {
        message: "unauthorized",
        code: "AUTH_INVALID",
      });
      // only values an HTTP header can carry (fetch refuses a NUL in a header before sending)
      if (!/^[\x21-\x7e]+$/.test(value)) return;
      const res = await fetch(`${server.url}/api/rooms`, { headers: { authorization: `Bearer ${value}` } });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, "AUTH_INVALID");
    });
  }

  // kid, jku and x5u are hints for key lookup; the server has one key and must ignore them, not fetch
  test("kid, jku and x5u headers pointing elsewhere are ignored and the token is still HS256-verified", async () => {
    const hints = { kid: "../../etc/passwd", jku: "http://127.0.0.1:1/keys", x5u: "http://127.0.0.1:1/cert" };
    const socket = await server.connect({ token: withHeader({ alg: "HS256", typ: "JWT", ...hints }) });
    assert.equal((await request(socket, "room:list", {})).ok, true);
    socket.close();
    const forged = withHeader({ alg: "HS256", ...hints }).replace(/.{4}$/, "AAAA");
    assert.equal((await server.connectRefused({ token: forged })).code, "AUTH_INVALID");
  });
});

describe("tokens and passwords never reach the logs", () => {
  const lines: string[] = [];
  let app: App;
  let url: string;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "twc-logs-"));
    const config = loadConfig({
      NODE_ENV: "test",
      CHAT_PORT: "0",
      CHAT_HOST: "127.0.0.1",
      SQLITE_PATH: join(dir, "chat.db"),
      AUTH_JWT_SECRET: TEST_SECRET,
      LOG_LEVEL: "trace",
    });
    const db = openDatabase(config.sqlitePath);
    const directory = new BuiltinDirectory(db);
    // the most verbose level, written to memory, so every line the server logs can be inspected
    const logger = createLogger("trace", { write: (line: string) => void lines.push(line) });
    app = await createApp({ config, logger, chat: { kind: "sqlite", db }, directory });
    url = `http://127.0.0.1:${(await app.listen()).port}`;
    await directory.add({
      login: "logann",
      name: "Log Ann",
      password: "Pa55-word-never-logged",
      scope: null,
    });
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("sign-ins, refused and accepted handshakes and Bearer requests leave no secret in any log line", async () => {
    const password = "Pa55-word-never-logged";
    const secrets: string[] = [password, TEST_SECRET];
    const login = await fetch(`${url}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "logann", password }),
    });
    assert.equal(login.status, 200);
    const { token, user } = (await login.json()) as { token: string; user: { id: string } };
    secrets.push(token);
    const wrongPassword = "Wrong-pa55-never-logged";
    secrets.push(wrongPassword);
    const refusedLogin = await fetch(`${url}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ username: "logann", password: wrongPassword }),
    });
    assert.equal(refusedLogin.status, 401);

    const forged = craftToken({ sub: user.id, iat: now(), exp: now() + 60 }, { secret: `${TEST_SECRET}-x` });
    const expired = craftToken({ sub: user.id, iat: now() - 600, exp: now() - 300 }, { secret: TEST_SECRET });
    secrets.push(forged, expired);
    for (const bad of [forged, expired]) {
      const socket = io(url, {
        auth: { token: bad },
        transports: ["websocket"],
        forceNew: true,
        reconnection: false,
      });
      await new Promise<void>((resolve) => socket.once("connect_error", () => resolve()));
      socket.close();
      const http = await fetch(`${url}/api/rooms`, { headers: { authorization: `Bearer ${bad}` } });
      assert.equal(http.status, 401);
    }
    const socket = io(url, {
      auth: { token },
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("session", () => resolve());
      socket.once("connect_error", reject);
    });
    socket.close();
    assert.equal(
      (await fetch(`${url}/api/rooms`, { headers: { authorization: `Bearer ${token}` } })).status,
      200,
    );

    // the sign-ins are logged, so the collector really sees the server's lines
    assert.ok(
      lines.some((l) => l.includes("signed in with a password")),
      "the sign-in was logged",
    );
    for (const line of lines) {
      for (const secret of secrets) assert.ok(!line.includes(secret), `a log line leaks a secret: ${line}`);
      // a signature or payload part alone would leak enough to matter too
      for (const part of token.split(".").slice(1))
        assert.ok(!line.includes(part), `a log line leaks a token part: ${line}`);
    }
  });
});
