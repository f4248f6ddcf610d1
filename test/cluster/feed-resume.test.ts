/**
 * A node that serves many rooms losing its LISTEN connection: once it listens again it re-reads
 * only the rooms its own sockets are in, a few at a time (RESUME_CONCURRENCY in
 * src/cluster/feed-fanout.ts) rather than all at once, and its sockets still get every message
 * once, in order. One in-process server on PostgreSQL; the store's reads are counted as they run.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Message } from "../../src/protocol/index.js";
import { roomChannel } from "../../src/realtime/fanout.js";
import { collect, ok, requireService, startServer, type TestServer, until } from "../support/harness.js";
import { type Person, people, send } from "../support/rooms.js";

const skip = await requireService("postgres");

/** Rooms the connected user is in, and rooms of users with no socket on this node. */
const LOCAL_ROOMS = 40;
const OTHER_ROOMS = 5;
/** RESUME_CONCURRENCY in feed-fanout.ts */
const AT_ONCE = 4;

describe("the commit feed listening again on a node with many rooms", { skip }, () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ store: "postgres" });
  });
  after(() => server?.close());

  test("re-reads only the rooms with sockets here, at most 4 at a time, and every message still arrives once", async () => {
    const [ann, ben, cy] = (await people(server, 3, "Resume")) as [Person, Person, Person];
    const local: string[] = [];
    for (let i = 0; i < LOCAL_ROOMS; i++) {
      const { room } = await ok(ann.socket, "room:create", { name: `Here ${i}`, memberIds: [ben.id] });
      local.push(room.id);
      await send(ann.socket, room.id, `before ${i}`);
    }
    const others: string[] = [];
    for (let i = 0; i < OTHER_ROOMS; i++) {
      const { room } = await ok(cy.socket, "room:create", { name: `Elsewhere ${i}`, memberIds: [ben.id] });
      others.push(room.id);
      await send(cy.socket, room.id, `elsewhere ${i}`);
    }
    // Ben and Cy leave: Cy's rooms have no socket on this node any more
    ben.socket.close();
    cy.socket.close();
    const channels = server.app.io.sockets.adapter.rooms;
    await until(() => others.every((id) => !channels.has(roomChannel(id))), 5000, "Cy's sockets gone");
    assert.equal(
      local.every((id) => channels.has(roomChannel(id))),
      true,
      "Ann's rooms have her socket",
    );

    // count the reads of rooms and changes as they run (the store itself still answers them)
    const store = server.app.store;
    const roomRead = store.room.bind(store);
    const changesRead = store.changes.bind(store);
    let running = 0;
    let peak = 0;
    const roomsRead: string[] = [];
    const changesOf = new Set<string>();
    const counted = async <T>(read: () => Promise<T>): Promise<T> => {
      running++;
      peak = Math.max(peak, running);
      try {
        return await read();
      } finally {
        running--;
      }
    };
    store.room = (roomId) => {
      roomsRead.push(roomId);
      return counted(() => roomRead(roomId));
    };
    store.changes = (roomId, sinceRev, limit) => {
      changesOf.add(roomId);
      return counted(() => changesRead(roomId, sinceRev, limit));
    };

    const live = collect(ann.socket, "message:new");
    const database = server.database!;
    const { rows } = await database.admin.query<{ done: boolean }>(
      "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE datname = $1 AND application_name = 'timewise-chat-feed'",
      [database.name],
    );
    assert.deepEqual(
      rows.map((r) => r.done),
      [true],
      "the node's feed connection was ended",
    );
    await until(
      () => roomsRead.length === LOCAL_ROOMS && changesOf.size === LOCAL_ROOMS && running === 0,
      20_000,
      `every local room re-read (${roomsRead.length} rooms, ${changesOf.size} change reads)`,
    );
    assert.deepEqual([...roomsRead].sort(), [...local].sort(), "each room with a socket here, once");
    assert.deepEqual([...changesOf].sort(), [...local].sort(), "no room without a socket here was read");
    assert.ok(peak <= AT_ONCE, `${peak} reads ran at once`);
    assert.ok(peak >= 2, `the re-reads did run side by side (${peak} at once)`);
    store.room = roomRead;
    store.changes = changesRead;

    // after it: every room's next message arrives once, in each room's order
    const after: Message[] = [];
    for (const [i, roomId] of local.entries()) after.push(await send(ann.socket, roomId, `after ${i}`));
    await until(() => live.length >= LOCAL_ROOMS, 10_000, `the messages after (${live.length})`);
    assert.deepEqual(
      live.map((m) => m.id),
      after.map((m) => m.id),
    );
    for (const m of live) assert.equal(m.seq, 2);
  });
});
