/**
 * Every node answers as of the latest acknowledged write on any node: a membership or role change
 * acknowledged on one node holds on the other at once (no NOT_FOUND window, no stale rights), a
 * row lock on one room leaves the other rooms alone, and a node started later serves everything.
 * Real node processes on one PostgreSQL database and one Redis (test/support/cluster.ts).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { type Cluster, startCluster } from "../support/cluster.js";
import { collect, ok, request, requireService, type TestSocket, until, waitFor } from "../support/harness.js";
import type { ServerProcess } from "../support/process.js";

const skip = await requireService("postgres", "redis");

describe("a cluster of two nodes: one truth on every node", { skip }, () => {
  let cluster: Cluster;
  let a: ServerProcess;
  let b: ServerProcess;

  before(async () => {
    cluster = await startCluster({ users: ["Owner", "Bea", "Cal", "Dan"] });
    [a, b] = cluster.nodes as [ServerProcess, ServerProcess];
  });
  after(() => cluster?.close());

  const user = (i: number) => cluster.users[i]!;
  const send = (socket: TestSocket, roomId: string, body: string) =>
    request(socket, "message:send", { roomId, body, clientId: randomUUID() });

  test("a member added on one node can use the room on the other as soon as the add is acknowledged", async () => {
    const owner = await cluster.connect(a, user(0));
    const bea = await cluster.connect(b, user(1));
    for (let round = 0; round < 10; round++) {
      const { room } = await ok(owner, "room:create", { name: `Round ${round}`, memberIds: [] });
      await ok(owner, "room:addMembers", { roomId: room.id, userIds: [user(1).id] });
      // no waiting for room:updated: the ack alone must be enough
      const got = await request(bea, "room:get", { roomId: room.id });
      assert.ok(got.ok, `round ${round}: ${JSON.stringify(got)}`);
      const sent = await send(bea, room.id, "here already");
      assert.ok(sent.ok, `round ${round}: ${JSON.stringify(sent)}`);

      await ok(owner, "room:removeMember", { roomId: room.id, userId: user(1).id });
      const gone = await send(bea, room.id, "still here?");
      assert.ok(!gone.ok && gone.error.code === "NOT_FOUND", `round ${round}: ${JSON.stringify(gone)}`);
    }
  });

  test("a role given or taken on one node is in force on the other as soon as it is acknowledged", async () => {
    const owner = await cluster.connect(a, user(0));
    const cal = await cluster.connect(b, user(2));
    const { room } = await ok(owner, "room:create", { name: "Roles", memberIds: [user(2).id, user(3).id] });
    for (let round = 0; round < 5; round++) {
      await ok(owner, "room:setRole", { roomId: room.id, userId: user(2).id, role: "admin" });
      const renamed = await request(cal, "room:update", { roomId: room.id, name: `Renamed ${round}` });
      assert.ok(renamed.ok, `round ${round}: an admin renames at once: ${JSON.stringify(renamed)}`);

      await ok(owner, "room:setRole", { roomId: room.id, userId: user(2).id, role: "member" });
      const refused = await request(cal, "room:removeMember", { roomId: room.id, userId: user(3).id });
      assert.ok(
        !refused.ok && refused.error.code === "FORBIDDEN",
        `round ${round}: a member again cannot remove: ${JSON.stringify(refused)}`,
      );
    }
  });

  test("a member removed on one node stops getting the room's messages on the other", async () => {
    const owner = await cluster.connect(a, user(0));
    const dan = await cluster.connect(b, user(3));
    const { room } = await ok(owner, "room:create", { name: "Leaving", memberIds: [user(3).id] });
    const { room: direct } = await ok(owner, "room:direct", { userId: user(3).id });
    const seen = collect(dan, "message:new");
    const removed = waitFor(dan, "room:removed", (r) => r.roomId === room.id, 10_000);
    await ok(owner, "room:removeMember", { roomId: room.id, userId: user(3).id });
    await removed;
    await ok(owner, "message:send", {
      roomId: room.id,
      body: "not for Dan",
      clientId: randomUUID(),
    });
    // a later message to Dan on the same node: once it arrived, the one before would have too
    const marker = await ok(owner, "message:send", {
      roomId: direct.id,
      body: "for Dan",
      clientId: randomUUID(),
    });
    await until(() => seen.some((m) => m.id === marker.message.id), 10_000, "the marker to reach Dan");
    assert.deepEqual(
      seen.map((m) => m.id),
      [marker.message.id],
      "Dan got only the marker, nothing of the room he left",
    );
  });

  test("a row lock held on one room does not hold up sends to another room", async (t) => {
    const owner = await cluster.connect(a, user(0));
    const onB = await cluster.connect(b, user(0));
    const { room: locked } = await ok(owner, "room:create", { name: "Locked", memberIds: [] });
    const { room: free } = await ok(owner, "room:create", { name: "Free", memberIds: [] });

    // another program holds the room row, as a slow transaction would
    const lockDb = new pg.Client({ connectionString: cluster.database.url });
    await lockDb.connect();
    t.after(() => lockDb.end());
    await lockDb.query("BEGIN");
    await lockDb.query("SELECT id FROM rooms WHERE id = $1 FOR UPDATE", [locked.id]);

    let lockedDone = false;
    const waiting = [owner, onB].map((socket) =>
      request(
        socket,
        "message:send",
        { roomId: locked.id, body: "behind the lock", clientId: randomUUID() },
        30_000,
      ).then((ack) => {
        lockedDone = true;
        return ack;
      }),
    );
    for (let i = 0; i < 20; i++) {
      const socket = i % 2 === 0 ? owner : onB;
      const sent = await send(socket, free.id, `free ${i}`);
      assert.ok(sent.ok, JSON.stringify(sent));
      assert.equal(sent.message.seq, i + 1);
    }
    assert.equal(lockedDone, false, "the sends to the locked room waited for the lock (so it was held)");

    await lockDb.query("ROLLBACK");
    const acks = await Promise.all(waiting);
    assert.deepEqual(
      acks.map((ack) => (ack.ok ? ack.message.seq : ack.error.code)).sort(),
      [1, 2],
      "once the lock is let go, both sends are stored",
    );
  });

  test("a node started later serves the rooms, the history and live messages", async () => {
    const owner = await cluster.connect(a, user(0));
    const { room } = await ok(owner, "room:create", { name: "Before C", memberIds: [user(1).id] });
    for (let i = 0; i < 30; i++)
      await ok(owner, "message:send", { roomId: room.id, body: `old ${i}`, clientId: randomUUID() });

    const c = await cluster.addNode();
    const bea = await cluster.connect(c, user(1));
    const { rooms } = await ok(bea, "room:list", {});
    const listed = rooms.find((r) => r.id === room.id);
    assert.equal(listed?.lastSeq, 30);
    assert.equal(listed?.unread, 30);
    const history = await ok(bea, "message:history", { roomId: room.id, limit: 50 });
    assert.deepEqual(
      history.messages.map((m) => m.body),
      Array.from({ length: 30 }, (_, i) => `old ${i}`),
    );

    // live both ways between the new node and an old one
    const toBea = waitFor(bea, "message:new", (m) => m.body === "from a", 10_000);
    await ok(owner, "message:send", { roomId: room.id, body: "from a", clientId: randomUUID() });
    assert.equal((await toBea).seq, 31);
    const toOwner = waitFor(owner, "message:new", (m) => m.body === "from c", 10_000);
    await ok(bea, "message:send", { roomId: room.id, body: "from c", clientId: randomUUID() });
    assert.equal((await toOwner).seq, 32);
  });
});
