/**
 * Another connection holding a lock in the PostgreSQL chat database (a room row locked by a
 * transaction that never ends, a table locked for maintenance): sends answer UNAVAILABLE within
 * the lock timeout instead of waiting for ever, other rooms and `/health` keep answering, and once
 * the lock is released sends succeed again with nothing acknowledged missing and nothing doubled.
 * The PostgreSQL version of sqlite-busy.test.ts; it always runs on PostgreSQL.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { ok, request, requireService, startServer, type TestServer, until } from "../support/harness.js";
import { expectError, group, type Person, people, send } from "../support/rooms.js";

const skip = await requireService("postgres");

/** The lock timeout of these servers: short, so the test is quick, and well under the ack timeout. */
const LOCK_TIMEOUT_MS = 1000;

/** A connection of its own to the server's chat database, to hold locks with. */
async function lockHolder(server: TestServer): Promise<pg.Client> {
  if (!server.database) throw new Error("this test needs the PostgreSQL store");
  const client = new pg.Client({ connectionString: server.database.url });
  await client.connect();
  return client;
}

/** Sends `count` messages while the lock is held: each must be UNAVAILABLE, within the timeout. */
async function sendsRefused(person: Person, roomId: string, count: number): Promise<string[]> {
  const clientIds: string[] = [];
  for (let i = 0; i < count; i++) {
    const clientId = randomUUID();
    clientIds.push(clientId);
    const started = performance.now();
    const ack = await request(
      person.socket,
      "message:send",
      { roomId, body: `locked ${i}`, clientId },
      10_000,
    );
    const took = performance.now() - started;
    expectError(ack, "UNAVAILABLE", `send ${i} while the room is locked`);
    // it waited for the lock (not refused at once for another reason), and no longer than allowed
    assert.ok(took >= LOCK_TIMEOUT_MS * 0.9, `the UNAVAILABLE ack came after ${Math.round(took)} ms`);
    assert.ok(took < LOCK_TIMEOUT_MS + 2000, `the UNAVAILABLE ack took ${Math.round(took)} ms`);
  }
  return clientIds;
}

/** The room's stored bodies and seqs, read straight from the database. */
async function stored(server: TestServer, roomId: string) {
  const reader = await lockHolder(server);
  try {
    const { rows } = await reader.query<{ body: string; seq: string; client_id: string | null }>(
      "SELECT body, seq, client_id FROM messages WHERE room_id = $1 ORDER BY seq",
      [roomId],
    );
    return rows.map((r) => ({ body: r.body, seq: Number(r.seq), clientId: r.client_id }));
  } finally {
    await reader.end();
  }
}

describe("another connection holds a lock in the PostgreSQL chat database", { skip }, () => {
  let server: TestServer;
  let holder: pg.Client | null = null;
  before(async () => {
    server = await startServer({
      store: "postgres",
      env: { CHAT_DATABASE_LOCK_TIMEOUT_MS: String(LOCK_TIMEOUT_MS) },
    });
  });
  after(async () => {
    await holder?.end().catch(() => {});
    await server?.close();
  });

  test("a locked room row: its sends answer UNAVAILABLE, other rooms work, and a retry after the release is stored once", async () => {
    const [ann, ben] = (await people(server, 2, "RowLock")) as [Person, Person];
    const room = await group(ann, [ben]);
    const other = await group(ben, [ann]);
    const acked = [await send(ann.socket, room.id, "before 1"), await send(ben.socket, room.id, "before 2")];

    holder = await lockHolder(server);
    await holder.query("BEGIN");
    const locked = await holder.query("SELECT id FROM rooms WHERE id = $1 FOR UPDATE", [room.id]);
    assert.equal(locked.rowCount, 1);

    const failedIds = await sendsRefused(ann, room.id, 3);
    // the lock is on one room: another room's sends, its history, and /health are not held up
    const elsewhere = await send(ben.socket, other.id, "in another room");
    assert.equal(elsewhere.seq, 1);
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    const history = await ok(ben.socket, "message:history", { roomId: room.id });
    assert.deepEqual(
      history.messages.map((m) => m.body),
      ["before 1", "before 2"],
    );

    await holder.query("ROLLBACK");
    // the client retries its first refused send with the same clientId, twice (its first retry's
    // ack could have been lost): it is stored once
    const retried = await ok(ann.socket, "message:send", {
      roomId: room.id,
      body: "locked 0",
      clientId: failedIds[0]!,
    });
    const again = await ok(ann.socket, "message:send", {
      roomId: room.id,
      body: "locked 0",
      clientId: failedIds[0]!,
    });
    assert.equal(again.message.id, retried.message.id, "the repeated clientId gave back the same message");
    acked.push(retried.message, await send(ben.socket, room.id, "after 1"));

    const all = (await ok(ann.socket, "message:history", { roomId: room.id, limit: 100 })).messages;
    assert.deepEqual(
      all.map((m) => [m.seq, m.body]),
      [
        [1, "before 1"],
        [2, "before 2"],
        [3, "locked 0"],
        [4, "after 1"],
      ],
    );
    assert.deepEqual(
      all.map((m) => m.id),
      acked.map((m) => m.id),
      "every acknowledged message is stored, in order",
    );
    const rows = await stored(server, room.id);
    assert.deepEqual(
      rows.map((r) => r.body),
      ["before 1", "before 2", "locked 0", "after 1"],
      "the refused sends left no rows behind",
    );
    assert.equal(rows.filter((r) => r.clientId === failedIds[1] || r.clientId === failedIds[2]).length, 0);
    await holder.end();
    holder = null;
  });

  test("the messages table locked for maintenance: sends and reads answer UNAVAILABLE, then work once it is released", async () => {
    const [ann, ben] = (await people(server, 2, "TableLock")) as [Person, Person];
    const room = await group(ann, [ben]);
    const first = await send(ann.socket, room.id, "before");

    holder = await lockHolder(server);
    await holder.query("BEGIN");
    await holder.query("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE");

    const failedIds = await sendsRefused(ben, room.id, 2);
    // reads of the table wait for the same lock, and are refused the same way, not left hanging
    const history = await request(ann.socket, "message:history", { roomId: room.id }, 10_000);
    expectError(history, "UNAVAILABLE", "history while the table is locked");
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();

    await holder.query("ROLLBACK");
    await until(
      async () => (await request(ann.socket, "message:history", { roomId: room.id })).ok,
      10_000,
      "reads work once the table lock is gone",
    );
    const retried = await ok(ben.socket, "message:send", {
      roomId: room.id,
      body: "locked 0",
      clientId: failedIds[0]!,
    });
    const after1 = await send(ann.socket, room.id, "after");
    const all = (await ok(ann.socket, "message:history", { roomId: room.id, limit: 100 })).messages;
    assert.deepEqual(
      all.map((m) => [m.id, m.seq]),
      [
        [first.id, 1],
        [retried.message.id, 2],
        [after1.id, 3],
      ],
    );
    assert.deepEqual(
      (await stored(server, room.id)).map((r) => r.body),
      ["before", "locked 0", "after"],
    );
    await holder.end();
    holder = null;
  });
});
