/**
 * Start-up with bad settings, through the real entry point: one line per bad variable on stderr,
 * exit code 1, never listening, and secrets never echoed.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { after, describe, test } from "node:test";
import { runUntilExit, serverEnv, spawnServer, tempDir } from "../support/harness.js";

const scratch = tempDir();
after(() => scratch.remove());
const sqlite = (name: string) => `${scratch.dir}/${name}.db`;

/** Each case: the settings to add and the variable the error must name. */
const BAD_SETTINGS: { name: string; env: Record<string, string>; variable: string }[] = [
  { name: "a port that is not a number", env: { CHAT_PORT: "abc" }, variable: "CHAT_PORT" },
  { name: "a port above 65535", env: { CHAT_PORT: "70000" }, variable: "CHAT_PORT" },
  { name: "a users table name with SQL in it", env: { USERS_TABLE: "users; DROP" }, variable: "USERS_TABLE" },
  {
    name: "a name column list with a space inside a name",
    env: { USERS_NAME_COLUMN: "first_name,last name" },
    variable: "USERS_NAME_COLUMN",
  },
  { name: "an id column with a quote", env: { USERS_ID_COLUMN: "id`" }, variable: "USERS_ID_COLUMN" },
  { name: "a maximum message length of 0", env: { MAX_MESSAGE_LENGTH: "0" }, variable: "MAX_MESSAGE_LENGTH" },
  { name: "a wildcard CORS origin", env: { CORS_ORIGINS: "*" }, variable: "CORS_ORIGINS" },
  {
    name: "a trusted proxy that is not an address",
    env: { TRUST_PROXY: "everyone" },
    variable: "TRUST_PROXY",
  },
  { name: "a MySQL port that is not a number", env: { MYSQL_PORT: "three" }, variable: "MYSQL_PORT" },
  { name: "an unknown log level", env: { LOG_LEVEL: "loud" }, variable: "LOG_LEVEL" },
  { name: "a negative recheck interval", env: { AUTH_RECHECK_S: "-1" }, variable: "AUTH_RECHECK_S" },
  { name: "a page cache of 0 MB", env: { SQLITE_CACHE_MB: "0" }, variable: "SQLITE_CACHE_MB" },
  { name: "a maximum token lifetime of 0", env: { AUTH_JWT_MAX_TTL_S: "0" }, variable: "AUTH_JWT_MAX_TTL_S" },
  {
    name: "a chat database lock timeout of 0",
    env: { CHAT_DATABASE_LOCK_TIMEOUT_MS: "0" },
    variable: "CHAT_DATABASE_LOCK_TIMEOUT_MS",
  },
  {
    name: "a statement timeout no longer than the lock timeout",
    env: { CHAT_DATABASE_LOCK_TIMEOUT_MS: "5000", CHAT_DATABASE_STATEMENT_TIMEOUT_MS: "5000" },
    variable: "CHAT_DATABASE_STATEMENT_TIMEOUT_MS",
  },
];

describe("bad settings stop start-up", { concurrency: 3 }, () => {
  for (const c of BAD_SETTINGS) {
    test(`${c.name} exits with code 1 and a stderr line naming ${c.variable}`, async () => {
      const run = await runUntilExit(serverEnv(sqlite(c.variable), c.env));
      assert.equal(run.listened, false, "the server must not listen with a bad setting");
      assert.equal(run.code, 1, `exit code; stderr: ${run.stderr}`);
      const lines = run.stderr.split("\n").filter((l) => l.includes(c.variable));
      assert.equal(lines.length, 1, `one stderr line names ${c.variable}: ${run.stderr}`);
    });
  }

  test("two bad variables give one stderr line each", async () => {
    const run = await runUntilExit(serverEnv(sqlite("two"), { CHAT_PORT: "abc", MAX_MESSAGE_LENGTH: "0" }));
    assert.equal(run.code, 1);
    const lines = run.stderr.split("\n");
    const port = lines.filter((l) => l.includes("CHAT_PORT"));
    const length = lines.filter((l) => l.includes("MAX_MESSAGE_LENGTH"));
    assert.deepEqual([port.length, length.length], [1, 1], run.stderr);
    assert.ok(!port.some((l) => l.includes("MAX_MESSAGE_LENGTH")), "each variable on its own line");
  });

  test("production without AUTH_JWT_SECRET refuses to start", async () => {
    const env = serverEnv(sqlite("prod"), {
      NODE_ENV: "production",
      CORS_ORIGINS: "https://timewise.example",
    });
    delete env.AUTH_JWT_SECRET;
    const run = await runUntilExit(env);
    assert.equal(run.listened, false);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /AUTH_JWT_SECRET/);
  });

  test("a JWT secret shorter than 32 bytes is refused and its value is never printed", async () => {
    const secret = "short-secret-XYZZY-31";
    const run = await runUntilExit(serverEnv(sqlite("short"), { AUTH_JWT_SECRET: secret }));
    assert.equal(run.listened, false);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /AUTH_JWT_SECRET/);
    assert.ok(!run.stderr.includes(secret), "the secret appears on stderr");
    assert.ok(!run.stdout.includes(secret), "the secret appears on stdout");
  });

  test("a short secret in production is refused without printing it", async () => {
    const secret = "prod-secret-too-short-QWERTY";
    const env = serverEnv(sqlite("prodshort"), {
      NODE_ENV: "production",
      AUTH_JWT_SECRET: secret,
      CORS_ORIGINS: "https://timewise.example",
    });
    const run = await runUntilExit(env);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /AUTH_JWT_SECRET/);
    assert.ok(!`${run.stdout}\n${run.stderr}`.includes(secret));
  });

  test("a MySQL password is never printed, even next to a bad setting", async () => {
    const password = "mysql-password-PLUGH-42";
    const run = await runUntilExit(
      serverEnv(sqlite("mysqlpw"), { MYSQL_HOST: "127.0.0.1", MYSQL_PASSWORD: password, CHAT_PORT: "abc" }),
    );
    assert.equal(run.code, 1);
    assert.ok(!`${run.stdout}\n${run.stderr}`.includes(password));
  });

  test("a chat database in a directory that does not exist stops start-up with exit code 1", async () => {
    const path = `${scratch.dir}/no/such/dir/chat.db`;
    const run = await runUntilExit(serverEnv(path));
    assert.equal(run.listened, false);
    assert.equal(run.code, 1, `stderr: ${run.stderr}`);
    assert.ok(`${run.stdout}\n${run.stderr}`.includes(path), "the error names the database path");
  });

  test("a port already in use exits with code 1 and a stderr line naming CHAT_PORT", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    try {
      const port = String((taken.address() as AddressInfo).port);
      const run = await runUntilExit(serverEnv(sqlite("inuse"), { CHAT_PORT: port }));
      assert.equal(run.listened, false);
      assert.equal(run.code, 1, `stderr: ${run.stderr}`);
      assert.match(run.stderr, /CHAT_PORT/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  test("a SQLITE_PATH that is not a SQLite database exits with code 1 naming the file", async () => {
    const path = sqlite("garbage");
    writeFileSync(path, "this is not a database, just text ".repeat(200));
    const run = await runUntilExit(serverEnv(path));
    assert.equal(run.listened, false);
    assert.equal(run.code, 1, `stderr: ${run.stderr}`);
    assert.ok(`${run.stdout}\n${run.stderr}`.includes(path));
  });
});

describe("good settings start the server", () => {
  test("production with a long secret and explicit origins starts without the development warning", async () => {
    const server = await spawnServer(
      serverEnv(sqlite("prodok"), {
        NODE_ENV: "production",
        AUTH_JWT_SECRET: "a-production-secret-that-is-long-enough-0123",
        CORS_ORIGINS: "https://timewise.example",
      }),
    );
    try {
      const health = await fetch(`${server.url}/health`);
      assert.equal(health.status, 200);
      assert.ok(!server.stdout.some((l) => l.includes("AUTH_JWT_SECRET")), "no warning about the secret");
    } finally {
      assert.equal((await server.stop()).code, 0);
    }
  });

  test("an empty optional variable counts as unset", async () => {
    const server = await spawnServer(
      serverEnv(sqlite("empty"), { MYSQL_HOST: "", USERS_ACTIVE_COLUMN: "", CORS_ORIGINS: "" }),
    );
    try {
      const ready = await fetch(`${server.url}/ready`);
      assert.equal(ready.status, 200, "built-in directory is used when MYSQL_HOST is empty");
    } finally {
      await server.stop();
    }
  });
});
