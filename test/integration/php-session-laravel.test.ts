/**
 * Signing in with a stock Laravel app's session cookie: real PHP writes the file driver's session
 * and encrypts the cookie as Laravel's Encrypter does (AES-256-CBC with an HMAC-SHA256 MAC, the
 * cookie-name prefix inside). Cookies under the current or a previous key open a socket; a changed
 * MAC or ciphertext, another cookie's value (the XSRF-TOKEN swap), an unknown key and a plain id
 * are refused. The same with Laravel's database driver in MariaDB, where a logout ends a live
 * socket at the next re-check. Also the settings: one line naming the variable, the key never printed.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ResultSetHeader } from "mysql2/promise";
import { loadConfig } from "../../src/config/index.js";
import { connectWithCookie, PAGE_ORIGIN, refusedWithCookie, watchDisconnect } from "../support/cookies.js";
import {
  configProblems,
  request,
  requireService,
  runUntilExit,
  serverEnv,
  startServer,
  type TestServer,
  type TestUser,
  until,
} from "../support/harness.js";
import {
  laravelCookie,
  laravelDatabaseSession,
  laravelFileSession,
  laravelKey,
  tamperLaravelCookie,
} from "../support/laravel.js";
import { createTestDatabase, phpUsersTable, TEST_MARIADB, type TestDatabase } from "../support/mariadb.js";
import { LARAVEL_USER_KEY } from "../support/php-session.js";

const skip = await requireService("php");
const skipDatabase = await requireService("php", "mariadb", "php-mysql");
const COOKIE = "timewise_session";

describe("Laravel session cookie", { skip }, () => {
  let root: string;
  let server: TestServer;
  let gcm: TestServer;
  let ann: TestUser;
  let key: string;
  let oldKey: string;
  let strangerKey: string;
  const header = (value: string) => `XSRF-TOKEN=abc; ${COOKIE}=${value}`;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "twc-laravel-"));
    [key, oldKey, strangerKey] = await Promise.all([laravelKey(), laravelKey(), laravelKey()]);
    const common = {
      PHP_SESSION_STORE: "files",
      PHP_SESSION_PATH: root,
      PHP_SESSION_COOKIE: COOKIE,
      PHP_SESSION_USER_KEY: LARAVEL_USER_KEY,
      PHP_SESSION_LIFETIME_S: "7200",
      CORS_ORIGINS: PAGE_ORIGIN,
    };
    server = await startServer({
      env: { ...common, LARAVEL_APP_KEY: key, LARAVEL_PREVIOUS_KEYS: oldKey },
    });
    gcm = await startServer({ env: { ...common, LARAVEL_APP_KEY: key, LARAVEL_CIPHER: "aes-256-gcm" } });
    ann = await server.addUser("Ann Laravel");
  });
  after(async () => {
    await Promise.all([server?.close(), gcm?.close()]);
    rmSync(root, { recursive: true, force: true });
  });

  test("a cookie encrypted with APP_KEY signs the socket in as the session's user", async () => {
    const id = await laravelFileSession(root, ann.id);
    const { socket, userId } = await connectWithCookie(server.url, {
      cookie: header(await laravelCookie(key, COOKIE, id)),
    });
    assert.equal(userId, ann.id);
    assert.equal((await request(socket, "room:list", {})).ok, true);
    socket.close();
  });

  test("a cookie encrypted with a previous key still signs in after a key rotation", async () => {
    const id = await laravelFileSession(root, ann.id);
    const { socket, userId } = await connectWithCookie(server.url, {
      cookie: header(await laravelCookie(oldKey, COOKIE, id)),
    });
    assert.equal(userId, ann.id);
    socket.close();
  });

  test("with AES-256-GCM the tag authenticates the cookie", async () => {
    const cat = await gcm.addUser("Cat Laravel");
    const id = await laravelFileSession(root, cat.id);
    const good = await laravelCookie(key, COOKIE, id, "AES-256-GCM");
    const { socket, userId } = await connectWithCookie(gcm.url, { cookie: header(good) });
    assert.equal(userId, cat.id);
    socket.close();
    const bent = tamperLaravelCookie(good, (p) => {
      const tag = Buffer.from(p.tag, "base64");
      tag[0] = tag[0]! ^ 1;
      p.tag = tag.toString("base64");
    });
    assert.equal((await refusedWithCookie(gcm.url, { cookie: header(bent) })).code, "AUTH_INVALID");
  });

  test("a cookie whose MAC or ciphertext was changed is refused", async () => {
    const id = await laravelFileSession(root, ann.id);
    const good = await laravelCookie(key, COOKIE, id);
    const flip = (hex: string) => (hex[0] === "0" ? "1" : "0") + hex.slice(1);
    const cases = {
      mac: tamperLaravelCookie(good, (p) => {
        p.mac = flip(p.mac);
      }),
      value: tamperLaravelCookie(good, (p) => {
        const bytes = Buffer.from(p.value, "base64");
        bytes[0] = bytes[0]! ^ 1;
        p.value = bytes.toString("base64");
      }),
      "MAC left out": tamperLaravelCookie(good, (p) => {
        p.mac = "";
      }),
      "upper-case MAC": tamperLaravelCookie(good, (p) => {
        p.mac = p.mac.toUpperCase();
      }),
    };
    for (const [name, cookie] of Object.entries(cases)) {
      const refused = await refusedWithCookie(server.url, { cookie: header(cookie) });
      assert.equal(refused.code, "AUTH_INVALID", name);
    }
  });

  test("another cookie's value moved into the session cookie is refused (the cookie-name prefix)", async () => {
    // Laravel encrypts XSRF-TOKEN with the same key, and a CSRF token looks just like a session id
    const id = await laravelFileSession(root, ann.id);
    const swapped = await laravelCookie(key, "XSRF-TOKEN", id);
    assert.equal((await refusedWithCookie(server.url, { cookie: header(swapped) })).code, "AUTH_INVALID");
  });

  test("a cookie from a key the server does not have, or a plain session id, is refused", async () => {
    const id = await laravelFileSession(root, ann.id);
    const stranger = await laravelCookie(strangerKey, COOKIE, id);
    for (const cookie of [stranger, id, "eyJpdiI6", "%E0%A4%A"]) {
      const refused = await refusedWithCookie(server.url, { cookie: header(cookie) });
      assert.equal(refused.code, "AUTH_INVALID", cookie.slice(0, 20));
    }
  });

  test("a valid cookie without an allowed Origin is not a credential", async () => {
    const id = await laravelFileSession(root, ann.id);
    const cookie = header(await laravelCookie(key, COOKIE, id));
    const refused = await refusedWithCookie(server.url, { cookie, origin: null });
    assert.equal(refused.code, "AUTH_REQUIRED");
  });
});

describe("Laravel session cookie, database driver", { skip: skipDatabase }, () => {
  let db: TestDatabase;
  let server: TestServer;
  let key: string;
  let annId: string;
  const pdo = () => ({
    dsn: `mysql:host=${TEST_MARIADB.host};port=${TEST_MARIADB.port};dbname=${db.name};charset=utf8mb4`,
    user: TEST_MARIADB.user,
    password: TEST_MARIADB.password,
  });

  before(async () => {
    db = await createTestDatabase();
    await db.conn.query(phpUsersTable());
    const [r] = await db.conn.execute<ResultSetHeader>(
      "INSERT INTO users (username, first_name) VALUES ('ann', 'Ann')",
    );
    annId = String(r.insertId);
    // Laravel's own migration for the database session driver
    await db.conn.query(`CREATE TABLE sessions (
      id VARCHAR(255) NOT NULL PRIMARY KEY, user_id BIGINT UNSIGNED NULL, ip_address VARCHAR(45) NULL,
      user_agent TEXT NULL, payload LONGTEXT NOT NULL, last_activity INT NOT NULL,
      INDEX sessions_user_id_index (user_id), INDEX sessions_last_activity_index (last_activity))`);
    key = await laravelKey();
    server = await startServer({
      env: {
        ...db.env,
        USERS_NAME_COLUMN: "first_name",
        PHP_SESSION_STORE: "mysql",
        PHP_SESSION_COOKIE: COOKIE,
        PHP_SESSION_USER_KEY: LARAVEL_USER_KEY,
        PHP_SESSION_LIFETIME_S: "7200",
        LARAVEL_APP_KEY: key,
        AUTH_RECHECK_S: "1",
        CORS_ORIGINS: PAGE_ORIGIN,
      },
    });
  });
  after(async () => {
    await server?.close();
    await db?.drop();
  });

  test("a cookie for a row in Laravel's sessions table signs in, and a logout ends the socket", async () => {
    const id = await laravelDatabaseSession(pdo(), annId);
    const { socket, userId } = await connectWithCookie(server.url, {
      cookie: `${COOKIE}=${await laravelCookie(key, COOKIE, id)}`,
    });
    assert.equal(userId, annId);
    const gone = watchDisconnect(socket);
    // Laravel's logout: the session row is deleted
    await db.conn.execute("DELETE FROM sessions WHERE id = ?", [id]);
    await until(gone, 8000);
  });
});

describe("Laravel settings", () => {
  const BASE = { NODE_ENV: "test", AUTH_JWT_SECRET: "x".repeat(40), PHP_SESSION_STORE: "files" };
  const KEY = `base64:${Buffer.alloc(32, 7).toString("base64")}`;
  const problems = (env: Record<string, string>) => configProblems({ ...BASE, ...env });

  test("keys are read like Laravel's APP_KEY and APP_PREVIOUS_KEYS, current key first", () => {
    const raw = "r".repeat(32);
    const laravel = loadConfig({ ...BASE, LARAVEL_APP_KEY: KEY, LARAVEL_PREVIOUS_KEYS: ` ${raw}, ,` })
      .phpSession!.laravel!;
    assert.equal(laravel.cipher, "AES-256-CBC");
    assert.deepEqual(
      laravel.keys.map((k) => Buffer.from(k).toString("hex")),
      [Buffer.alloc(32, 7).toString("hex"), Buffer.from(raw).toString("hex")],
    );
    assert.equal(loadConfig(BASE).phpSession!.laravel, null, "off without LARAVEL_APP_KEY");
    const short = `base64:${Buffer.alloc(16, 1).toString("base64")}`;
    assert.equal(
      loadConfig({ ...BASE, LARAVEL_APP_KEY: short, LARAVEL_CIPHER: "aes-128-cbc" }).phpSession!.laravel!
        .cipher,
      "AES-128-CBC",
    );
  });

  const bad: [string, Record<string, string>, string][] = [
    ["a key of the wrong length", { LARAVEL_APP_KEY: "base64:c2VjcmV0LXZhbHVl" }, "LARAVEL_APP_KEY"],
    [
      "a key that is not base64",
      { LARAVEL_APP_KEY: "base64:not*base64*secret-value!!!!" },
      "LARAVEL_APP_KEY",
    ],
    [
      "a bad previous key",
      { LARAVEL_APP_KEY: KEY, LARAVEL_PREVIOUS_KEYS: `${KEY},secret-value` },
      "LARAVEL_PREVIOUS_KEYS",
    ],
    ["previous keys without a key", { LARAVEL_PREVIOUS_KEYS: KEY }, "LARAVEL_PREVIOUS_KEYS"],
    ["an unknown cipher", { LARAVEL_APP_KEY: KEY, LARAVEL_CIPHER: "DES" }, "LARAVEL_CIPHER"],
    ["a key without a session store", { LARAVEL_APP_KEY: KEY, PHP_SESSION_STORE: "" }, "LARAVEL_APP_KEY"],
    [
      "a key with the redis store",
      { LARAVEL_APP_KEY: KEY, PHP_SESSION_STORE: "redis", REDIS_URL: "redis://127.0.0.1:6379" },
      "LARAVEL_APP_KEY",
    ],
  ];
  for (const [name, env, variable] of bad) {
    test(`${name}: one line naming ${variable}, the key never shown`, () => {
      const lines = problems(env);
      assert.equal(lines.length, 1, JSON.stringify(lines));
      assert.ok(lines[0]!.startsWith(`${variable}:`), lines[0]);
      assert.ok(!lines[0]!.includes("secret-value") && !lines[0]!.includes(KEY.slice(7)), lines[0]);
    });
  }

  test("through the real entry point a bad key stops start-up with one line and exit code 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "twc-laravel-config-"));
    try {
      const run = await runUntilExit(
        serverEnv(join(dir, "c.db"), {
          PHP_SESSION_STORE: "files",
          LARAVEL_APP_KEY: "base64:c2VjcmV0LXZhbHVl",
        }),
      );
      assert.equal(run.listened, false);
      assert.equal(run.code, 1);
      const lines = run.stderr.split("\n").filter((l) => l.includes("LARAVEL_APP_KEY"));
      assert.equal(lines.length, 1, run.stderr);
      assert.ok(!run.stderr.includes("c2VjcmV0LXZhbHVl"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
