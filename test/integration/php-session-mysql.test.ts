/**
 * Signing in with the PHP session cookie, mysql store: real PHP writes sessions with a PDO
 * session handler into MariaDB, both into a Laravel-shaped `sessions` table (base64
 * php_serialize payload, `last_activity`, the user under `login_web_<sha1>`) and into a plain
 * table (raw `php` payload, an `expires_at` DATETIME). Live, destroyed and expired sessions are
 * told apart, and a dropped session disconnects at the next re-check.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { ResultSetHeader } from "mysql2/promise";
import { connectWithCookie, PAGE_ORIGIN, refusedWithCookie, watchDisconnect } from "../support/cookies.js";
import { requireService, startServer, type TestServer, until } from "../support/harness.js";
import { createTestDatabase, phpUsersTable, TEST_MARIADB, type TestDatabase } from "../support/mariadb.js";
import {
  LARAVEL_USER_KEY,
  type PhpSessionSetup,
  pdoSetup,
  phpDestroySession,
  phpStartSession,
} from "../support/php-session.js";

const skip = await requireService("mariadb", "php-mysql");
const RECHECK_WITHIN_MS = 8000;

/** Laravel's session ids: 40 random letters and digits. */
const laravelId = () =>
  randomBytes(30)
    .toString("base64")
    .replace(/[^A-Za-z0-9]/g, "")
    .slice(0, 40)
    .padEnd(40, "x");

describe("PHP session cookie, mysql store", { skip }, () => {
  let db: TestDatabase;
  let laravel: TestServer;
  let plain: TestServer;
  let missing: TestServer;
  let laravelSetup: PhpSessionSetup;
  let plainSetup: PhpSessionSetup;
  const users: Record<string, string> = {};

  before(async () => {
    db = await createTestDatabase();
    await db.conn.query(phpUsersTable());
    for (const name of ["ann", "bob", "cat"]) {
      const [r] = await db.conn.execute<ResultSetHeader>(
        "INSERT INTO users (username, first_name) VALUES (?, ?)",
        [name, name],
      );
      users[name] = String(r.insertId);
    }
    // Laravel's own migration for the database session driver
    await db.conn.query(`CREATE TABLE sessions (
      id VARCHAR(255) NOT NULL PRIMARY KEY, user_id BIGINT UNSIGNED NULL, ip_address VARCHAR(45) NULL,
      user_agent TEXT NULL, payload LONGTEXT NOT NULL, last_activity INT NOT NULL,
      INDEX sessions_user_id_index (user_id), INDEX sessions_last_activity_index (last_activity))`);
    await db.conn.query(
      "CREATE TABLE php_sessions (sess_id VARCHAR(128) NOT NULL PRIMARY KEY, sess_data BLOB NOT NULL, expires_at DATETIME NOT NULL)",
    );
    const pdo = {
      dsn: `mysql:host=${TEST_MARIADB.host};port=${TEST_MARIADB.port};dbname=${db.name};charset=utf8mb4`,
      user: TEST_MARIADB.user,
      password: TEST_MARIADB.password,
    };
    laravelSetup = pdoSetup({
      ...pdo,
      table: "sessions",
      idColumn: "id",
      dataColumn: "payload",
      timeColumn: "last_activity",
      base64: true,
      time: "unix",
      handler: "php_serialize",
    });
    plainSetup = pdoSetup({
      ...pdo,
      table: "php_sessions",
      idColumn: "sess_id",
      dataColumn: "sess_data",
      timeColumn: "expires_at",
      base64: false,
      time: "expires",
      handler: "php",
    });
    const common = { ...db.env, CORS_ORIGINS: PAGE_ORIGIN, AUTH_RECHECK_S: "1", PHP_SESSION_STORE: "mysql" };
    laravel = await startServer({ env: { ...common, PHP_SESSION_USER_KEY: LARAVEL_USER_KEY } });
    plain = await startServer({
      env: {
        ...common,
        PHP_SESSION_TABLE: "php_sessions",
        PHP_SESSION_ID_COLUMN: "sess_id",
        PHP_SESSION_DATA_COLUMN: "sess_data",
        PHP_SESSION_TIME_COLUMN: "expires_at",
        PHP_SESSION_TIME_IS: "expires_at",
      },
    });
    missing = await startServer({ env: { ...common, PHP_SESSION_TABLE: "no_such_table" } });
  });
  after(async () => {
    await Promise.all([laravel?.close(), plain?.close(), missing?.close()]);
    await db?.drop();
  });

  /** A Laravel session as the framework stores it, for `userId`. */
  const laravelSession = (userId: string) =>
    phpStartSession(
      laravelSetup,
      {
        _token: randomBytes(20).toString("hex"),
        _previous: { url: "https://timewise.test/dashboard" },
        _flash: { old: [], new: [] },
        [LARAVEL_USER_KEY]: Number(userId),
        password_hash_web: "$2y$10$abcdefghijklmnopqrstuv",
      },
      laravelId(),
    );
  const plainSession = (userId: string) => phpStartSession(plainSetup, { user_id: userId, lang: "日本語" });

  test("a Laravel session from the sessions table as it is signs the socket in", async () => {
    const id = await laravelSession(users.ann!);
    const [rows] = await db.conn.query<(ResultSetHeader & { payload: string })[]>(
      "SELECT payload FROM sessions WHERE id = ?",
      [id],
    );
    assert.match(rows[0]!.payload, /^[A-Za-z0-9+/]+=*$/, "stored base64, as Laravel does");
    const { socket, userId } = await connectWithCookie(laravel.url, {
      cookie: `laravel_session=x; PHPSESSID=${id}`,
    });
    assert.equal(userId, users.ann);
    socket.close();
  });

  test("a raw php-handler session with an expires_at DATETIME signs the socket in", async () => {
    const id = await plainSession(users.bob!);
    const { socket, userId } = await connectWithCookie(plain.url, { cookie: `PHPSESSID=${id}` });
    assert.equal(userId, users.bob);
    socket.close();
  });

  test("destroyed sessions are AUTH_INVALID and expired ones AUTH_EXPIRED, in both tables", async () => {
    const code = async (server: TestServer, id: string) =>
      (await refusedWithCookie(server.url, { cookie: `PHPSESSID=${id}` })).code;
    const l1 = await laravelSession(users.ann!);
    await phpDestroySession(laravelSetup, l1);
    assert.equal(await code(laravel, l1), "AUTH_INVALID");
    const l2 = await laravelSession(users.ann!);
    await db.conn.execute("UPDATE sessions SET last_activity = last_activity - 1500 WHERE id = ?", [l2]);
    assert.equal(await code(laravel, l2), "AUTH_EXPIRED");

    const p1 = await plainSession(users.bob!);
    await phpDestroySession(plainSetup, p1);
    assert.equal(await code(plain, p1), "AUTH_INVALID");
    const p2 = await plainSession(users.bob!);
    await db.conn.execute(
      "UPDATE php_sessions SET expires_at = NOW() - INTERVAL 1 MINUTE WHERE sess_id = ?",
      [p2],
    );
    assert.equal(await code(plain, p2), "AUTH_EXPIRED");
  });

  test("a connected socket is dropped at the next re-check when PHP destroys its session", async () => {
    const keep = await laravelSession(users.cat!);
    const drop = await laravelSession(users.cat!);
    const kept = await connectWithCookie(laravel.url, { cookie: `PHPSESSID=${keep}` });
    const dropped = await connectWithCookie(laravel.url, { cookie: `PHPSESSID=${drop}` });
    const keptGone = watchDisconnect(kept.socket);
    const droppedGone = watchDisconnect(dropped.socket);
    await phpDestroySession(laravelSetup, drop);
    await until(droppedGone, RECHECK_WITHIN_MS, "the socket of the destroyed session closed");
    assert.equal(keptGone(), false);
    kept.socket.close();
  });

  test("garbage and object payloads in the table are refused; a missing table is 'unavailable'", async () => {
    const put = (id: string, payload: string) =>
      db.conn.execute("INSERT INTO sessions (id, payload, last_activity) VALUES (?, ?, UNIX_TIMESTAMP())", [
        id,
        payload,
      ]);
    await put("garbagegarbagegarbagegarbage1", Buffer.from('a:1:{s:3:"bad').toString("base64"));
    await put(
      "objectobjectobjectobjectobjec1",
      Buffer.from(`a:1:{s:${LARAVEL_USER_KEY.length}:"${LARAVEL_USER_KEY}";O:8:"stdClass":0:{}}`).toString(
        "base64",
      ),
    );
    await put("notbase64notbase64notbase64n1", "%%%not base64 and not serialized%%%");
    for (const id of [
      "garbagegarbagegarbagegarbage1",
      "objectobjectobjectobjectobjec1",
      "notbase64notbase64notbase64n1",
    ]) {
      assert.equal(
        (await refusedWithCookie(laravel.url, { cookie: `PHPSESSID=${id}` })).code,
        "AUTH_INVALID",
        id,
      );
    }
    const id = await laravelSession(users.ann!);
    assert.deepEqual(await refusedWithCookie(missing.url, { cookie: `PHPSESSID=${id}` }), {
      message: "unavailable",
      code: "AUTH_UNAVAILABLE",
    });
  });
});
