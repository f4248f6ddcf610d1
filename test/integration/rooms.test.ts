/**
 * Rooms as the contract describes them: room:create, room:get, room:list, room:update and
 * room:direct — the ack, the stored state and what the other members' sockets receive.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  collect,
  ok,
  request,
  startServer,
  TestClock,
  type TestServer,
  waitFor,
} from "../support/harness.js";
import {
  assertRoomShape,
  expectError,
  getRoom,
  group,
  MISSING_ID,
  memberIds,
  memberOf,
  person,
  roundTrip,
  send,
} from "../support/rooms.js";

let server: TestServer;
// moved on between writes whose order by time a test checks, instead of sleeping
const clock = new TestClock();
before(async () => {
  server = await startServer({ app: { now: clock.now } });
});
after(async () => {
  await server?.close();
});

const listIds = async (p: { socket: Parameters<typeof getRoom>[0] }, only: readonly string[]) =>
  (await ok(p.socket, "room:list", {})).rooms.map((r) => r.id).filter((id) => only.includes(id));

test("room:create makes the caller the owner and returns the full, stored room", async () => {
  const a = await person(server, "Ada Owner");
  const b = await person(server, "Bob Member");
  const c = await server.addUser("Cy Offline");
  const { room } = await ok(a.socket, "room:create", { name: "  Launch team  ", memberIds: [b.id, c.id] });
  assertRoomShape(room);
  assert.equal(room.type, "group");
  assert.equal(room.name, "Launch team", "the name is trimmed");
  assert.deepEqual(memberIds(room), [a.id, b.id, c.id].sort());
  assert.deepEqual(
    { name: memberOf(room, a.id).name, role: memberOf(room, a.id).role },
    { name: "Ada Owner", role: "owner" },
  );
  assert.deepEqual(
    { name: memberOf(room, b.id).name, role: memberOf(room, b.id).role },
    { name: "Bob Member", role: "member" },
  );
  assert.deepEqual(
    { name: memberOf(room, c.id).name, role: memberOf(room, c.id).role },
    { name: "Cy Offline", role: "member" },
  );
  for (const m of room.members) assert.equal(m.readSeq, 0);
  assert.deepEqual([room.lastSeq, room.rev, room.lastMessage, room.readSeq, room.unread], [0, 0, null, 0, 0]);

  const stored = await getRoom(b.socket, room.id);
  assert.equal(stored.name, "Launch team");
  assert.deepEqual(
    stored.members.map((m) => [m.userId, m.role, m.joinedAt]).sort(),
    room.members.map((m) => [m.userId, m.role, m.joinedAt]).sort(),
  );
});

test("every member of a new group receives room:updated, the creator's other sockets included", async () => {
  const a = await person(server);
  const a2 = await server.connect(a.user);
  const b = await person(server);
  const bGot = waitFor(b.socket, "room:updated");
  const a2Got = waitFor(a2, "room:updated");
  const { room } = await ok(a.socket, "room:create", { name: "Heads up", memberIds: [b.id] });
  const [forB, forA2] = await Promise.all([bGot, a2Got]);
  for (const shared of [forB, forA2]) {
    assert.equal(shared.id, room.id);
    assert.equal(shared.name, "Heads up");
    assert.deepEqual(memberIds(shared), [a.id, b.id].sort());
    assertRoomShape(shared, false);
  }
  assert.ok(!("unread" in forB) && !("readSeq" in forB), "room:updated carries no per-user fields");

  // listening before the send: B's copy may arrive before A's ack does
  const bHears = waitFor(b.socket, "message:new", (m) => m.body === "are you there?");
  const message = await send(a.socket, room.id, "are you there?");
  const arrived = await bHears;
  assert.equal(arrived.id, message.id);
  assert.equal(arrived.body, "are you there?", "the new member's socket is in the room at once");
});

test("room:create with an unknown member answers NOT_FOUND and creates nothing", async () => {
  const a = await person(server);
  const b = await person(server);
  const before = (await ok(a.socket, "room:list", {})).rooms.map((r) => r.id);
  const seenByB = collect(b.socket, "room:updated");
  const res = await request(a.socket, "room:create", { name: "Ghosts", memberIds: [b.id, MISSING_ID] });
  expectError(res, "NOT_FOUND", "room:create with an unknown member");
  await roundTrip(b.socket);
  assert.deepEqual(
    (await ok(a.socket, "room:list", {})).rooms.map((r) => r.id),
    before,
  );
  assert.deepEqual((await ok(b.socket, "room:list", {})).rooms, []);
  assert.equal(seenByB.length, 0, "nobody hears about a room that was not created");
});

test("naming yourself or someone twice in memberIds still gives one membership each, the caller as owner", async () => {
  const a = await person(server);
  const b = await person(server);
  // the contract sets no rule against repeats: they are accepted, and count once
  const res = await ok(a.socket, "room:create", { name: "Doubles", memberIds: [a.id, b.id, b.id] });
  assert.deepEqual(memberIds(res.room), [a.id, b.id].sort());
  assert.deepEqual([memberOf(res.room, a.id).role, memberOf(res.room, b.id).role], ["owner", "member"]);
  assert.deepEqual(memberIds(await getRoom(b.socket, res.room.id)), [a.id, b.id].sort());
});

test("room names are trimmed and must have 1 to 100 characters, counted in code points", async () => {
  const a = await person(server);
  for (const name of ["", "   ", "\t\n", "\u00a0\u3000", "x".repeat(101), "😀".repeat(101)]) {
    expectError(
      await request(a.socket, "room:create", { name, memberIds: [] }),
      "BAD_REQUEST",
      `name ${name.length}`,
    );
  }
  const long = await ok(a.socket, "room:create", { name: "😀".repeat(100), memberIds: [] });
  assert.equal(long.room.name, "😀".repeat(100));
  const padded = await ok(a.socket, "room:create", { name: ` ${"y".repeat(100)} `, memberIds: [] });
  assert.equal(padded.room.name, "y".repeat(100));
});

test("room:get shows lastSeq, rev and lastMessage after messages", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  await send(a.socket, room.id, "first");
  const last = await send(b.socket, room.id, "second");
  const seen = await getRoom(a.socket, room.id);
  assert.equal(seen.lastSeq, 2);
  assert.equal(seen.rev, last.rev);
  assert.deepEqual(seen.lastMessage, last);
});

test("room:list puts the room with the most recent message first", async () => {
  const a = await person(server);
  const b = await person(server);
  const r1 = await group(a, [b], "one");
  const r2 = await group(a, [b], "two");
  const r3 = await group(a, [b], "three");
  const ids = [r1.id, r2.id, r3.id];
  for (const r of [r1, r2, r3, r1]) {
    await send(b.socket, r.id);
    clock.tick();
  }
  assert.deepEqual(await listIds(a, ids), [r1.id, r3.id, r2.id]);
  await send(a.socket, r2.id);
  assert.deepEqual(await listIds(a, ids), [r2.id, r1.id, r3.id]);
  assert.deepEqual(await listIds(b, ids), [r2.id, r1.id, r3.id], "the order is the same for every member");
});

test("a newly created room comes before rooms whose last activity is older", async () => {
  const a = await person(server);
  const b = await person(server);
  const old = await group(a, [b], "old");
  await send(a.socket, old.id);
  clock.tick();
  const fresh = await group(b, [a], "fresh");
  assert.deepEqual(await listIds(a, [old.id, fresh.id]), [fresh.id, old.id]);
});

test("room:list gives each room's unread count without the caller's own messages", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  for (let i = 0; i < 3; i++) await send(a.socket, room.id);
  for (let i = 0; i < 2; i++) await send(b.socket, room.id);
  const forA = (await ok(a.socket, "room:list", {})).rooms.find((r) => r.id === room.id);
  const forB = (await ok(b.socket, "room:list", {})).rooms.find((r) => r.id === room.id);
  assert.ok(forA && forB);
  assertRoomShape(forA);
  assert.deepEqual([forA.lastSeq, forA.readSeq, forA.unread], [5, 0, 2]);
  assert.deepEqual([forB.lastSeq, forB.readSeq, forB.unread], [5, 0, 3]);
  assert.equal(forA.lastMessage?.seq, 5);
});

test("room:update renames a group, trims the name and broadcasts room:updated", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b], "Before");
  const bGot = waitFor(b.socket, "room:updated", (r) => r.id === room.id && r.name !== "Before");
  const { room: renamed } = await ok(a.socket, "room:update", { roomId: room.id, name: "  After  " });
  assert.equal(renamed.name, "After");
  assert.equal((await bGot).name, "After");
  assert.equal((await getRoom(b.socket, room.id)).name, "After");
  expectError(await request(a.socket, "room:update", { roomId: room.id, name: " " }), "BAD_REQUEST");
  expectError(
    await request(a.socket, "room:update", { roomId: room.id, name: "n".repeat(101) }),
    "BAD_REQUEST",
  );
  assert.equal((await getRoom(a.socket, room.id)).name, "After");
});

test("room:direct creates the one direct room once and tells the other user only on creation", async () => {
  const a = await person(server, "Dee Caller");
  const b = await person(server, "Eve Callee");
  const bGot = waitFor(b.socket, "room:updated");
  const { room } = await ok(a.socket, "room:direct", { userId: b.id });
  assertRoomShape(room);
  assert.equal(room.type, "direct");
  assert.equal(room.name, null);
  assert.deepEqual(memberIds(room), [a.id, b.id].sort());
  assert.equal(memberOf(room, b.id).name, "Eve Callee");
  assert.equal((await bGot).id, room.id);

  const later = collect(b.socket, "room:updated");
  assert.equal((await ok(a.socket, "room:direct", { userId: b.id })).room.id, room.id);
  assert.equal((await ok(b.socket, "room:direct", { userId: a.id })).room.id, room.id);
  await roundTrip(b.socket);
  assert.equal(later.length, 0, "asking again creates nothing and announces nothing");
  const bRooms = (await ok(b.socket, "room:list", {})).rooms;
  assert.deepEqual(
    bRooms.map((r) => r.id),
    [room.id],
  );
});

test("room:direct with yourself is BAD_REQUEST, with an unknown user NOT_FOUND", async () => {
  const a = await person(server);
  expectError(await request(a.socket, "room:direct", { userId: a.id }), "BAD_REQUEST", "direct with self");
  expectError(await request(a.socket, "room:direct", { userId: MISSING_ID }), "NOT_FOUND", "unknown user");
  expectError(await request(a.socket, "room:direct", { userId: "abc" }), "BAD_REQUEST", "not an id");
  assert.deepEqual((await ok(a.socket, "room:list", {})).rooms, []);
});

test("ten concurrent room:direct calls from both sides yield exactly one room", async () => {
  const a = await person(server);
  const b = await person(server);
  const calls = Array.from({ length: 10 }, (_, i) =>
    i % 2 === 0
      ? ok(a.socket, "room:direct", { userId: b.id })
      : ok(b.socket, "room:direct", { userId: a.id }),
  );
  const ids = new Set((await Promise.all(calls)).map((r) => r.room.id));
  assert.equal(ids.size, 1, `one room id, got ${[...ids].join(", ")}`);
  const directs = (await ok(a.socket, "room:list", {})).rooms.filter((r) => r.type === "direct");
  assert.deepEqual(
    directs.map((r) => r.id),
    [...ids],
  );
});

test("messages in a direct room reach both users", async () => {
  const a = await person(server);
  const b = await person(server);
  const { room } = await ok(a.socket, "room:direct", { userId: b.id });
  const toB = waitFor(b.socket, "message:new", (m) => m.roomId === room.id);
  const sent = await send(a.socket, room.id, "psst");
  assert.deepEqual(await toB, sent);
  const toA = waitFor(a.socket, "message:new", (m) => m.roomId === room.id && m.seq === 2);
  await send(b.socket, room.id, "hi back");
  assert.equal((await toA).body, "hi back");
});
