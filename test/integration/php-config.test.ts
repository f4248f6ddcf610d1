/**
 * The PHP integration's settings (PHP_SESSION_*, SERVICE_API_KEY, WEBHOOK_*): the contract's
 * defaults, and one line naming the variable for each bad value (secrets never echoed) — checked
 * in loadConfig, and once through the real entry point.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { loadConfig } from "../../src/config/index.js";
import { configProblems, runUntilExit, serverEnv, tempDir } from "../support/harness.js";

const BASE = { NODE_ENV: "test", AUTH_JWT_SECRET: "x".repeat(40) };
const KEY = "k".repeat(40);

const problems = (env: Record<string, string>) => configProblems({ ...BASE, ...env });

describe("PHP integration settings", () => {
  test("off by default; the PHP session settings default to the contract's values", () => {
    const off = loadConfig(BASE);
    assert.equal(off.phpSession, null);
    assert.equal(off.serviceApiKey, null);
    assert.equal(off.webhooks, null);
    const files = loadConfig({ ...BASE, PHP_SESSION_STORE: "files" }).phpSession!;
    assert.deepEqual(
      { path: files.path, cookie: files.cookie, userKey: files.userKey, lifetimeS: files.lifetimeS },
      { path: "/var/lib/php/sessions", cookie: "PHPSESSID", userKey: "user_id", lifetimeS: 1440 },
    );
    assert.deepEqual(files.table, {
      name: "sessions",
      idColumn: "id",
      dataColumn: "payload",
      timeColumn: "last_activity",
      timeIs: "last_activity",
    });
    assert.equal(files.redisPrefix, "PHPREDIS_SESSION:");
    const redis = loadConfig({ ...BASE, PHP_SESSION_STORE: "redis", REDIS_URL: "redis://10.0.0.1:6379" })
      .phpSession!;
    assert.equal(redis.redisUrl, "redis://10.0.0.1:6379", "REDIS_URL is the default");
    const on = loadConfig({
      ...BASE,
      SERVICE_API_KEY: KEY,
      WEBHOOK_URL: "https://app.test/hooks",
      WEBHOOK_SECRET: KEY,
    });
    assert.equal(on.serviceApiKey, KEY);
    assert.deepEqual(on.webhooks, { url: "https://app.test/hooks", secret: KEY });
    assert.equal(
      loadConfig({ ...BASE, PHP_SESSION_STORE: "", SERVICE_API_KEY: "" }).phpSession,
      null,
      "empty is unset",
    );
  });

  const bad: [string, Record<string, string>, string][] = [
    ["an unknown store", { PHP_SESSION_STORE: "memcached" }, "PHP_SESSION_STORE"],
    ["the mysql store without MYSQL_HOST", { PHP_SESSION_STORE: "mysql" }, "PHP_SESSION_STORE"],
    ["the redis store without a Redis", { PHP_SESSION_STORE: "redis" }, "PHP_SESSION_STORE"],
    ["a cookie name with a space", { PHP_SESSION_COOKIE: "PHP SESSID" }, "PHP_SESSION_COOKIE"],
    ["a lifetime of 0", { PHP_SESSION_LIFETIME_S: "0" }, "PHP_SESSION_LIFETIME_S"],
    ["a table name with SQL in it", { PHP_SESSION_TABLE: "sessions; DROP" }, "PHP_SESSION_TABLE"],
    ["a data column with a quote", { PHP_SESSION_DATA_COLUMN: "pay`load" }, "PHP_SESSION_DATA_COLUMN"],
    ["an unknown time meaning", { PHP_SESSION_TIME_IS: "soon" }, "PHP_SESSION_TIME_IS"],
    ["a Redis URL that is not redis://", { PHP_SESSION_REDIS_URL: "http://x" }, "PHP_SESSION_REDIS_URL"],
    ["a short service key", { SERVICE_API_KEY: "short-secret-value" }, "SERVICE_API_KEY"],
    [
      "a webhook URL that is not http(s)",
      { WEBHOOK_URL: "ftp://app.test/x", WEBHOOK_SECRET: KEY },
      "WEBHOOK_URL",
    ],
    ["a webhook URL without a secret", { WEBHOOK_URL: "https://app.test/x" }, "WEBHOOK_SECRET"],
    [
      "a short webhook secret",
      { WEBHOOK_URL: "https://app.test/x", WEBHOOK_SECRET: "short-secret-value" },
      "WEBHOOK_SECRET",
    ],
  ];
  for (const [name, env, variable] of bad) {
    test(`${name}: one line naming ${variable}`, () => {
      const lines = problems(env);
      assert.equal(lines.length, 1, JSON.stringify(lines));
      assert.ok(lines[0]!.startsWith(`${variable}:`), lines[0]);
      assert.ok(!lines[0]!.includes("short-secret-value"), "secrets are never echoed");
    });
  }

  test("two bad variables give two lines", () => {
    assert.equal(problems({ PHP_SESSION_STORE: "nope", SERVICE_API_KEY: "short" }).length, 2);
  });
});

describe("through the real entry point", () => {
  const scratch = tempDir();
  after(() => scratch.remove());
  test("a short SERVICE_API_KEY stops start-up with one line and does not echo the key", async () => {
    const run = await runUntilExit(
      serverEnv(`${scratch.dir}/c.db`, { SERVICE_API_KEY: "short-secret-value" }),
    );
    assert.equal(run.listened, false);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /SERVICE_API_KEY: must be at least 32 characters/);
    assert.ok(!run.stderr.includes("short-secret-value"));
  });
});
