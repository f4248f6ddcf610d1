/**
 * room:read: read markers only move forward, never past lastSeq, are broadcast to every member
 * as read receipts, and drive `unread` (which never counts the reader's own messages).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { collect, ok, request, startServer, type TestServer, waitFor } from "../support/harness.js";
import { expectError, getRoom, group, memberOf, person, roundTrip, sendMany } from "../support/rooms.js";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.close();
});

test("room:read moves the marker, recomputes unread and sends room:read to every member", async () => {
  const a = await person(server);
  const b = await person(server);
  const b2 = await server.connect(b.user);
  const c = await person(server);
  const room = await group(a, [b, c]);
  await sendMany(a.socket, room.id, 3);
  assert.deepEqual(await getRoom(b.socket, room.id).then((r) => [r.readSeq, r.unread]), [0, 3]);

  const receipt = { roomId: room.id, userId: b.id, seq: 2 };
  const receipts = [a.socket, c.socket, b2].map((s) => waitFor(s, "room:read", (p) => p.roomId === room.id));
  assert.deepEqual(await request(b.socket, "room:read", { roomId: room.id, seq: 2 }), {
    ok: true,
    readSeq: 2,
  });
  for (const got of await Promise.all(receipts)) assert.deepEqual(got, receipt);

  const forB = await getRoom(b2, room.id);
  assert.deepEqual([forB.readSeq, forB.unread, memberOf(forB, b.id).readSeq], [2, 1, 2]);
  const forA = await getRoom(a.socket, room.id);
  assert.equal(memberOf(forA, b.id).readSeq, 2, "other members see b's marker");
  assert.equal(forA.readSeq, 0, "a's own marker did not move");
  const listed = (await ok(b.socket, "room:list", {})).rooms.find((r) => r.id === room.id);
  assert.deepEqual([listed?.readSeq, listed?.unread], [2, 1]);
});

test("the read marker never moves backwards, and a read that moves nothing sends no receipt", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  await sendMany(a.socket, room.id, 4);
  await ok(b.socket, "room:read", { roomId: room.id, seq: 3 });
  const receipts = collect(a.socket, "room:read");
  const back = await ok(b.socket, "room:read", { roomId: room.id, seq: 1 });
  assert.equal(back.readSeq, 3);
  const same = await ok(b.socket, "room:read", { roomId: room.id, seq: 0 });
  assert.equal(same.readSeq, 3);
  await roundTrip(a.socket);
  assert.deepEqual(receipts, [], "a marker that did not move sends no receipt");
  assert.deepEqual(await getRoom(b.socket, room.id).then((r) => [r.readSeq, r.unread]), [3, 1]);
});

test("room:read is clamped to the room's lastSeq", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  await sendMany(a.socket, room.id, 2);
  const seen = waitFor(a.socket, "room:read", (p) => p.userId === b.id);
  assert.equal((await ok(b.socket, "room:read", { roomId: room.id, seq: 1000 })).readSeq, 2);
  assert.deepEqual(await seen, { roomId: room.id, userId: b.id, seq: 2 });
  assert.deepEqual(await getRoom(b.socket, room.id).then((r) => [r.readSeq, r.unread]), [2, 0]);
  await sendMany(a.socket, room.id, 3);
  assert.deepEqual(
    await getRoom(b.socket, room.id).then((r) => [r.readSeq, r.unread]),
    [2, 3],
    "messages after the clamped marker count as unread",
  );
});

test("unread never counts the caller's own messages", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  await sendMany(a.socket, room.id, 2);
  await sendMany(b.socket, room.id, 3);
  await sendMany(a.socket, room.id, 1);
  assert.deepEqual(await getRoom(a.socket, room.id).then((r) => [r.lastSeq, r.unread]), [6, 3]);
  assert.deepEqual(await getRoom(b.socket, room.id).then((r) => [r.lastSeq, r.unread]), [6, 3]);
  await ok(b.socket, "room:read", { roomId: room.id, seq: 4 });
  assert.deepEqual(await getRoom(b.socket, room.id).then((r) => [r.readSeq, r.unread]), [4, 1]);
  await ok(a.socket, "room:read", { roomId: room.id, seq: 3 });
  assert.deepEqual(await getRoom(a.socket, room.id).then((r) => [r.readSeq, r.unread]), [3, 2]);
  await sendMany(b.socket, room.id, 2);
  assert.deepEqual(await getRoom(b.socket, room.id).then((r) => [r.readSeq, r.unread]), [4, 1]);
  assert.deepEqual(await getRoom(a.socket, room.id).then((r) => [r.readSeq, r.unread]), [3, 4]);
});

test("a read marker in an empty room stays at 0", async () => {
  const a = await person(server);
  const room = await group(a, []);
  assert.equal((await ok(a.socket, "room:read", { roomId: room.id, seq: 5 })).readSeq, 0);
  assert.deepEqual(await getRoom(a.socket, room.id).then((r) => [r.readSeq, r.unread]), [0, 0]);
});

test("room:read needs a whole, non-negative seq", async () => {
  const a = await person(server);
  const room = await group(a, []);
  await sendMany(a.socket, room.id, 2);
  for (const seq of [-1, 1.5, "2", null, undefined, true]) {
    const res = await request(a.socket, "room:read", { roomId: room.id, seq });
    expectError(res, "BAD_REQUEST", `seq ${JSON.stringify(seq)}`);
  }
  assert.equal((await getRoom(a.socket, room.id)).readSeq, 0);
});
