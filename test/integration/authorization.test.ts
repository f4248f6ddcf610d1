/**
 * Who may do what. A user in no shared room gets NOT_FOUND for every room and message event on an
 * existing room or message — the very answer a non-existent id gets — and nothing changes or is
 * broadcast. Members without the needed role get FORBIDDEN where the contract says so.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ErrorBody, Message, Room } from "../../src/protocol/index.js";
import { collect, ok, request, startServer, type TestServer, type TestSocket } from "../support/harness.js";
import {
  allMessages,
  clientId,
  expectError,
  getRoom,
  group,
  MISSING_ID,
  memberOf,
  type Person,
  person,
  roundTrip,
  send,
} from "../support/rooms.js";

let server: TestServer;
let owner: Person;
let admin: Person;
let member: Person;
let other: Person;
let outsider: Person;
let neighbour: Person;
let room: Room;
let direct: Room;
let byOwner: Message;
let byAdmin: Message;
let byMember: Message;
let inDirect: Message;
let snapshot: { room: Room; messages: Message[] };

before(async () => {
  server = await startServer();
  owner = await person(server, "Olga Owner");
  admin = await person(server, "Adam Admin");
  member = await person(server, "Mia Member");
  other = await person(server, "Otto Other");
  outsider = await person(server, "Oscar Outsider");
  neighbour = await person(server, "Nina Neighbour");
  room = await group(owner, [admin, member, other], "Private");
  await ok(owner.socket, "room:setRole", { roomId: room.id, userId: admin.id, role: "admin" });
  byOwner = await send(owner.socket, room.id, "owner's words");
  byAdmin = await send(admin.socket, room.id, "admin's words");
  byMember = await send(member.socket, room.id, "member's words");
  direct = (await ok(owner.socket, "room:direct", { userId: member.id })).room;
  inDirect = await send(member.socket, direct.id, "just between us");
  // the neighbour shares another room with every member, but not the private one
  await group(owner, [admin, member, other, neighbour], "Lobby");
  snapshot = {
    room: await getRoom(owner.socket, room.id),
    messages: await allMessages(owner.socket, room.id),
  };
});
after(async () => {
  await server?.close();
});

/** Every room or message event, with a payload aimed at `roomId` / `messageId`. */
const outsiderCases: [string, (roomId: string, messageId: string) => unknown][] = [
  ["room:get", (roomId) => ({ roomId })],
  ["room:update", (roomId) => ({ roomId, name: "Taken over" })],
  ["room:addMembers", (roomId) => ({ roomId, userIds: [outsider.id] })],
  ["room:setRole", (roomId) => ({ roomId, userId: member.id, role: "admin" })],
  ["room:removeMember", (roomId) => ({ roomId, userId: member.id })],
  ["room:leave", (roomId) => ({ roomId })],
  ["room:read", (roomId) => ({ roomId, seq: 1 })],
  ["message:send", (roomId) => ({ roomId, body: "let me in", clientId: clientId() })],
  ["message:history", (roomId) => ({ roomId })],
  ["message:changes", (roomId) => ({ roomId, sinceRev: 0 })],
  ["message:search", (roomId) => ({ query: "words", roomId })],
  ["typing", (roomId) => ({ roomId, typing: true })],
  ["message:edit", (_, messageId) => ({ messageId, body: "defaced" })],
  ["message:delete", (_, messageId) => ({ messageId })],
  ["message:react", (_, messageId) => ({ messageId, emoji: "💩", on: true })],
];

/** The error with the ids taken out, so two answers can be compared. */
const shape = (error: ErrorBody, ids: string[]) => {
  let text = JSON.stringify({ code: error.code, message: error.message, details: error.details });
  for (const id of ids) text = text.replaceAll(id, "<id>");
  return JSON.parse(text) as unknown;
};

const listen = (sockets: TestSocket[]) =>
  sockets.flatMap((s) =>
    (
      ["message:new", "message:updated", "message:deleted", "room:updated", "typing", "room:read"] as const
    ).map((event) => ({ event, seen: collect(s, event) })),
  );

for (const [who, caller] of [
  ["a user in no shared room", () => outsider],
  ["a member of another room only", () => neighbour],
] as const) {
  for (const [event, payload] of outsiderCases) {
    test(`${event} by ${who} answers NOT_FOUND, exactly as for an id that does not exist`, async () => {
      const outsider = caller();
      const heard = listen([owner.socket, member.socket]);
      for (const [roomId, messageId] of [
        [room.id, byMember.id],
        [direct.id, inDirect.id],
      ] as const) {
        const existing = await request(outsider.socket, event as "room:get", payload(roomId, messageId));
        const missing = await request(outsider.socket, event as "room:get", payload(MISSING_ID, MISSING_ID));
        expectError(existing, "NOT_FOUND", `${event} on a room of others`);
        expectError(missing, "NOT_FOUND", `${event} on a missing id`);
        if (existing.ok || missing.ok) return;
        assert.deepEqual(
          shape(existing.error, [roomId, messageId]),
          shape(missing.error, [MISSING_ID]),
          "the answer does not reveal that the room exists",
        );
      }
      await roundTrip(owner.socket, member.socket);
      for (const { event: e, seen } of heard) assert.equal(seen.length, 0, `members received ${e}`);
    });
  }
}

test("after every attempt by non-members the room and its messages are unchanged", async () => {
  const now = await getRoom(owner.socket, room.id);
  assert.deepEqual(
    { name: now.name, members: now.members, lastSeq: now.lastSeq, rev: now.rev },
    {
      name: snapshot.room.name,
      members: snapshot.room.members,
      lastSeq: snapshot.room.lastSeq,
      rev: snapshot.room.rev,
    },
  );
  assert.deepEqual(await allMessages(owner.socket, room.id), snapshot.messages);
  assert.deepEqual(await allMessages(member.socket, direct.id), [inDirect]);
  assert.deepEqual((await ok(outsider.socket, "room:list", {})).rooms, []);
  assert.equal((await ok(neighbour.socket, "room:list", {})).rooms.length, 1, "only the lobby");
});

test("a member without a role gets FORBIDDEN for managing the group and others' messages", async () => {
  const cases: [string, string, unknown][] = [
    ["room:update", "rename", { roomId: room.id, name: "Mine now" }],
    ["room:addMembers", "add a user", { roomId: room.id, userIds: [outsider.id] }],
    ["room:setRole", "promote someone", { roomId: room.id, userId: other.id, role: "admin" }],
    ["room:setRole", "promote themselves", { roomId: room.id, userId: member.id, role: "admin" }],
    ["room:removeMember", "remove a member", { roomId: room.id, userId: other.id }],
    ["room:removeMember", "remove the admin", { roomId: room.id, userId: admin.id }],
    ["message:edit", "edit the owner's message", { messageId: byOwner.id, body: "edited by member" }],
    ["message:delete", "delete the owner's message", { messageId: byOwner.id }],
    ["message:delete", "delete the admin's message", { messageId: byAdmin.id }],
  ];
  for (const [event, what, payload] of cases) {
    expectError(
      await request(member.socket, event as "room:get", payload),
      "FORBIDDEN",
      `a member may not ${what}`,
    );
  }
});

test("an admin gets FORBIDDEN for roles, removing the owner and editing others' messages", async () => {
  const cases: [string, string, unknown][] = [
    ["room:setRole", "promote a member", { roomId: room.id, userId: member.id, role: "admin" }],
    ["room:setRole", "demote themselves", { roomId: room.id, userId: admin.id, role: "member" }],
    ["room:removeMember", "remove the owner", { roomId: room.id, userId: owner.id }],
    ["message:edit", "edit the owner's message", { messageId: byOwner.id, body: "edited by admin" }],
    ["message:edit", "edit a member's message", { messageId: byMember.id, body: "edited by admin" }],
  ];
  for (const [event, what, payload] of cases) {
    expectError(
      await request(admin.socket, event as "room:get", payload),
      "FORBIDDEN",
      `an admin may not ${what}`,
    );
  }
});

test("the owner gets FORBIDDEN for editing others' messages and for removing or demoting themselves", async () => {
  const cases: [string, string, unknown][] = [
    ["message:edit", "edit a member's message", { messageId: byMember.id, body: "edited by owner" }],
    ["room:removeMember", "remove themselves", { roomId: room.id, userId: owner.id }],
    ["room:setRole", "demote themselves", { roomId: room.id, userId: owner.id, role: "member" }],
  ];
  for (const [event, what, payload] of cases) {
    expectError(
      await request(owner.socket, event as "room:get", payload),
      "FORBIDDEN",
      `the owner may not ${what}`,
    );
  }
});

test("in a direct room a user may not edit the other's messages", async () => {
  expectError(
    await request(owner.socket, "message:edit", { messageId: inDirect.id, body: "mine?" }),
    "FORBIDDEN",
  );
});

test("after every refused attempt the roles, members and messages are unchanged", async () => {
  const now = await getRoom(owner.socket, room.id);
  assert.equal(now.name, "Private");
  assert.deepEqual(
    [owner, admin, member, other].map((p) => memberOf(now, p.id).role),
    ["owner", "admin", "member", "member"],
  );
  assert.equal(now.members.length, 4);
  assert.deepEqual(await allMessages(owner.socket, room.id), snapshot.messages);
  assert.deepEqual(await allMessages(owner.socket, direct.id), [inDirect]);
});
