/**
 * Another process holding the chat database's write lock (`BEGIN IMMEDIATE`, never committed):
 * sends answer UNAVAILABLE within a bounded time instead of hanging or crashing, reads and
 * `/health` keep answering, and once the lock is released sends succeed again with nothing
 * acknowledged missing and no half-written rows. On PostgreSQL: postgres-locks.test.ts.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import { ok, ROOT, request, sqliteOnly, startServer, type TestServer, until } from "../support/harness.js";
import { expectError, group, type Person, people, send } from "../support/rooms.js";

/** A child process that takes the write lock on `path` and holds it until told (a line on stdin). */
function lockHolder(path: string): { child: ChildProcess; locked: Promise<void>; release(): Promise<void> } {
  const script = `
    const Database = require("better-sqlite3");
    const db = new Database(process.argv[1]);
    db.exec("BEGIN IMMEDIATE");
    db.prepare("UPDATE rooms SET name = name WHERE 0").run();
    process.stdout.write("locked\\n");
    process.stdin.once("data", () => { db.exec("ROLLBACK"); db.close(); process.stdout.write("released\\n"); process.exit(0); });
  `;
  const child = spawn(process.execPath, ["-e", script, path], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "inherit"],
  });
  let out = "";
  const waiters: { word: string; resolve: () => void }[] = [];
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    for (const w of waiters) if (out.includes(w.word)) w.resolve();
  });
  const waitFor = (word: string) =>
    new Promise<void>((resolve, reject) => {
      if (out.includes(word)) return resolve();
      waiters.push({ word, resolve });
      child.once("exit", (code) => {
        if (!out.includes(word)) reject(new Error(`lock holder exited (${code}) before "${word}"`));
      });
    });
  return {
    child,
    locked: waitFor("locked"),
    release: async () => {
      const done = waitFor("released");
      child.stdin?.write("go\n");
      await done;
    },
  };
}

// PostgreSQL's locks are tested in postgres-locks.test.ts
const skip = sqliteOnly("another process holds the SQLite file's write lock");

describe("another process holds the chat database's write lock", { skip }, () => {
  let server: TestServer;
  let holder: ReturnType<typeof lockHolder> | null = null;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    holder?.child.kill("SIGKILL");
    await server?.close();
  });

  test("sends answer UNAVAILABLE quickly, reads keep working, and sends succeed once the lock is gone", async () => {
    const [ann, ben] = (await people(server, 2, "Busy")) as [Person, Person];
    const room = await group(ann, [ben]);
    const acked = [await send(ann.socket, room.id, "before 1"), await send(ben.socket, room.id, "before 2")];

    holder = lockHolder(server.sqlitePath);
    await holder.locked;

    const failedIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const clientId = randomUUID();
      failedIds.push(clientId);
      const started = Date.now();
      const ack = await request(
        ann.socket,
        "message:send",
        { roomId: room.id, body: `locked ${i}`, clientId },
        10_000,
      );
      expectError(ack, "UNAVAILABLE", `send ${i} while the database is locked`);
      assert.ok(Date.now() - started < 5000, `the UNAVAILABLE ack took ${Date.now() - started} ms`);
    }
    // the server still answers: /health, reads from the database, and the room list
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const history = await ok(ben.socket, "message:history", { roomId: room.id });
    assert.deepEqual(
      history.messages.map((m) => m.body),
      ["before 1", "before 2"],
    );
    assert.equal((await request(ben.socket, "room:list", {})).ok, true);

    await holder.release();
    // a retry with the same clientId (as a client would) and new sends both go through
    await until(
      async () =>
        (
          await request(ann.socket, "message:send", {
            roomId: room.id,
            body: "locked 0",
            clientId: failedIds[0]!,
          })
        ).ok,
      10_000,
      "sends succeed after the lock is released",
    );
    acked.push(
      (await ok(ann.socket, "message:send", { roomId: room.id, body: "locked 0", clientId: failedIds[0]! }))
        .message,
    );
    acked.push(await send(ben.socket, room.id, "after 1"));

    const all = (await ok(ann.socket, "message:history", { roomId: room.id, limit: 100 })).messages;
    assert.deepEqual(
      all.map((m) => m.body),
      ["before 1", "before 2", "locked 0", "after 1"],
    );
    assert.deepEqual(
      all.map((m) => m.seq),
      [1, 2, 3, 4],
      "seq has no gaps",
    );
    for (const m of acked)
      assert.ok(
        all.some((s) => s.id === m.id),
        `acked message ${m.body} is stored`,
      );

    // on disk too: exactly these rows, none left by the failed sends
    await server.app.store.flush();
    const file = new Database(server.sqlitePath, { readonly: true });
    try {
      const bodies = file
        .prepare("SELECT body FROM messages WHERE room_id = ? ORDER BY seq")
        .pluck()
        .all(Number(room.id));
      assert.deepEqual(bodies, ["before 1", "before 2", "locked 0", "after 1"]);
      const stray = file
        .prepare("SELECT count(*) FROM messages WHERE client_id IN (?, ?)")
        .pluck()
        .get(failedIds[1], failedIds[2]);
      assert.equal(stray, 0, "a send answered UNAVAILABLE left a row behind");
    } finally {
      file.close();
    }
  });
});
