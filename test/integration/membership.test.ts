/**
 * Group membership: room:addMembers, room:setRole, room:removeMember and room:leave, who may do
 * what, ownership hand-over, and which sockets hear about a room before and after.
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
  expectError,
  getRoom,
  group,
  ISO,
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

test("an added user's sockets at once receive room:updated and the room's new messages", async () => {
  const a = await person(server);
  const b = await person(server);
  const d = await person(server, "Dana Added");
  const d2 = await server.connect(d.user);
  const room = await group(a, [b]);
  const updates = [d.socket, d2, b.socket].map((s) =>
    waitFor(s, "room:updated", (r) => r.id === room.id && r.members.some((m) => m.userId === d.id)),
  );
  const { room: grown } = await ok(a.socket, "room:addMembers", { roomId: room.id, userIds: [d.id] });
  const added = memberOf(grown, d.id);
  assert.deepEqual([added.name, added.role, added.readSeq], ["Dana Added", "member", 0]);
  assert.match(added.joinedAt, ISO);
  await Promise.all(updates);

  const arrivals = [d.socket, d2].map((s) => waitFor(s, "message:new", (m) => m.roomId === room.id));
  const sent = await send(a.socket, room.id, "welcome");
  for (const got of await Promise.all(arrivals)) assert.equal(got.id, sent.id);
  assert.deepEqual(memberIds(await getRoom(d.socket, room.id)), [a.id, b.id, d.id].sort());
  const listed = (await ok(d.socket, "room:list", {})).rooms.map((r) => r.id);
  assert.deepEqual(listed, [room.id], "the one room Dana is in");
});

test("room:addMembers with an unknown user answers NOT_FOUND and adds nobody", async () => {
  const a = await person(server);
  const d = await person(server);
  const room = await group(a, []);
  const res = await request(a.socket, "room:addMembers", { roomId: room.id, userIds: [d.id, MISSING_ID] });
  expectError(res, "NOT_FOUND", "adding an unknown user");
  assert.deepEqual(memberIds(await getRoom(a.socket, room.id)), [a.id]);
  expectError(await request(d.socket, "room:get", { roomId: room.id }), "NOT_FOUND");
});

test("adding someone who is already a member keeps one membership and their role", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  await request(a.socket, "room:addMembers", { roomId: room.id, userIds: [a.id, b.id] });
  const after = await getRoom(a.socket, room.id);
  assert.equal(after.members.length, 2);
  assert.equal(memberOf(after, a.id).role, "owner");
  assert.equal(memberOf(after, b.id).role, "member");
});

test("the same new user listed twice in room:addMembers is added once", async () => {
  const a = await person(server);
  const d = await person(server);
  const room = await group(a, []);
  const { room: grown } = await ok(a.socket, "room:addMembers", { roomId: room.id, userIds: [d.id, d.id] });
  assert.deepEqual(memberIds(grown), [a.id, d.id].sort());
  assert.deepEqual(memberIds(await getRoom(d.socket, room.id)), [a.id, d.id].sort());
});

test("room:setRole lets the owner promote and demote a member and broadcasts room:updated", async () => {
  const a = await person(server);
  const b = await person(server);
  const c = await person(server);
  const room = await group(a, [b, c]);
  const seen = [b.socket, c.socket].map((s) =>
    waitFor(s, "room:updated", (r) => r.id === room.id && memberOf(r, b.id).role === "admin"),
  );
  const promoted = await ok(a.socket, "room:setRole", { roomId: room.id, userId: b.id, role: "admin" });
  assert.equal(memberOf(promoted.room, b.id).role, "admin");
  await Promise.all(seen);
  assert.equal(memberOf(await getRoom(c.socket, room.id), b.id).role, "admin");
  const demoted = await ok(a.socket, "room:setRole", { roomId: room.id, userId: b.id, role: "member" });
  assert.equal(memberOf(demoted.room, b.id).role, "member");
  assert.equal(memberOf(await getRoom(b.socket, room.id), b.id).role, "member");
});

test("the owner's role cannot be changed, 'owner' cannot be given, and non-members are NOT_FOUND", async () => {
  const a = await person(server);
  const b = await person(server);
  const stranger = await person(server);
  const room = await group(a, [b]);
  const setRole = (userId: string, role: string) =>
    request(a.socket, "room:setRole", { roomId: room.id, userId, role });
  expectError(await setRole(a.id, "member"), "FORBIDDEN", "demoting the owner");
  expectError(await setRole(a.id, "admin"), "FORBIDDEN", "changing the owner's role");
  expectError(await setRole(b.id, "owner"), "BAD_REQUEST", "giving the owner role");
  expectError(await setRole(stranger.id, "admin"), "NOT_FOUND", "a user who is not a member");
  const after = await getRoom(a.socket, room.id);
  assert.deepEqual([memberOf(after, a.id).role, memberOf(after, b.id).role], ["owner", "member"]);
});

test("an admin can rename the group, add and remove plain members", async () => {
  const a = await person(server);
  const b = await person(server);
  const c = await person(server);
  const e = await person(server);
  const room = await group(a, [b, c]);
  await ok(a.socket, "room:setRole", { roomId: room.id, userId: b.id, role: "admin" });
  assert.equal(
    (await ok(b.socket, "room:update", { roomId: room.id, name: "Admin's name" })).room.name,
    "Admin's name",
  );
  await ok(b.socket, "room:addMembers", { roomId: room.id, userIds: [e.id] });
  await ok(b.socket, "room:removeMember", { roomId: room.id, userId: e.id });
  await ok(b.socket, "room:removeMember", { roomId: room.id, userId: c.id });
  assert.deepEqual(memberIds(await getRoom(a.socket, room.id)), [a.id, b.id].sort());
});

test("an admin cannot remove the owner or another admin, and nobody can remove the owner", async () => {
  const a = await person(server);
  const b = await person(server);
  const c = await person(server);
  const room = await group(a, [b, c]);
  await ok(a.socket, "room:setRole", { roomId: room.id, userId: b.id, role: "admin" });
  await ok(a.socket, "room:setRole", { roomId: room.id, userId: c.id, role: "admin" });
  const remove = (by: typeof a, userId: string) =>
    request(by.socket, "room:removeMember", { roomId: room.id, userId });
  expectError(await remove(b, a.id), "FORBIDDEN", "admin removing the owner");
  expectError(await remove(b, c.id), "FORBIDDEN", "admin removing an admin");
  expectError(await remove(a, a.id), "FORBIDDEN", "owner removing themselves");
  assert.deepEqual(memberIds(await getRoom(a.socket, room.id)), [a.id, b.id, c.id].sort());
  assert.equal(memberOf(await getRoom(a.socket, room.id), a.id).role, "owner");
});

test("a removed user gets room:removed on every socket and no more events of that room", async () => {
  const a = await person(server);
  const b = await person(server);
  const c = await person(server);
  const c2 = await server.connect(c.user);
  const room = await group(a, [b, c]);
  const removedSeen = [c.socket, c2].map((s) => waitFor(s, "room:removed", (p) => p.roomId === room.id));
  const othersSeen = waitFor(
    b.socket,
    "room:updated",
    (r) => r.id === room.id && !r.members.some((m) => m.userId === c.id),
  );
  const { room: shrunk } = await ok(a.socket, "room:removeMember", { roomId: room.id, userId: c.id });
  assert.deepEqual(memberIds(shrunk), [a.id, b.id].sort());
  for (const p of await Promise.all(removedSeen)) assert.deepEqual(p, { roomId: room.id });
  await othersSeen;

  const leakedA = collect(c.socket, "message:new");
  const leakedB = collect(c2, "message:new");
  const toB = waitFor(b.socket, "message:new", (m) => m.roomId === room.id);
  await send(a.socket, room.id, "not for c");
  await toB;
  await roundTrip(c.socket, c2);
  assert.deepEqual([leakedA.length, leakedB.length], [0, 0], "no message:new after room:removed");
  expectError(await request(c.socket, "room:get", { roomId: room.id }), "NOT_FOUND", "a removed member");
  expectError(await request(c.socket, "message:history", { roomId: room.id }), "NOT_FOUND");
  assert.ok(!(await ok(c.socket, "room:list", {})).rooms.some((r) => r.id === room.id));
});

test("a removed user who is added again receives the room's events again", async () => {
  const a = await person(server);
  const c = await person(server);
  const room = await group(a, [c]);
  const removed = waitFor(c.socket, "room:removed", (p) => p.roomId === room.id);
  await ok(a.socket, "room:removeMember", { roomId: room.id, userId: c.id });
  await removed;
  const back = waitFor(c.socket, "room:updated", (r) => r.id === room.id);
  await ok(a.socket, "room:addMembers", { roomId: room.id, userIds: [c.id] });
  await back;
  const arrives = waitFor(c.socket, "message:new", (m) => m.roomId === room.id);
  const sent = await send(a.socket, room.id, "welcome back");
  assert.equal((await arrives).id, sent.id);
});

test("room:leave answers {} and the leaver's sockets stop receiving the room", async () => {
  const a = await person(server);
  const b = await person(server);
  const b2 = await server.connect(b.user);
  const room = await group(a, [b]);
  const removed = [b.socket, b2].map((s) => waitFor(s, "room:removed", (p) => p.roomId === room.id));
  const aSees = waitFor(a.socket, "room:updated", (r) => r.id === room.id && r.members.length === 1);
  assert.deepEqual(await request(b.socket, "room:leave", { roomId: room.id }), { ok: true });
  await Promise.all(removed);
  await aSees;
  const leaked = [collect(b.socket, "message:new"), collect(b2, "message:new")];
  await send(a.socket, room.id, "after b left");
  await roundTrip(b.socket, b2);
  assert.deepEqual(
    leaked.map((l) => l.length),
    [0, 0],
  );
  expectError(await request(b.socket, "room:get", { roomId: room.id }), "NOT_FOUND");
  expectError(await request(b.socket, "room:leave", { roomId: room.id }), "NOT_FOUND", "leaving twice");
});

test("a leaving owner hands ownership to the longest-standing admin", async () => {
  const a = await person(server);
  const [b, c, d] = [await person(server), await person(server), await person(server)];
  const room = await group(a, [b]);
  clock.tick();
  await ok(a.socket, "room:addMembers", { roomId: room.id, userIds: [c.id] });
  clock.tick();
  await ok(a.socket, "room:addMembers", { roomId: room.id, userIds: [d.id] });
  await ok(a.socket, "room:setRole", { roomId: room.id, userId: c.id, role: "admin" });
  await ok(a.socket, "room:setRole", { roomId: room.id, userId: d.id, role: "admin" });
  const seen = waitFor(
    b.socket,
    "room:updated",
    (r) => r.id === room.id && !r.members.some((m) => m.userId === a.id),
  );
  await ok(a.socket, "room:leave", { roomId: room.id });
  const announced = await seen;
  assert.equal(memberOf(announced, c.id).role, "owner");
  const after = await getRoom(c.socket, room.id);
  assert.deepEqual(
    [b, c, d].map((p) => memberOf(after, p.id).role),
    ["member", "owner", "admin"],
  );
  await ok(c.socket, "room:setRole", { roomId: room.id, userId: b.id, role: "admin" });
});

test("a leaving owner without admins hands ownership to the longest-standing member", async () => {
  const a = await person(server);
  const [b, c] = [await person(server), await person(server)];
  const room = await group(a, []);
  await ok(a.socket, "room:addMembers", { roomId: room.id, userIds: [b.id] });
  clock.tick();
  await ok(a.socket, "room:addMembers", { roomId: room.id, userIds: [c.id] });
  await ok(a.socket, "room:leave", { roomId: room.id });
  const after = await getRoom(c.socket, room.id);
  assert.deepEqual([memberOf(after, b.id).role, memberOf(after, c.id).role], ["owner", "member"]);
  assert.equal(after.members.length, 2);
});

test("when the last member leaves, the room is closed for everyone", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  await send(a.socket, room.id);
  await ok(b.socket, "room:leave", { roomId: room.id });
  await ok(a.socket, "room:leave", { roomId: room.id });
  for (const p of [a, b]) {
    expectError(await request(p.socket, "room:get", { roomId: room.id }), "NOT_FOUND", "a closed room");
    assert.ok(!(await ok(p.socket, "room:list", {})).rooms.some((r) => r.id === room.id));
  }
  const alone = await group(a, [], "solo");
  await ok(a.socket, "room:leave", { roomId: alone.id });
  expectError(await request(a.socket, "room:get", { roomId: alone.id }), "NOT_FOUND", "a closed solo room");
});

test("membership changes and leaving are BAD_REQUEST on a direct room", async () => {
  const a = await person(server);
  const b = await person(server);
  const c = await person(server);
  const { room } = await ok(a.socket, "room:direct", { userId: b.id });
  const roomId = room.id;
  const attempts = {
    "room:update": await request(a.socket, "room:update", { roomId, name: "Renamed" }),
    "room:addMembers": await request(a.socket, "room:addMembers", { roomId, userIds: [c.id] }),
    "room:setRole": await request(a.socket, "room:setRole", { roomId, userId: b.id, role: "admin" }),
    "room:removeMember": await request(a.socket, "room:removeMember", { roomId, userId: b.id }),
    "room:leave": await request(b.socket, "room:leave", { roomId }),
  };
  for (const [event, res] of Object.entries(attempts))
    expectError(res, "BAD_REQUEST", `${event} on a direct room`);
  const after = await getRoom(a.socket, roomId);
  assert.deepEqual(memberIds(after), [a.id, b.id].sort());
  assert.equal(after.name, null);
  expectError(await request(c.socket, "room:get", { roomId }), "NOT_FOUND");
});
