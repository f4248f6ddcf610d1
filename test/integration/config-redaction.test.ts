/**
 * Start-up errors name the bad setting and show its value, but never a password inside a URL:
 * REDIS_URL, PHP_SESSION_REDIS_URL, WEBHOOK_URL, CORS_ORIGINS and a URL typed into MYSQL_HOST are
 * shown with the password replaced by ***, even when the URL is malformed. Checked in loadConfig
 * and once through the real entry point.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { configProblems, runUntilExit, serverEnv, tempDir } from "../support/harness.js";

const BASE = { NODE_ENV: "test", AUTH_JWT_SECRET: "x".repeat(40) };
const PASSWORD = "hunter2-pass";

const problems = (env: Record<string, string>) => configProblems({ ...BASE, ...env });

/** Each case: the bad setting, the variable the line must name, and what it shows instead. */
const CASES: { name: string; env: Record<string, string>; variable: string; shows: string }[] = [
  {
    name: "a Redis URL with a bad port",
    env: { REDIS_URL: `redis://:${PASSWORD}@cache.internal:port` },
    variable: "REDIS_URL",
    shows: "redis://:***@cache.internal:port",
  },
  {
    name: "a session Redis URL with the wrong scheme",
    env: { PHP_SESSION_REDIS_URL: `http://chat:${PASSWORD}@cache.internal` },
    variable: "PHP_SESSION_REDIS_URL",
    shows: "http://chat:***@cache.internal",
  },
  {
    name: "a webhook URL with the wrong scheme",
    env: { WEBHOOK_URL: `ftp://bot:${PASSWORD}@app.test/hooks`, WEBHOOK_SECRET: "s".repeat(40) },
    variable: "WEBHOOK_URL",
    shows: "ftp://bot:***@app.test/hooks",
  },
  {
    name: "a URL in MYSQL_HOST",
    env: { MYSQL_HOST: `mysql://root:${PASSWORD}@db.internal/timewise` },
    variable: "MYSQL_HOST",
    shows: "mysql://root:***@db.internal/timewise",
  },
  {
    name: "an origin with a user and password",
    env: { CORS_ORIGINS: `https://ann:${PASSWORD}@timewise.test` },
    variable: "CORS_ORIGINS",
    shows: "https://ann:***@timewise.test",
  },
  {
    name: "a password with an unescaped @ and / in a malformed URL",
    env: { REDIS_URL: `redis://:${PASSWORD}/x@y@cache.internal:port` },
    variable: "REDIS_URL",
    shows: "redis://:***@cache.internal:port",
  },
  {
    name: "a password without a user name",
    env: { REDIS_URL: `redis://${PASSWORD}@cache.internal:port` },
    variable: "REDIS_URL",
    shows: "redis://***@cache.internal:port",
  },
];

describe("URL passwords in start-up errors", () => {
  for (const c of CASES) {
    test(`${c.name}: the line names ${c.variable} and shows the URL without its password`, () => {
      const lines = problems(c.env);
      assert.equal(lines.length, 1, JSON.stringify(lines));
      assert.ok(lines[0]!.startsWith(`${c.variable}:`), lines[0]);
      assert.ok(lines[0]!.includes(c.shows), lines[0]);
      assert.ok(!lines[0]!.includes("hunter2"), lines[0]);
    });
  }

  test("values without a password are still shown as they are", () => {
    const [line] = problems({ REDIS_URL: "redis://cache.internal:port" });
    assert.ok(line!.includes('"redis://cache.internal:port"'), line);
  });

  const scratch = tempDir();
  after(() => scratch.remove());
  test("through the real entry point the password never reaches stderr", async () => {
    const run = await runUntilExit(
      serverEnv(`${scratch.dir}/c.db`, { REDIS_URL: `rediss://default:${PASSWORD}@cache.internal:port` }),
    );
    assert.equal(run.listened, false);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /REDIS_URL: .*rediss:\/\/default:\*\*\*@cache\.internal:port/);
    assert.ok(!run.stderr.includes("hunter2"), run.stderr);
  });
});
