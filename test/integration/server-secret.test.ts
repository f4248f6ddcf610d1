/**
 * No public development secret: without AUTH_JWT_SECRET the server makes a random token secret
 * on its first start and keeps it in the chat database; `npm run secret` prints it for the PHP
 * app; the log never shows it; published secrets are refused at start-up.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { promisify } from "node:util";
import { ConfigError, loadConfig, PUBLIC_SECRETS } from "../../src/config/index.js";
import {
  connectWithToken,
  ROOT,
  runUntilExit,
  serverEnv,
  signToken,
  spawnServer,
  startServer,
  tempDir,
} from "../support/harness.js";

const run = promisify(execFile);
const scratch = tempDir("twc-secret-");
after(() => scratch.remove());

/** `npm run secret` for the chat database of a server's `env` (run the way npm runs it). */
async function printSecret(env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  const chat = env.CHAT_DATABASE_URL === undefined ? {} : { CHAT_DATABASE_URL: env.CHAT_DATABASE_URL };
  return run(
    process.execPath,
    ["--import", import.meta.resolve("tsx"), join(ROOT, "src/auth/secret-cli.ts")],
    {
      cwd: scratch.dir,
      env: { PATH: process.env.PATH ?? "", SQLITE_PATH: env.SQLITE_PATH!, ...chat },
    },
  );
}

describe("the installation's own token secret", () => {
  test("two starts on one database use the same secret; a fresh database gets another", async () => {
    const path = join(scratch.dir, "one.db");
    const first = await startServer({ sqlitePath: path, env: { AUTH_JWT_SECRET: "" } });
    const ann = await first.addUser("Ann Secret");
    const token = await first.token(ann.id);
    await first.close();

    const again = await startServer({ sqlitePath: path, env: { AUTH_JWT_SECRET: "" } });
    try {
      const socket = await again.connect({ token });
      socket.close();
    } finally {
      await again.close();
    }

    const fresh = await startServer({ env: { AUTH_JWT_SECRET: "" } });
    try {
      await fresh.addUser("Ann Elsewhere");
      const refusal = await fresh.connectRefused({ token });
      assert.equal(refusal.code, "AUTH_INVALID", "a token of another installation is refused");
    } finally {
      await fresh.close();
    }
  });

  test("npm run secret prints the secret the server uses, and the server's log does not show it", async () => {
    const path = join(scratch.dir, "printed.db");
    const env = serverEnv(path);
    delete env.AUTH_JWT_SECRET;
    const server = await spawnServer(env);
    try {
      const { stdout, stderr } = await printSecret(env);
      const secret = stdout.trim();
      assert.match(secret, /^[A-Za-z0-9_-]{43}$/, "32 random bytes, base64url");
      assert.match(stderr, /AUTH_JWT_SECRET/, "says where the value goes");
      const everything = [...server.stdout, ...server.stderr].join("\n");
      assert.ok(!everything.includes(secret), "the log never shows the secret");
      assert.match(everything, /npm run secret/, "the log says how to get it");
      // a token made with the printed secret (as the PHP app would) is accepted: user 1 is unknown
      // to the built-in directory, so the answer is USER_UNKNOWN, not AUTH_INVALID
      const refused = await connectWithToken(server.url, signToken("1", secret)).catch(
        (e: Error & { data?: { code?: string } }) => e.data?.code,
      );
      assert.equal(refused, "USER_UNKNOWN");
      const wrong = await connectWithToken(server.url, signToken("1", "x".repeat(43))).catch(
        (e: Error & { data?: { code?: string } }) => e.data?.code,
      );
      assert.equal(wrong, "AUTH_INVALID");
    } finally {
      await server.stop();
    }
  });
});

describe("published secrets are refused", () => {
  for (const secret of PUBLIC_SECRETS.filter((s) => Buffer.byteLength(s) >= 32)) {
    test(`AUTH_JWT_SECRET=${secret} gives one line naming AUTH_JWT_SECRET`, () => {
      try {
        loadConfig({ AUTH_JWT_SECRET: secret });
        assert.fail("accepted");
      } catch (error) {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.problems.length, 1);
        assert.match(error.problems[0]!, /^AUTH_JWT_SECRET: /);
      }
    });
  }

  test("the old built-in development secret stops the real server, without printing the secret", async () => {
    const run = await runUntilExit(
      serverEnv(join(scratch.dir, "old.db"), {
        AUTH_JWT_SECRET: "timewise-chat-development-secret-do-not-use",
      }),
    );
    assert.equal(run.code, 1);
    assert.equal(run.listened, false);
    assert.match(run.stderr, /AUTH_JWT_SECRET/);
    assert.ok(!run.stderr.includes("timewise-chat-development-secret-do-not-use"));
  });
});
