/**
 * A chat database the server cannot use at start-up: random bytes, a valid file with a page
 * clobbered in the middle, and a file the server may read but not write. The server either refuses
 * to start with one line naming SQLITE_PATH (never a stack trace), or, for damage only the
 * background integrity check can find (docs/performance.md), starts and answers `/ready` 503.
 * Runs the real entry point as a child process. Root ignores file modes, so the read-only cases use
 * an immutable file (`chattr +i`) and a folder mounted read-only.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, statSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { openDatabase } from "../../src/storage/sqlite/open.js";
import { runUntilExit, serverEnv, spawnServer, sqliteOnly, tempDir, until } from "../support/harness.js";

const scratch = tempDir("twc-startup-");
after(() => scratch.remove());
let n = 0;
const dbPath = (name: string) => join(scratch.dir, `${name}-${++n}.db`);

/** A valid chat database holding 3,000 messages (about 250 pages), closed cleanly. */
function validDatabase(path: string): void {
  const db = openDatabase(path);
  const now = new Date().toISOString();
  db.prepare(
    "INSERT INTO rooms (id, type, name, created_at, last_seq, rev, last_activity_at) VALUES (1, 'group', 'Team', ?, 3000, 3000, ?)",
  ).run(now, now);
  const insert = db.prepare(
    "INSERT INTO messages (room_id, seq, rev, sender_id, body, client_id, created_at) VALUES (1, ?, ?, '1', ?, ?, ?)",
  );
  db.transaction(() => {
    for (let i = 1; i <= 3000; i++) insert.run(i, i, `message number ${i} `.repeat(10), `c${i}`, now);
  })();
  db.close();
}

/** The start-up refusal contract: exit 1, a single "cannot start" line naming SQLITE_PATH and the file. */
function assertRefused(
  run: { code: number | null; stderr: string; stdout: string; listened: boolean },
  path: string,
) {
  assert.equal(run.listened, false, "the server must not listen");
  assert.equal(run.code, 1, `exit code; stderr: ${run.stderr}`);
  const lines = run.stderr.split("\n").filter((l) => l.trim() !== "");
  assert.equal(lines.length, 1, `one stderr line, got:\n${run.stderr}`);
  assert.match(lines[0]!, /^TimeWise Chat cannot start: SQLITE_PATH: /);
  assert.ok(lines[0]!.includes(path), `the line names the file: ${lines[0]}`);
  assert.doesNotMatch(`${run.stdout}\n${run.stderr}`, /\n\s+at /, "no stack trace");
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

// with CHAT_DATABASE_URL the server never opens the SQLite file (main.ts)
const skip = sqliteOnly("a damaged SQLite file at SQLITE_PATH, which the server does not open on PostgreSQL");

describe("a chat database the server cannot use at start-up", { skip }, () => {
  test("a file of random bytes stops start-up with one line naming SQLITE_PATH", async () => {
    const path = dbPath("random");
    writeFileSync(path, randomBytes(64 * 1024));
    assertRefused(await runUntilExit(serverEnv(path)), path);
  });

  test("a valid file with a page clobbered in the middle starts, logs the damage and answers /ready 503", async () => {
    const path = dbPath("clobbered");
    validDatabase(path);
    const pageSize = 4096;
    const middle = Math.floor(statSync(path).size / pageSize / 2);
    const fd = openSync(path, "r+");
    try {
      writeSync(fd, randomBytes(pageSize), 0, pageSize, middle * pageSize);
    } finally {
      closeSync(fd);
    }
    // documented behaviour: the integrity check runs in the background right after start-up
    const server = await spawnServer(serverEnv(path));
    try {
      // the worker records the problem before the server logs it: once the line is there, /ready
      // must say so (polling /ready instead would run into its cap of 60 calls a minute)
      await until(
        () => server.logs().some((l) => l.level === 50 && String(l.problem).includes("integrity check")),
        15_000,
        "the failed integrity check in the log",
      );
      const ready = await fetch(`${server.url}/ready`);
      const body = (await ready.json()) as { status?: string; checks?: { sqlite?: string } };
      assert.equal(ready.status, 503);
      assert.equal(body.status, "unavailable");
      assert.equal(body.checks?.sqlite, "unavailable");
      const health = await fetch(`${server.url}/health`);
      assert.equal(health.status, 200);
      await health.body?.cancel();
    } finally {
      await server.stop("SIGKILL");
    }
  });

  test("an immutable file (chattr +i) stops start-up with one line naming SQLITE_PATH", async (t) => {
    const path = dbPath("immutable");
    validDatabase(path);
    const set = isRoot() ? spawnSync("chattr", ["+i", path], { encoding: "utf8" }) : null;
    if (set === null || set.status !== 0) {
      const why = set === null ? "not running as root" : `chattr failed: ${set.error?.message ?? set.stderr}`;
      process.stderr.write(`skipping the immutable-file case: ${why}\n`);
      return t.skip(why);
    }
    try {
      assertRefused(await runUntilExit(serverEnv(path)), path);
    } finally {
      spawnSync("chattr", ["-i", path]);
    }
  });

  test("a file on a read-only mount stops start-up with one line naming SQLITE_PATH", async (t) => {
    // root ignores file modes, so the file is made read-only the way an operator's disk would be:
    // the folder holding it is bind-mounted read-only onto itself
    const dir = tempDir("twc-readonly-");
    const path = join(dir.dir, "chat.db");
    validDatabase(path);
    const bind = isRoot() ? spawnSync("mount", ["--bind", dir.dir, dir.dir], { encoding: "utf8" }) : null;
    const ro =
      bind?.status === 0
        ? spawnSync("mount", ["-o", "remount,bind,ro", dir.dir], { encoding: "utf8" })
        : null;
    if (ro === null || ro.status !== 0) {
      if (bind?.status === 0) spawnSync("umount", [dir.dir]);
      dir.remove();
      const why = isRoot() ? `mount failed: ${(ro ?? bind)?.stderr ?? "unknown"}` : "not running as root";
      if (process.env.CI === "true") assert.fail(`CI=true needs a read-only mount for this case: ${why}`);
      process.stderr.write(`skipping the read-only-file case: ${why}\n`);
      return t.skip(why);
    }
    try {
      assertRefused(await runUntilExit(serverEnv(path)), path);
    } finally {
      spawnSync("umount", [dir.dir]);
      dir.remove();
    }
  });
});
