/**
 * "The ack comes only after the message is durably stored" and "nothing acknowledged is ever lost
 * or reordered, across restarts included": a real server process killed with SIGKILL or stopped
 * with SIGTERM while messages are in flight, then restarted on the same SQLite file.
 */
import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import Database from "better-sqlite3";
import type { Message } from "../../src/protocol/index.js";
import { MIGRATIONS } from "../../src/storage/sqlite/migrations.js";
import {
  cliAddUser,
  connectWithToken,
  ok,
  request,
  runUntilExit,
  type ServerProcess,
  serverEnv,
  signToken,
  spawnServer,
  sqliteOnly,
  type TestSocket,
  tempDir,
  until,
} from "../support/harness.js";

const scratch = tempDir();
after(() => scratch.remove());
let n = 0;

interface Setup {
  sqlite: string;
  server: ServerProcess;
  a: TestSocket;
  b: TestSocket;
  ids: { a: string; b: string };
  roomId: string;
}

/** Two built-in users, a server process, both connected, and their direct room. */
async function setup(): Promise<Setup> {
  const sqlite = join(scratch.dir, `chat-${++n}.db`);
  const ids = {
    a: await cliAddUser(sqlite, "alice", { name: "Alice" }),
    b: await cliAddUser(sqlite, "bob", { name: "Bob" }),
  };
  const server = await spawnServer(env(sqlite));
  const a = (await connectWithToken(server.url, signToken(ids.a))).socket;
  const b = (await connectWithToken(server.url, signToken(ids.b))).socket;
  const direct = await request(a, "room:direct", { userId: ids.b });
  assert.equal(direct.ok, true, JSON.stringify(direct));
  return { sqlite, server, a, b, ids, roomId: (direct.room as { id: string }).id };
}

/** A body with one word unique to the message, to find it with message:search. */
const bodyOf = (clientId: string) => `body of ${clientId} kw${clientId.replace(/[^a-z0-9]/gi, "")}`;

/**
 * The server's settings for these tests: the message allowance is far above the 200 sends a burst
 * makes, so no send is ever RATE_LIMITED and no test has to wait for a limit window to pass. (The
 * server is a child process, so the test cannot move its clock instead.)
 */
const env = (sqlite: string) => serverEnv(sqlite, { RATE_LIMIT_MESSAGES: "10000" });

/** Sends one message; null when the connection dropped. Any error answer fails the test. */
async function send(socket: TestSocket, roomId: string, clientId: string): Promise<Message | null> {
  if (!socket.connected) return null;
  const ack = await request(socket, "message:send", { roomId, body: bodyOf(clientId), clientId }).catch(
    () => null,
  );
  if (ack === null) return null;
  if (ack.ok !== true) throw new Error(`send ${clientId}: ${JSON.stringify(ack.error)}`);
  return ack.message as Message;
}

/**
 * Fires `count` sends at once, alternating between the two sockets, and calls `onAck` with the
 * number of acks so far right when each arrives (so a test can kill the server at that instant).
 */
async function burst(s: Setup, count: number, onAck: (acked: number) => void): Promise<Map<string, Message>> {
  const acked = new Map<string, Message>();
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const clientId = `burst-${i}`;
      const message = await send(i % 2 === 0 ? s.a : s.b, s.roomId, clientId);
      if (message === null) return;
      acked.set(clientId, message);
      onAck(acked.size);
    }),
  );
  return acked;
}

/** The room's whole history, paging backwards with beforeSeq. */
async function history(socket: TestSocket, roomId: string): Promise<Message[]> {
  const all: Message[] = [];
  let beforeSeq: number | undefined;
  for (;;) {
    const page = await request(socket, "message:history", {
      roomId,
      limit: 100,
      ...(beforeSeq ? { beforeSeq } : {}),
    });
    assert.equal(page.ok, true, JSON.stringify(page));
    const messages = page.messages as Message[];
    all.unshift(...messages);
    if (page.hasMore !== true || messages.length === 0) return all;
    beforeSeq = messages[0]!.seq;
  }
}

/** Restarts on the same file and checks every acked message is stored, in seq order, with no gaps. */
async function verifyAfterRestart(
  s: Setup,
  acked: Map<string, Message>,
): Promise<{ server: ServerProcess; stored: Message[] }> {
  const server = await spawnServer(env(s.sqlite));
  const { socket } = await connectWithToken(server.url, signToken(s.ids.a));
  const stored = await history(socket, s.roomId);
  socket.close();
  assert.deepEqual(
    stored.map((m) => m.seq),
    stored.map((_, i) => i + 1),
    "seq counts 1, 2, 3… with no gap",
  );
  const byClientId = new Map(stored.map((m) => [m.clientId, m]));
  for (const [clientId, message] of acked) {
    const found = byClientId.get(clientId);
    assert.ok(found, `acked message ${clientId} (seq ${message.seq}) was lost`);
    assert.equal(found.id, message.id);
    assert.equal(found.seq, message.seq, `acked message ${clientId} moved`);
    assert.equal(found.body, message.body);
  }
  return { server, stored };
}

/**
 * After a crash, catch-up from rev 0 returns every message once in ascending rev up to the room's
 * rev, and the full-text index still finds the newest message.
 */
async function checkCatchUpAndSearch(socket: TestSocket, roomId: string, stored: Message[]) {
  const changes = await request(socket, "message:changes", { roomId, sinceRev: 0, limit: 500 });
  assert.equal(changes.ok, true, JSON.stringify(changes));
  const revs = (changes.messages as Message[]).map((m) => m.rev);
  assert.equal(revs.length, stored.length);
  assert.ok(
    revs.every((rev, i) => i === 0 || rev > revs[i - 1]!),
    "ascending rev",
  );
  assert.equal(changes.hasMore, false);
  const list = await ok(socket, "room:list", {});
  const room = list.rooms.find((r) => r.id === roomId);
  assert.deepEqual([room?.rev, room?.lastSeq], [changes.rev, stored.length]);
  const newest = stored.at(-1)!;
  const word = newest.body.split(" ").at(-1)!;
  let found: Message[] = [];
  await until(
    async () => {
      const search = await request(socket, "message:search", { query: word, roomId });
      found = search.ok ? search.messages : [];
      return found.length > 0;
    },
    5000,
    `message:search finds "${word}" after the restart`,
  );
  assert.deepEqual(
    found.map((m) => m.id),
    [newest.id],
  );
}

function closeAll(s: Setup) {
  s.a.close();
  s.b.close();
}

describe("crash durability", () => {
  test("kill -9 right after the last of 200 concurrent acks loses no acked message", async () => {
    const s = await setup();
    const acked = await burst(s, 200, (count) => {
      if (count === 200) s.server.child.kill("SIGKILL");
    });
    if (acked.size < 200) s.server.child.kill("SIGKILL");
    closeAll(s);
    assert.equal((await s.server.exited).signal, "SIGKILL");
    assert.equal(acked.size, 200, "every send is acked before the kill");
    const { server, stored } = await verifyAfterRestart(s, acked);
    try {
      assert.equal(stored.length, 200);
      // The same clientIds again, from the same senders: the stored messages come back, nothing new.
      const { socket: a } = await connectWithToken(server.url, signToken(s.ids.a));
      const { socket: b } = await connectWithToken(server.url, signToken(s.ids.b));
      for (let i = 0; i < 200; i++) {
        const again = await send(i % 2 === 0 ? a : b, s.roomId, `burst-${i}`);
        assert.equal(
          again?.id,
          acked.get(`burst-${i}`)?.id,
          `resend of burst-${i} returns the stored message`,
        );
      }
      assert.equal((await history(a, s.roomId)).length, 200, "resending created duplicates");
      await checkCatchUpAndSearch(a, s.roomId, stored);
      a.close();
      b.close();
    } finally {
      await server.stop();
    }
  });

  test("kill -9 while sends are still in flight keeps every acked message, in order", async () => {
    const s = await setup();
    const acked = await burst(s, 200, (count) => {
      if (count === 60) s.server.child.kill("SIGKILL");
    });
    closeAll(s);
    await s.server.exited;
    assert.ok(acked.size >= 60, `acked ${acked.size}`);
    const { server, stored } = await verifyAfterRestart(s, acked);
    try {
      const ackedSeqs = [...acked.values()].map((m) => m.seq).sort((x, y) => x - y);
      // sends in flight at the kill may be stored without an ack, so only bounds are known here
      assert.ok(
        stored.length >= acked.size && stored.length <= 200,
        `stored ${stored.length}, acked ${acked.size}`,
      );
      assert.equal(new Set(ackedSeqs).size, ackedSeqs.length, "two acks with the same seq");
      assert.equal(new Set(stored.map((m) => m.clientId)).size, stored.length, "a clientId stored twice");
    } finally {
      await server.stop();
    }
  });
});

describe("graceful shutdown durability", () => {
  test("SIGTERM while sends are in flight exits 0 and every acked message is stored", async () => {
    const s = await setup();
    const acked = await burst(s, 200, (count) => {
      if (count === 50) s.server.child.kill("SIGTERM");
    });
    closeAll(s);
    const exit = await s.server.exited;
    assert.deepEqual(exit, { code: 0, signal: null });
    const { server } = await verifyAfterRestart(s, acked);
    await server.stop();
  });
});

// the SQLite file itself; with CHAT_DATABASE_URL the server does not open it (main.ts)
const fileOnly = sqliteOnly("the SQLite file's schema versions across restarts");

describe("the database file across restarts", { skip: fileOnly }, () => {
  test("a file created by the server keeps rooms and messages after a restart and lists every schema version once", async () => {
    const s = await setup();
    const sent = await send(s.a, s.roomId, "keep-1");
    assert.ok(sent);
    closeAll(s);
    assert.equal((await s.server.stop()).code, 0);
    // a graceful stop closes the database: nothing is left in the write-ahead log
    const wal = `${s.sqlite}-wal`;
    assert.ok(!existsSync(wal) || statSync(wal).size === 0, "the -wal file is empty after a graceful stop");

    const read = () => {
      const db = new Database(s.sqlite, { readonly: true });
      try {
        return db.prepare("SELECT version FROM schema_migrations ORDER BY version").pluck().all() as number[];
      } finally {
        db.close();
      }
    };
    const versions = read();
    assert.deepEqual(
      versions,
      MIGRATIONS.map((m) => m.version),
      "every migration recorded once",
    );

    const server = await spawnServer(env(s.sqlite));
    try {
      const { socket } = await connectWithToken(server.url, signToken(s.ids.b));
      const { rooms } = await ok(socket, "room:list", {});
      assert.deepEqual(
        rooms.map((r) => [r.id, r.lastSeq, r.unread]),
        [[s.roomId, 1, 1]],
      );
      const stored = await history(socket, s.roomId);
      assert.deepEqual(
        stored.map((m) => [m.id, m.body, m.senderId]),
        [[sent.id, sent.body, s.ids.a]],
      );
      socket.close();
    } finally {
      await server.stop();
    }
    assert.deepEqual(read(), versions, "reopening applies no migration twice");
  });

  test("a file from a newer TimeWise Chat (unknown schema version) stops start-up with exit code 1", async () => {
    const sqlite = join(scratch.dir, `chat-${++n}.db`);
    await cliAddUser(sqlite, "solo", { name: "Solo" });
    const db = new Database(sqlite);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', ?)").run(
      new Date().toISOString(),
    );
    db.close();
    const run = await runUntilExit(serverEnv(sqlite));
    assert.equal(run.listened, false);
    assert.equal(run.code, 1, run.stderr);
    assert.ok(run.stderr.includes(sqlite), `stderr names the file: ${run.stderr}`);
  });
});
