/**
 * The MySQL user directory, password checks and password sign-in, against a real MariaDB with a
 * PHP-style users table whose password hashes were made by real PHP.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createLoginService, LoginFailedError } from "../../src/auth/login.js";
import { hashPassword, verifyPassword } from "../../src/auth/passwords.js";
import { createTokenService } from "../../src/auth/tokens.js";
import { type Config, loadConfig } from "../../src/config/index.js";
import { AppError } from "../../src/errors.js";
import { createLogger } from "../../src/logger.js";
import { CachedDirectory } from "../../src/users/cached-directory.js";
import { MysqlDirectory, type MysqlDirectoryOptions } from "../../src/users/mysql-directory.js";
import { DirectoryUnavailableError } from "../../src/users/types.js";
import { requireService, TestClock, tokenSettings } from "../support/harness.js";
import { createTestDatabase, phpUsersTable, type TestDatabase } from "../support/mariadb.js";
import { phpPasswordHash, phpPasswordVerify } from "../support/php.js";
import {
  checkSearchLeavesOut,
  checkSearchLimit,
  checkSearchLiteralWildcards,
  checkSearchRanking,
  logins,
  type SearchAsAlice,
} from "../support/user-search.js";

const noPhp = await requireService("php");
const noMariaDb = await requireService("mariadb");
const noBoth = noMariaDb || noPhp;

const SECRET = "mysql-directory-test-secret-0123456789abcdef";
const logger = createLogger("silent");

interface Seed {
  username: string;
  first: string | null;
  last: string | null;
  password?: string | null;
  active?: 0 | 1;
  company?: number | null;
}

/** Makes a config for `db` with the PHP-style column mapping, plus `env` overrides. */
function configFor(db: TestDatabase, env: Record<string, string> = {}): Config {
  return loadConfig({
    ...db.env,
    AUTH_JWT_SECRET: SECRET,
    USERS_NAME_COLUMN: "first_name,last_name",
    USERS_ACTIVE_COLUMN: "active",
    USERS_SCOPE_COLUMN: "company_id",
    ...env,
  });
}

function directoryFor(config: Config, options?: MysqlDirectoryOptions): MysqlDirectory {
  assert.ok(config.mysql);
  return new MysqlDirectory(config.mysql, config.users, options);
}

async function insertUsers(db: TestDatabase, table: string, seeds: Seed[]): Promise<Record<string, string>> {
  for (const s of seeds) {
    await db.conn.query(
      `INSERT INTO \`${table}\` (username, first_name, last_name, password, active, company_id) VALUES (?, ?, ?, ?, ?, ?)`,
      [
        s.username,
        s.first,
        s.last,
        s.password ?? null,
        s.active ?? 1,
        s.company === undefined ? 1 : s.company,
      ],
    );
  }
  const [rows] = await db.conn.query(`SELECT id, username FROM \`${table}\``);
  const ids: Record<string, string> = {};
  for (const row of rows as { id: number; username: string }[]) ids[row.username] = String(row.id);
  return ids;
}

describe("verifyPassword with hashes made by PHP's password_hash", { skip: noPhp }, () => {
  test("accepts the right password for a PHP bcrypt $2y$ hash and refuses a wrong one", async () => {
    const hash = await phpPasswordHash("correct horse", "PASSWORD_BCRYPT");
    assert.match(hash, /^\$2y\$10\$/);
    assert.equal(await verifyPassword(hash, "correct horse"), true);
    assert.equal(await verifyPassword(hash, "correct horsE"), false);
    assert.equal(await verifyPassword(hash, ""), false);
  });

  test("accepts the right password for PHP argon2id and argon2i hashes and refuses a wrong one", async () => {
    for (const algo of ["PASSWORD_ARGON2ID", "PASSWORD_ARGON2I"] as const) {
      const hash = await phpPasswordHash("pässwörd ✓", algo);
      assert.match(hash, /^\$argon2id?\$v=19\$m=/);
      assert.equal(await verifyPassword(hash, "pässwörd ✓"), true, algo);
      assert.equal(await verifyPassword(hash, "passwort"), false, algo);
    }
  });

  test("refuses null, unknown formats, damaged hashes and passwords over 4096 bytes", async () => {
    const hash = await phpPasswordHash("x".repeat(5000), "PASSWORD_ARGON2ID");
    assert.equal(await verifyPassword(hash, "x".repeat(5000)), false);
    assert.equal(await verifyPassword(null, "secret"), false);
    assert.equal(await verifyPassword("secret", "secret"), false);
    assert.equal(await verifyPassword("$1$abc$def", "secret"), false);
    assert.equal(await verifyPassword("$argon2id$v=19$m=65536,t=4,p=1$AAAA$BBBB", "secret"), false);
    assert.equal(await verifyPassword("$2y$10$tooshort", "secret"), false);
  });

  test("hashPassword makes cost-12 $2y$ hashes that PHP's password_verify accepts", async () => {
    const hash = await hashPassword("made in node");
    assert.match(hash, /^\$2y\$12\$/);
    assert.equal(await phpPasswordVerify("made in node", hash), true);
    assert.equal(await phpPasswordVerify("made in nodE", hash), false);
  });
});

describe("MysqlDirectory over a PHP-style users table", { skip: noBoth }, () => {
  let db: TestDatabase;
  let config: Config;
  let directory: MysqlDirectory;
  let ids: Record<string, string>;
  const search: SearchAsAlice = (query, options = {}) =>
    directory.search(query, { limit: 20, excludeId: ids.alice!, scope: "1", scoped: true, ...options });

  before(async () => {
    db = await createTestDatabase();
    await db.conn.query(phpUsersTable());
    const bcrypt = await phpPasswordHash("secret", "PASSWORD_BCRYPT");
    const argon = await phpPasswordHash("argon secret", "PASSWORD_ARGON2ID");
    ids = await insertUsers(db, "users", [
      { username: "alice", first: "Alice", last: "Anderson", password: bcrypt },
      { username: "bob", first: "Bob", last: "Builder", password: argon },
      { username: "carol", first: "Carol", last: null, password: bcrypt, active: 0 },
      { username: "dave", first: "Dave", last: "Davis", password: bcrypt, company: 2 },
      { username: "ann", first: "Zoe", last: "Ann" },
      { username: "bann", first: "Ann", last: null },
      { username: "annabel", first: "Annabel", last: "Lee" },
      { username: "hannah", first: "Hannah", last: "Lee" },
      { username: "joann", first: "Jo", last: "Ann" },
      { username: "anne", first: "Anne", last: "Inactive", active: 0 },
      { username: "ann2", first: "Anny", last: "Other", company: 2 },
      { username: "100%_real", first: "Percent", last: "Sign" },
      { username: "100xxreal", first: "Not", last: "Percent" },
      { username: "under_score", first: "Under", last: "Score" },
      { username: "underxscore", first: "Under", last: "X" },
    ]);
    config = configFor(db);
    directory = directoryFor(config);
  });

  after(async () => {
    await directory?.close();
    await db?.drop();
  });

  test("findById reads the mapped columns: several name columns joined, active and scope as strings", async () => {
    assert.deepEqual(await directory.findById(ids.alice!), {
      id: ids.alice,
      login: "alice",
      name: "Alice Anderson",
      active: true,
      scope: "1",
      // the table has no email column (USERS_EMAIL_COLUMN defaults to email): nobody has an address
      email: null,
    });
    // A NULL last name is skipped, not shown as "Carol " or "Carol NULL".
    assert.deepEqual(await directory.findById(ids.carol!), {
      id: ids.carol,
      login: "carol",
      name: "Carol",
      active: false,
      scope: "1",
      email: null,
    });
    assert.equal((await directory.findById(ids.dave!))?.scope, "2");
  });

  test("findById answers null for unknown and non-canonical ids", async () => {
    assert.equal(await directory.findById("999999"), null);
    // MySQL would compare "1abc" = 1 on an INT column; the directory must not.
    assert.equal(await directory.findById(`${ids.alice}abc`), null);
    assert.equal(await directory.findById(`0${ids.alice}`), null);
    assert.equal(await directory.findById(""), null);
  });

  test("findByIds returns only the users that exist, across several chunks of ids", async () => {
    const many = Array.from({ length: 1200 }, (_, i) => String(100_000 + i));
    many.splice(3, 0, ids.alice!);
    many.splice(700, 0, ids.bob!);
    many.push(ids.carol!, ids.alice!);
    const found = await directory.findByIds(many);
    assert.deepEqual([...found.keys()].sort(), [ids.alice, ids.bob, ids.carol].sort());
    assert.equal(found.get(ids.bob!)?.name, "Bob Builder");
    assert.equal((await directory.findByIds([])).size, 0);
  });

  test("findByLogin finds the user and the PHP password hash, ignoring case like the table's collation", async () => {
    const alice = await directory.findByLogin("ALICE");
    assert.equal(alice?.id, ids.alice);
    assert.match(alice?.passwordHash ?? "", /^\$2y\$/);
    const bob = await directory.findByLogin("bob");
    assert.match(bob?.passwordHash ?? "", /^\$argon2id\$/);
    assert.equal((await directory.findByLogin("carol"))?.active, false);
    assert.equal((await directory.findByLogin("ann"))?.passwordHash, null);
    assert.equal(await directory.findByLogin("nobody"), null);
  });

  test("search ranks exact matches first, then prefixes, then other matches, each by name", async () => {
    await checkSearchRanking(search);
  });

  test("search leaves out inactive users, the caller, and users of other scopes unless unscoped", async () => {
    await checkSearchLeavesOut(search, ids.bann!);
    assert.deepEqual(logins(await search("a", { scope: "2", excludeId: "0" })), ["ann2", "dave"]);
    assert.deepEqual(logins(await search("carol")), []);
  });

  test("search stops at the limit", async () => {
    await checkSearchLimit(search);
    assert.deepEqual(logins(await search("ann", { limit: 1 })), ["bann"]);
  });

  test("search treats % and _ as ordinary characters", async () => {
    await checkSearchLiteralWildcards(search);
    assert.deepEqual(logins(await search("%")), ["100%_real"]);
    assert.deepEqual(logins(await search("!")), []);
  });

  test("an empty search lists the active users of the scope by name", async () => {
    assert.deepEqual(logins(await search("")), [
      "bann",
      "annabel",
      "bob",
      "hannah",
      "joann",
      "100xxreal",
      "100%_real",
      "under_score",
      "underxscore",
      "ann",
    ]);
    assert.deepEqual(logins(await search("  ", { limit: 3 })), ["bann", "annabel", "bob"]);
  });

  test("without USERS_ACTIVE_COLUMN and USERS_SCOPE_COLUMN everyone is active and unscoped", async () => {
    const plain = directoryFor(
      configFor(db, { USERS_ACTIVE_COLUMN: "", USERS_SCOPE_COLUMN: "", USERS_NAME_COLUMN: "first_name" }),
    );
    try {
      assert.deepEqual(await plain.findById(ids.carol!), {
        id: ids.carol,
        login: "carol",
        name: "Carol",
        active: true,
        scope: null,
        email: null,
      });
      assert.equal((await plain.findById(ids.alice!))?.name, "Alice");
      assert.deepEqual(
        logins(await plain.search("carol", { limit: 5, excludeId: "0", scope: null, scoped: false })),
        ["carol"],
      );
    } finally {
      await plain.close();
    }
  });

  test("email addresses come from USERS_EMAIL_COLUMN (default email) when the table has it; empty is none", async () => {
    await db.conn.query(phpUsersTable("staff"));
    await db.conn.query(
      "ALTER TABLE staff ADD COLUMN email VARCHAR(255) NULL, ADD COLUMN work_mail VARCHAR(255) NULL",
    );
    await db.conn.query(
      "INSERT INTO staff (username, first_name, email, work_mail) VALUES ('erin', 'Erin', 'erin@example.com', 'erin@work.example'), ('finn', 'Finn', '', NULL)",
    );
    const [rows] = await db.conn.query("SELECT id, username FROM staff ORDER BY id");
    const [erin, finn] = (rows as { id: number }[]).map((r) => String(r.id)) as [string, string];
    const byDefault = directoryFor(configFor(db, { USERS_TABLE: "staff" }));
    const byName = directoryFor(configFor(db, { USERS_TABLE: "staff", USERS_EMAIL_COLUMN: "work_mail" }));
    try {
      assert.equal((await byDefault.findById(erin))?.email, "erin@example.com");
      assert.equal((await byDefault.findById(finn))?.email, null, "an empty address is none");
      assert.equal((await byDefault.findByLogin("ERIN"))?.email, "erin@example.com");
      assert.equal((await byName.findById(erin))?.email, "erin@work.example");
      assert.equal((await byName.findById(finn))?.email, null);
    } finally {
      await byDefault.close();
      await byName.close();
    }
  });

  test("ping answers when MySQL does", async () => {
    await directory.ping();
  });

  test("a missing users table is DirectoryUnavailableError naming the setting to check", async () => {
    const wrong = directoryFor(configFor(db, { USERS_TABLE: "no_such_table" }));
    try {
      const error = await wrong.findById(ids.alice!).catch((e: unknown) => e);
      assert.ok(error instanceof DirectoryUnavailableError);
      assert.match(String((error.cause as Error).message), /USERS_TABLE/);
      await assert.rejects(
        wrong.ping().then(() => wrong.search("a", { limit: 1, excludeId: "0", scope: null, scoped: false })),
        DirectoryUnavailableError,
      );
    } finally {
      await wrong.close();
    }
  });

  test("a locked table makes a query fail with DirectoryUnavailableError after the query timeout", async () => {
    const slow = directoryFor(config, { queryTimeoutMs: 300 });
    await db.conn.query("LOCK TABLES users WRITE");
    try {
      const started = Date.now();
      await assert.rejects(slow.findById(ids.alice!), DirectoryUnavailableError);
      assert.ok(Date.now() - started < 3000, "gave up within seconds");
    } finally {
      await db.conn.query("UNLOCK TABLES");
      await slow.close();
    }
  });

  test("a closed directory answers DirectoryUnavailableError", async () => {
    const closed = directoryFor(config);
    await closed.close();
    await assert.rejects(closed.findById(ids.alice!), DirectoryUnavailableError);
  });

  describe("password sign-in", () => {
    const login = (limits?: Parameters<typeof createLoginService>[0]["limits"]) =>
      createLoginService({
        directory,
        tokens: createTokenService(tokenSettings(config.auth)),
        logger,
        limits,
      });

    test("the right password gives a token that names the user", async () => {
      const service = login();
      const result = await service.login("alice", "secret", "10.0.0.1");
      assert.deepEqual(result.user, { id: ids.alice, name: "Alice Anderson" });
      const verified = await createTokenService(tokenSettings(config.auth)).verify(result.token);
      assert.equal(verified.userId, ids.alice);
      const argon = await service.login("bob", "argon secret", "10.0.0.1");
      assert.equal(argon.user.id, ids.bob);
    });

    test("a wrong password, an unknown user and an inactive user get the same LoginFailedError", async () => {
      const service = login();
      for (const [username, password] of [
        ["alice", "wrong"],
        ["nobody", "secret"],
        ["carol", "secret"],
        ["ann", "anything"],
      ] as const) {
        const error = await service.login(username, password, "10.0.0.2").catch((e: unknown) => e);
        assert.ok(error instanceof LoginFailedError, `${username}: ${String(error)}`);
        assert.equal(error.message, "Wrong username or password.");
      }
    });

    test("an unknown user takes about as long as a wrong password", async () => {
      const service = login({ perIp: 1000, ipWindowS: 60, perUsername: 1000, usernameWindowS: 60 });
      const median = async (username: string) => {
        const times: number[] = [];
        for (let i = 0; i < 5; i++) {
          const started = performance.now();
          await service.login(username, "wrong", "10.0.0.3").catch(() => {});
          times.push(performance.now() - started);
        }
        return times.sort((a, b) => a - b)[2]!;
      };
      await median("nobody-warmup");
      const known = await median("alice");
      const unknown = await median("nobody");
      assert.ok(unknown > known / 3 && unknown < known * 3, `known ${known} ms, unknown ${unknown} ms`);
    });

    test("malformed input is BAD_REQUEST", async () => {
      const service = login();
      for (const [username, password] of [
        ["", "secret"],
        ["alice", ""],
        [42, "secret"],
        ["alice", null],
        ["a".repeat(256), "secret"],
        ["alice", "ü".repeat(3000)],
      ]) {
        const error = await service.login(username, password, "10.0.0.4").catch((e: unknown) => e);
        assert.ok(error instanceof AppError && error.code === "BAD_REQUEST", String(error));
      }
    });

    test("ten failures for one username, from any address, make the next attempt RATE_LIMITED", async () => {
      const service = login();
      for (let i = 0; i < 10; i++) {
        await assert.rejects(service.login("dave", "wrong", `10.1.0.${i}`), LoginFailedError);
      }
      const error = await service.login("DAVE", "secret", "10.1.1.1").catch((e: unknown) => e);
      assert.ok(error instanceof AppError, String(error));
      assert.equal(error.code, "RATE_LIMITED");
      assert.equal(error.message, "Too many sign-in attempts. Please wait and try again.");
      assert.ok((error.retryAfterMs ?? 0) > 0);
    });

    test("a successful sign-in forgives the earlier failures of that username", async () => {
      const service = login({ perIp: 100, ipWindowS: 60, perUsername: 3, usernameWindowS: 300 });
      for (let round = 0; round < 3; round++) {
        await assert.rejects(service.login("alice", "wrong", "10.2.0.1"), LoginFailedError);
        await assert.rejects(service.login("alice", "wrong", "10.2.0.1"), LoginFailedError);
        await service.login("alice", "secret", "10.2.0.1");
      }
    });

    test("too many failed attempts from one address are RATE_LIMITED whatever the username", async () => {
      const service = login({ perIp: 3, ipWindowS: 60, perUsername: 100, usernameWindowS: 300 });
      // successes are not counted against the address
      await service.login("alice", "secret", "10.3.0.1");
      await assert.rejects(service.login("x1", "wrong", "10.3.0.1"), LoginFailedError);
      await assert.rejects(service.login("x2", "wrong", "10.3.0.1"), LoginFailedError);
      await assert.rejects(service.login("x3", "wrong", "10.3.0.1"), LoginFailedError);
      const error = await service.login("alice", "secret", "10.3.0.1").catch((e: unknown) => e);
      assert.ok(error instanceof AppError && error.code === "RATE_LIMITED", String(error));
      assert.ok((error.retryAfterMs ?? 0) > 0);
      // Another address is not affected.
      await service.login("alice", "secret", "10.3.0.2");
    });

    test("an unreachable directory is DirectoryUnavailableError, not a wrong password", async () => {
      const down = directoryFor(configFor(db, { MYSQL_PORT: "1" }));
      try {
        const service = createLoginService({
          directory: down,
          tokens: createTokenService(tokenSettings(config.auth)),
          logger,
        });
        await assert.rejects(service.login("alice", "secret", "10.4.0.1"), DirectoryUnavailableError);
      } finally {
        await down.close();
      }
    });
  });

  describe("CachedDirectory over MySQL", () => {
    /** The real MySQL directory, counting the queries it sends. */
    class CountingDirectory extends MysqlDirectory {
      queries = 0;
      idsAsked: string[] = [];
      override async findByIds(list: readonly string[]) {
        this.queries += 1;
        this.idsAsked.push(...list);
        return super.findByIds(list);
      }
    }
    const counting = (env: Record<string, string> = {}) => {
      const c = configFor(db, env);
      assert.ok(c.mysql);
      return new CountingDirectory(c.mysql, c.users);
    };

    test("200 concurrent lookups of the same 5 ids send one query, then none while cached", async () => {
      const inner = counting();
      const cached = new CachedDirectory(inner);
      try {
        const five = [ids.alice!, ids.bob!, ids.carol!, ids.dave!, ids.ann!];
        const users = await Promise.all(Array.from({ length: 200 }, (_, i) => cached.findById(five[i % 5]!)));
        // lookups that start within the batch window share one query
        assert.equal(inner.queries, 1);
        const logins = ["alice", "bob", "carol", "dave", "ann"];
        assert.deepEqual(
          users.map((u) => [u?.id, u?.login]),
          users.map((_, i) => [five[i % 5], logins[i % 5]]),
          "each lookup gets its own user",
        );
        const before = inner.queries;
        await Promise.all(five.map((id) => cached.findById(id)));
        assert.equal(inner.queries, before);
      } finally {
        await cached.close();
      }
    });

    test("findByIds leaves out an id that matches nobody, asked fresh and from the cache alike", async () => {
      const inner = counting();
      const cached = new CachedDirectory(inner);
      try {
        for (const round of ["fresh", "cached"]) {
          const found = await cached.findByIds([ids.alice!, "999999"]);
          assert.deepEqual([...found.keys()], [ids.alice], `${round}: only the known user`);
          assert.equal(found.get(ids.alice!)?.login, "alice");
        }
        assert.equal(inner.queries, 1, "the second round came from the cache");
      } finally {
        await cached.close();
      }
    });

    test("a reconnect storm of 2,000 lookups for 300 users asks for each user once", async () => {
      const table = "storm_users";
      await db.conn.query(phpUsersTable(table));
      const seeds = Array.from({ length: 300 }, (_, i) => [`storm${i}`, `Storm ${i}`]);
      await db.conn.query(`INSERT INTO ${table} (username, first_name) VALUES ?`, [seeds]);
      const [rows] = await db.conn.query(`SELECT id FROM ${table}`);
      const stormIds = (rows as { id: number }[]).map((r) => String(r.id));
      const inner = counting({ USERS_TABLE: table });
      const cached = new CachedDirectory(inner);
      try {
        const users = await Promise.all(
          Array.from({ length: 2000 }, (_, i) => cached.findById(stormIds[(i * 7) % 300]!)),
        );
        assert.ok(users.every((u) => u !== null));
        // lookups that start within the batch window share one query
        assert.equal(inner.queries, 1);
        assert.equal(inner.idsAsked.length, 300);
      } finally {
        await cached.close();
      }
    });

    test("refresh sees a user disabled in MySQL and updates what findById answers", async () => {
      const inner = counting();
      const cached = new CachedDirectory(inner);
      try {
        assert.equal((await cached.findById(ids.hannah!))?.active, true);
        await db.conn.query("UPDATE users SET active = 0 WHERE id = ?", [ids.hannah]);
        assert.equal((await cached.findById(ids.hannah!))?.active, true, "still cached");
        const fresh = await cached.refresh([ids.hannah!, "999999"]);
        assert.equal(fresh.get(ids.hannah!)?.active, false);
        assert.equal(fresh.has("999999"), false);
        const queries = inner.queries;
        assert.equal((await cached.findById(ids.hannah!))?.active, false);
        assert.equal(await cached.findById("999999"), null);
        assert.equal(inner.queries, queries, "answered from the refreshed cache");
        cached.invalidate(ids.hannah!);
        await cached.findById(ids.hannah!);
        assert.equal(inner.queries, queries + 1);
      } finally {
        await db.conn.query("UPDATE users SET active = 1 WHERE id = ?", [ids.hannah]);
        await cached.close();
      }
    });

    test("an unknown id is remembered only briefly, so a user created in PHP soon appears", async () => {
      const inner = counting();
      const clock = new TestClock();
      const cached = new CachedDirectory(inner, { missingTtlMs: 200, now: clock.now });
      try {
        const [rows] = await db.conn.query("SELECT MAX(id) + 1 AS next FROM users");
        const next = String((rows as { next: number }[])[0]!.next);
        assert.equal(await cached.findById(next), null);
        assert.equal(inner.queries, 1);
        await insertUsers(db, "users", [{ username: "newcomer", first: "New", last: "Comer" }]);
        clock.advance(150);
        assert.equal(await cached.findById(next), null, "the miss is cached");
        assert.equal(inner.queries, 1, "answered from the cache");
        clock.advance(100);
        assert.equal((await cached.findById(next))?.login, "newcomer", "the miss is forgotten after 200 ms");
        assert.equal(inner.queries, 2);
      } finally {
        await cached.close();
      }
    });

    test("a failure is not cached: the next lookup asks MySQL again", async () => {
      const table = "late_users";
      const inner = counting({ USERS_TABLE: table });
      const cached = new CachedDirectory(inner);
      try {
        const all = await Promise.allSettled(Array.from({ length: 20 }, () => cached.findById("1")));
        assert.ok(all.every((r) => r.status === "rejected" && r.reason instanceof DirectoryUnavailableError));
        await db.conn.query(phpUsersTable(table));
        await insertUsers(db, table, [{ username: "late", first: "Late", last: "Comer" }]);
        const [rows] = await db.conn.query(`SELECT id FROM ${table}`);
        const id = String((rows as { id: number }[])[0]!.id);
        assert.equal((await cached.findById(id))?.login, "late");
      } finally {
        await cached.close();
      }
    });
  });
});

describe("MysqlDirectory without a reachable MySQL", () => {
  test("a closed port is DirectoryUnavailableError within a second, and construction does not throw", async () => {
    const config = loadConfig({ MYSQL_HOST: "127.0.0.1", MYSQL_PORT: "1", AUTH_JWT_SECRET: SECRET });
    assert.ok(config.mysql);
    const directory = new MysqlDirectory(config.mysql, config.users);
    try {
      const started = Date.now();
      const error = await directory.ping().catch((e: unknown) => e);
      assert.ok(error instanceof DirectoryUnavailableError, String(error));
      assert.match(String((error.cause as Error).message), /refused the connection/);
      await assert.rejects(directory.findById("1"), DirectoryUnavailableError);
      await assert.rejects(directory.findByLogin("alice"), DirectoryUnavailableError);
      assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
    } finally {
      await directory.close();
    }
  });
});
