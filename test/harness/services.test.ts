/**
 * requireService: on a laptop a missing program skips its tests and says why; under CI=true it
 * fails the test file, so CI can never pass without really testing. Run in a child process so
 * each case gets its own environment (the service's address is read when the module loads).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, test } from "node:test";
import { promisify } from "node:util";
import { ROOT, tempDir } from "../support/harness.js";

const scratch = tempDir("twc-services-");
after(() => scratch.remove());

const probe = join(scratch.dir, "probe.mts");
writeFileSync(
  probe,
  `import { requireService } from ${JSON.stringify(join(ROOT, "test/support/services.ts"))};
   const skip = await requireService("postgres");
   process.stdout.write(JSON.stringify({ skip }));`,
);

/** A port on this machine where nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs the probe with PostgreSQL pointed at `port`; resolves with how it ended. */
async function runProbe(port: number, ci: boolean) {
  const env = { PATH: process.env.PATH ?? "", TEST_PG_PORT: String(port), ...(ci ? { CI: "true" } : {}) };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", probe], {
      cwd: ROOT,
      env,
      timeout: 30_000,
    });
    return { failed: false, stdout, stderr };
  } catch (error) {
    const e = error as { stdout: string; stderr: string };
    return { failed: true, stdout: e.stdout, stderr: e.stderr };
  }
}

test("a missing service skips with the reason printed when CI is not set", async () => {
  const port = await closedPort();
  const run = await runProbe(port, false);
  assert.equal(run.failed, false, run.stderr);
  const { skip } = JSON.parse(run.stdout) as { skip: string | false };
  assert.equal(typeof skip, "string");
  assert.match(String(skip), new RegExp(`PostgreSQL at 127\\.0\\.0\\.1:${port} is not available`));
  assert.match(
    run.stderr,
    new RegExp(`skipping tests that need postgres: PostgreSQL at 127\\.0\\.0\\.1:${port}`),
  );
});

test("a missing service fails the test file under CI=true", async () => {
  const port = await closedPort();
  const run = await runProbe(port, true);
  assert.equal(run.failed, true, "the probe should have failed");
  assert.match(
    run.stderr,
    /CI=true needs postgres for these tests: PostgreSQL at 127\.0\.0\.1:\d+ is not available/,
  );
  assert.equal(run.stdout, "");
});

test("a program on the port that is not PostgreSQL does not count as PostgreSQL", async () => {
  const impostor = createServer((socket) => socket.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
  await new Promise<void>((resolve) => impostor.listen(0, "127.0.0.1", resolve));
  after(() => impostor.close());
  const { port } = impostor.address() as { port: number };
  const run = await runProbe(port, false);
  const { skip } = JSON.parse(run.stdout) as { skip: string | false };
  assert.equal(skip, `PostgreSQL at 127.0.0.1:${port} does not speak PostgreSQL's protocol`);
});

test("the local PostgreSQL counts as available", async (t) => {
  const run = await runProbe(5432, false);
  const { skip } = JSON.parse(run.stdout) as { skip: string | false };
  if (skip && process.env.CI !== "true") return t.skip(skip);
  assert.equal(skip, false);
});
