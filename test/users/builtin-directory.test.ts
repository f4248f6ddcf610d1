/**
 * The built-in user directory in the chat database (the SQLite file, and PostgreSQL with
 * CHAT_DATABASE_URL: the same tests on both), and the `npm run users` command that manages it,
 * run as a real child process.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, beforeEach, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { ChatDatabase } from "../../src/app.js";
import { createLoginService } from "../../src/auth/login.js";
import { verifyPassword } from "../../src/auth/passwords.js";
import { createTokenService } from "../../src/auth/tokens.js";
import { loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/logger.js";
import { PostgresChatStore } from "../../src/storage/postgres/postgres-chat-store.js";
import { openDatabase } from "../../src/storage/sqlite/open.js";
import {
  BuiltinDirectory,
  LoginTakenError,
  type ManagedDirectory,
} from "../../src/users/builtin-directory.js";
import { createDirectory } from "../../src/users/create-directory.js";
import { PostgresDirectory } from "../../src/users/postgres-directory.js";
import { DirectoryUnavailableError } from "../../src/users/types.js";
import { createTestDatabase, requireService, type TestDatabase, tokenSettings } from "../support/harness.js";
import {
  checkSearchLeavesOut,
  checkSearchLimit,
  checkSearchLiteralWildcards,
  checkSearchRanking,
  logins,
  type SearchAsAlice,
} from "../support/user-search.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = join(ROOT, "src/users/cli.ts");
/** Resolved here, so the CLI can run in a directory of its own (away from any developer .env). */
const TSX = import.meta.resolve("tsx");

const temp = mkdtempSync(join(tmpdir(), "twc-builtin-"));
after(() => rmSync(temp, { recursive: true, force: true }));
let fileCounter = 0;
const newDbPath = () => join(temp, `chat-${++fileCounter}.db`);

const postgresSkip = await requireService("postgres");

/** One store's built-in directory, fresh for each test, and how to take its database away. */
interface Fixture {
  directory: ManagedDirectory;
  chat: ChatDatabase;
  /** closes the database under the directory */
  closeDatabase(): Promise<void>;
}

/** The SQLite file, or one PostgreSQL database for the whole describe, emptied before each test. */
const STORES: { name: string; skip: string | false; open(): Promise<Fixture> }[] = [
  {
    name: "SQLite",
    skip: false,
    async open() {
      const db = openDatabase(newDbPath());
      return {
        directory: new BuiltinDirectory(db),
        chat: { kind: "sqlite", db },
        closeDatabase: async () => {
          if (db.open) db.close();
        },
      };
    },
  },
  {
    name: "PostgreSQL",
    skip: postgresSkip,
    async open() {
      if (!shared) {
        const database = await createTestDatabase("directory", { schema: "migrated" });
        const opened = await PostgresChatStore.open({ url: database.url, max: 2 });
        shared = { store: opened };
        madeDatabases.push({ store: opened, database });
      }
      const { store } = shared;
      await store.sharedPool().query("TRUNCATE directory_users RESTART IDENTITY");
      return {
        directory: new PostgresDirectory(store.sharedPool()),
        chat: { kind: "postgres", store },
        closeDatabase: async () => {
          // the next test opens another database
          shared = null;
          await store.close();
        },
      };
    },
  },
];
let shared: { store: PostgresChatStore } | null = null;
/** every PostgreSQL database the directory tests made, dropped when the file is done */
const madeDatabases: { store: PostgresChatStore; database: TestDatabase }[] = [];
after(async () => {
  for (const { store, database } of madeDatabases) {
    await store.close(); // a second close does nothing
    await database.drop();
  }
});

for (const store of STORES) describeDirectory(store);

function describeDirectory(store: (typeof STORES)[number]): void {
  describe(`the built-in directory on ${store.name}`, { skip: store.skip }, () => {
    let fixture: Fixture;
    let directory: ManagedDirectory;

    beforeEach(async () => {
      fixture = await store.open();
      directory = fixture.directory;
    });
    afterEach(async () => {
      if (store.name === "SQLite") await fixture.closeDatabase();
    });

    test("createDirectory picks the built-in directory when MYSQL_HOST is unset", async () => {
      const config = loadConfig({ SQLITE_PATH: newDbPath() });
      assert.equal((await createDirectory(config, fixture.chat)).kind, "builtin");
    });

    test("add stores a user that findById, findByLogin and list return", async () => {
      const alice = await directory.add({ login: "alice", name: "Alice A", password: "pw" });
      assert.deepEqual(alice, {
        id: "1",
        login: "alice",
        name: "Alice A",
        active: true,
        scope: null,
        email: null,
      });
      const bob = await directory.add({
        login: "bob",
        name: "  Bob B ",
        scope: "7",
        active: false,
        email: " bob@example.com ",
      });
      assert.deepEqual(bob, {
        id: "2",
        login: "bob",
        name: "Bob B",
        active: false,
        scope: "7",
        email: "bob@example.com",
      });

      assert.deepEqual(await directory.findById("1"), alice);
      assert.deepEqual(await directory.list(), [alice, bob]);
      const found = await directory.findByLogin("ALICE");
      assert.equal(found?.id, "1");
      assert.match(found?.passwordHash ?? "", /^\$2y\$12\$/);
      assert.equal(await verifyPassword(found?.passwordHash ?? null, "pw"), true);
      assert.equal((await directory.findByLogin("bob"))?.passwordHash, null);
      assert.equal(await directory.findByLogin("nobody"), null);
    });

    test("setEmail sets, changes and removes an address; a malformed one is refused", async () => {
      await directory.add({ login: "erin", name: "Erin" });
      assert.equal((await directory.setEmail("erin", "erin@example.com"))?.email, "erin@example.com");
      assert.equal((await directory.findByLogin("ERIN"))?.email, "erin@example.com");
      assert.equal((await directory.setEmail("erin", ""))?.email, null);
      assert.equal((await directory.findById("1"))?.email, null);
      await assert.rejects(directory.setEmail("erin", "not an address"), /email address/);
      await assert.rejects(directory.add({ login: "finn", name: "Finn", email: "finn@" }), /email address/);
      assert.equal(await directory.setEmail("nobody", "x@example.com"), null);
    });

    test("a login that exists, in any case, is refused with LoginTakenError", async () => {
      await directory.add({ login: "alice", name: "Alice" });
      await directory.add({ login: "Ölaf", name: "Olaf" });
      for (const login of ["alice", "ALICE", " Alice ", "ölaf", "ÖLAF"]) {
        await assert.rejects(directory.add({ login, name: "Other" }), (error: unknown) => {
          assert.ok(error instanceof LoginTakenError, String(error));
          assert.match(error.message, /That login is already taken/);
          return true;
        });
      }
      assert.equal((await directory.list()).length, 2);
    });

    test("add refuses empty logins, logins with spaces, empty names and empty passwords", async () => {
      await assert.rejects(directory.add({ login: " ", name: "X" }), /login/);
      await assert.rejects(directory.add({ login: "a b", name: "X" }), /without spaces/);
      await assert.rejects(directory.add({ login: "ab", name: " " }), /name/);
      await assert.rejects(directory.add({ login: "ab", name: "X", password: "" }), /password/);
      assert.deepEqual(await directory.list(), []);
    });

    test("findById and findByIds answer only for existing, canonical ids, across chunks", async () => {
      const a = await directory.add({ login: "a", name: "A" });
      const b = await directory.add({ login: "b", name: "B" });
      assert.equal(await directory.findById("999"), null);
      assert.equal(await directory.findById("01"), null);
      assert.equal(await directory.findById("1.0"), null);
      assert.equal(await directory.findById("abc"), null);
      const ids = Array.from({ length: 1200 }, (_, i) => String(1000 + i));
      ids.push(b.id, "01", a.id, b.id);
      const found = await directory.findByIds(ids);
      assert.deepEqual([...found.keys()].sort(), ["1", "2"]);
    });

    test("setActive disables and enables by login or id; unknown users give null", async () => {
      const carol = await directory.add({ login: "carol", name: "Carol C" });
      assert.equal((await directory.setActive("CAROL", false))?.active, false);
      assert.equal((await directory.findById(carol.id))?.active, false);
      assert.equal((await directory.setActive(carol.id, true))?.active, true);
      assert.equal((await directory.findById(carol.id))?.active, true);
      assert.equal(await directory.setActive("nobody", false), null);
    });

    test("a login that looks like an id means that login, not the user with that id", async () => {
      await directory.add({ login: "first", name: "First" });
      const two = await directory.add({ login: "1", name: "Named One" });
      assert.equal((await directory.setActive("1", false))?.id, two.id);
      assert.equal((await directory.findById("1"))?.active, true);
    });

    test("setPassword replaces the password", async () => {
      await directory.add({ login: "dora", name: "Dora", password: "old" });
      assert.equal((await directory.setPassword("dora", "new one"))?.login, "dora");
      const hash = (await directory.findByLogin("dora"))?.passwordHash ?? null;
      assert.equal(await verifyPassword(hash, "new one"), true);
      assert.equal(await verifyPassword(hash, "old"), false);
      assert.equal(await directory.setPassword("nobody", "x"), null);
    });

    test("remove deletes a user for good", async () => {
      const erin = await directory.add({ login: "erin", name: "Erin" });
      assert.equal(await directory.remove("erin"), true);
      assert.equal(await directory.findById(erin.id), null);
      assert.equal(await directory.findByLogin("erin"), null);
      assert.equal(await directory.remove("erin"), false);
    });

    describe("search", () => {
      let ids: Record<string, string>;
      const search: SearchAsAlice = (query, options = {}) =>
        directory.search(query, { limit: 20, excludeId: ids.alice!, scope: "1", scoped: true, ...options });

      beforeEach(async () => {
        ids = {};
        const seeds: [string, string, string | null, boolean?][] = [
          ["alice", "Alice Anderson", "1"],
          ["ann", "Zoe Ann", "1"],
          ["bann", "Ann", "1"],
          ["annabel", "Annabel Lee", "1"],
          ["hannah", "Hannah Lee", "1"],
          ["joann", "Jo Ann", "1"],
          ["anne", "Anne Inactive", "1", false],
          ["ann2", "Anny Other", "2"],
          ["olaf", "Ölaf Öster", "1"],
          ["100%_real", "Percent Sign", "1"],
          ["100xxreal", "Not Percent", "1"],
          ["under_score", "Under Score", "1"],
          ["underxscore", "Under X", "1"],
          ["nobody", "No Scope", null],
        ];
        for (const [login, name, scope, active] of seeds) {
          ids[login] = (await directory.add({ login, name, scope, active: active ?? true })).id;
        }
      });

      test("ranks exact matches first, then prefixes, then other matches, each by name", async () => {
        await checkSearchRanking(search);
      });

      test("leaves out inactive users, the caller, and users of other scopes unless unscoped", async () => {
        await checkSearchLeavesOut(search, ids.bann!);
        assert.deepEqual(logins(await search("o", { scope: null })), ["nobody"]);
      });

      test("stops at the limit", async () => {
        await checkSearchLimit(search);
      });

      test("ignores the case of non-ASCII letters", async () => {
        assert.deepEqual(logins(await search("ölaf")), ["olaf"]);
        assert.deepEqual(logins(await search("ÖSTER")), ["olaf"]);
        // The same text in decomposed form (O + combining diaeresis) matches too.
        assert.deepEqual(logins(await search("O\u0308laf")), ["olaf"]);
      });

      test("treats % and _ as ordinary characters", async () => {
        await checkSearchLiteralWildcards(search);
      });

      test("an empty query lists the active users of the scope by name", async () => {
        assert.deepEqual(logins(await search("")), [
          "bann",
          "annabel",
          "hannah",
          "joann",
          "100xxreal",
          "100%_real",
          "under_score",
          "underxscore",
          "ann",
          "olaf",
        ]);
      });
    });

    test("ping answers, and a closed database is DirectoryUnavailableError", async () => {
      await directory.ping();
      await fixture.closeDatabase();
      await assert.rejects(directory.ping(), DirectoryUnavailableError);
      await assert.rejects(directory.findById("1"), DirectoryUnavailableError);
    });
  });
}

describe("npm run users (the CLI, as a child process)", () => {
  interface Run {
    code: number;
    stdout: string;
    stderr: string;
  }
  /** Runs the CLI in its own directory with a clean environment plus `env`. */
  const cli = (args: string[], env: Record<string, string> = {}, input?: string, cwd = temp) =>
    new Promise<Run>((resolve) => {
      const child = execFile(
        process.execPath,
        ["--import", TSX, CLI, ...args],
        { cwd, env: { PATH: process.env.PATH ?? "", ...env }, timeout: 30_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      child.stdin?.end(input ?? "");
    });

  test("add, then list shows the user and the password signs in", async () => {
    const sqlitePath = newDbPath();
    const added = await cli(["add", "bob", "--name", "Bob B", "--password", "pw"], {
      SQLITE_PATH: sqlitePath,
    });
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.stdout, "Added bob (id 1).\n");

    const listed = await cli(["list"], { SQLITE_PATH: sqlitePath });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID\s+LOGIN\s+NAME\s+STATUS/);
    assert.match(listed.stdout, /\n1\s+bob\s+Bob B\s+active/);

    const db = openDatabase(sqlitePath);
    try {
      const config = loadConfig({
        SQLITE_PATH: sqlitePath,
        AUTH_JWT_SECRET: "cli-test-secret-0123456789abcdef0123",
      });
      const tokens = createTokenService(tokenSettings(config.auth));
      const service = createLoginService({
        directory: await createDirectory(config, { kind: "sqlite", db }),
        tokens,
        logger: createLogger("silent"),
      });
      const result = await service.login("bob", "pw", "127.0.0.1");
      assert.deepEqual(result.user, { id: "1", name: "Bob B" });
      assert.equal((await tokens.verify(result.token)).userId, "1");
    } finally {
      db.close();
    }
  });

  test("disable, enable, passwd and remove change the user, with friendly output", async () => {
    const env = { SQLITE_PATH: newDbPath() };
    assert.equal((await cli(["add", "carol", "--name", "Carol C", "--scope", "9"], env)).code, 0);
    assert.equal((await cli(["disable", "carol"], env)).stdout, "Disabled carol.\n");
    assert.match((await cli(["list"], env)).stdout, /carol\s+Carol C\s+disabled\s+9/);
    assert.equal((await cli(["enable", "CAROL"], env)).stdout, "Enabled carol.\n");
    assert.match((await cli(["list"], env)).stdout, /carol\s+Carol C\s+active\s+9/);

    const passwd = await cli(["passwd", "carol", "--password-stdin"], env, "from stdin\n");
    assert.equal(passwd.stdout, "Changed the password of carol.\n", passwd.stderr);
    const db = openDatabase(env.SQLITE_PATH);
    try {
      const hash = (await new BuiltinDirectory(db).findByLogin("carol"))?.passwordHash ?? null;
      assert.equal(await verifyPassword(hash, "from stdin"), true);
    } finally {
      db.close();
    }

    assert.equal((await cli(["remove", "carol"], env)).stdout, "Removed carol.\n");
    assert.match((await cli(["list"], env)).stdout, /No users yet/);
  });

  test("--email on add, and the email command, keep the address a digest goes to", async () => {
    const env = { SQLITE_PATH: newDbPath() };
    assert.equal(
      (await cli(["add", "gail", "--name", "Gail G", "--email", "gail@example.com"], env)).code,
      0,
    );
    const read = async () => {
      const db = openDatabase(env.SQLITE_PATH);
      try {
        return (await new BuiltinDirectory(db).findByLogin("gail"))?.email;
      } finally {
        db.close();
      }
    };
    assert.equal(await read(), "gail@example.com");
    const changed = await cli(["email", "gail", "--email", "g@example.org"], env);
    assert.equal(changed.stdout, "gail's email is now g@example.org.\n", changed.stderr);
    assert.equal(await read(), "g@example.org");
    assert.equal((await cli(["email", "gail", "--email", ""], env)).stdout, "gail has no email now.\n");
    assert.equal(await read(), null);
    const bad = await cli(["email", "gail", "--email", "nope"], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /email address/);
  });

  test("the password can come from CHAT_USER_PASSWORD, and a ./.env file is read", async () => {
    const cwd = mkdtempSync(join(temp, "cwd-"));
    const sqlitePath = join(cwd, "from-dotenv.db");
    writeFileSync(join(cwd, ".env"), `SQLITE_PATH=${sqlitePath}\n`);
    const added = await cli(
      ["add", "dora", "--name", "Dora D"],
      { CHAT_USER_PASSWORD: "env secret" },
      undefined,
      cwd,
    );
    assert.equal(added.code, 0, added.stderr);
    const db = openDatabase(sqlitePath);
    try {
      const hash = (await new BuiltinDirectory(db).findByLogin("dora"))?.passwordHash ?? null;
      assert.equal(await verifyPassword(hash, "env secret"), true);
    } finally {
      db.close();
    }
  });

  test("mistakes exit non-zero with one clear line", async () => {
    const env = { SQLITE_PATH: newDbPath() };
    assert.equal((await cli(["add", "erin", "--name", "Erin"], env)).code, 0);
    const cases: [string[], RegExp][] = [
      [["add", "ERIN", "--name", "Other"], /already taken/],
      [["add", "frank"], /--name/],
      [["disable", "nobody"], /no user "nobody"/],
      [["passwd", "erin"], /new password/],
      [["frobnicate"], /Use one of add, list/],
      [["list", "--bogus"], /--help/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args, env);
      assert.notEqual(run.code, 0, args.join(" "));
      assert.match(run.stderr, message, args.join(" "));
      assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    }
  });

  test("with CHAT_DATABASE_URL it manages the users in PostgreSQL, where the server signs them in", {
    skip: postgresSkip,
  }, async () => {
    // an empty database: the CLI brings its schema up to date, as a first server start would
    const database = await createTestDatabase("usercli");
    try {
      const sqlitePath = newDbPath();
      const env = { CHAT_DATABASE_URL: database.url, SQLITE_PATH: sqlitePath };
      const added = await cli(["add", "gil", "--name", "Gil G", "--password", "pg pw", "--scope", "4"], env);
      assert.equal(added.code, 0, added.stderr);
      assert.equal(added.stdout, "Added gil (id 1).\n");
      assert.equal((await cli(["add", "hal", "--name", "Hal H"], env)).code, 0);
      assert.equal((await cli(["disable", "HAL"], env)).stdout, "Disabled hal.\n");
      const listed = await cli(["list"], env);
      assert.match(listed.stdout, /\n1\s+gil\s+Gil G\s+active\s+4\n2\s+hal\s+Hal H\s+disabled\n?$/);
      // nothing went to the SQLite file: the server with CHAT_DATABASE_URL never reads it
      assert.match((await cli(["list"], { SQLITE_PATH: sqlitePath })).stdout, /No users yet/);

      const store = await PostgresChatStore.open({ url: database.url, max: 1 });
      try {
        const config = loadConfig({
          CHAT_DATABASE_URL: database.url,
          SQLITE_PATH: sqlitePath,
          AUTH_JWT_SECRET: "cli-test-secret-0123456789abcdef0123",
        });
        const tokens = createTokenService(tokenSettings(config.auth));
        const service = createLoginService({
          directory: await createDirectory(config, { kind: "postgres", store }),
          tokens,
          logger: createLogger("silent"),
        });
        const result = await service.login("GIL", "pg pw", "127.0.0.1");
        assert.deepEqual(result.user, { id: "1", name: "Gil G" });
        assert.equal((await new PostgresDirectory(store.sharedPool()).findById("2"))?.active, false);
      } finally {
        await store.close();
      }
      assert.equal((await cli(["remove", "gil"], env)).stdout, "Removed gil.\n");
      assert.doesNotMatch((await cli(["list"], env)).stdout, /gil/);
    } finally {
      await database.drop();
    }
  });

  test("with MYSQL_HOST set it refuses and points to the PHP app", async () => {
    const run = await cli(["list"], { SQLITE_PATH: newDbPath(), MYSQL_HOST: "127.0.0.1" });
    assert.equal(run.code, 1);
    assert.equal(run.stderr, "TimeWise Chat reads users from the PHP app's MySQL; manage them there.\n");
  });

  test("--help explains the commands and how to keep passwords out of shell history", async () => {
    const run = await cli(["--help"]);
    assert.equal(run.code, 0);
    for (const word of [
      "add",
      "list",
      "disable",
      "enable",
      "passwd",
      "remove",
      "--password-stdin",
      "CHAT_USER_PASSWORD",
    ]) {
      assert.ok(run.stdout.includes(word), word);
    }
  });
});
