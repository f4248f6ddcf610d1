/**
 * Helpers for the room and message integration tests: people with connected sockets, groups,
 * messages, and assertions on the contract's shapes (PROTOCOL.md §Objects) and error acks.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { Ack, ErrorCode, Member, Message, Room, SharedRoom } from "../../src/protocol/index.js";
import { ok, type TestServer, type TestSocket, type TestUser } from "./harness.js";

/** Ids on the wire are decimal strings. */
export const ID = /^[1-9][0-9]*$/;
/** Times are ISO-8601 UTC strings. */
export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$/;
/** An id that no room, message or user in a test server has. */
export const MISSING_ID = "987654321";

/** A directory user together with one connected socket. */
export interface Person {
  id: string;
  user: TestUser;
  socket: TestSocket;
}

/** Adds a user to the built-in directory and connects one socket for them. */
export async function person(server: TestServer, name?: string): Promise<Person> {
  const user = await server.addUser(name);
  const socket = await server.connect(user);
  return { id: user.id, user, socket };
}

/** `count` connected people, created one after another (so their ids ascend). */
export async function people(server: TestServer, count: number, prefix = "Member"): Promise<Person[]> {
  const list: Person[] = [];
  for (let i = 0; i < count; i++) list.push(await person(server, `${prefix} ${String.fromCharCode(65 + i)}`));
  return list;
}

/** Creates a group owned by `owner` with the given members. */
export async function group(
  owner: Person,
  members: readonly { id: string }[],
  name = "Team room",
): Promise<Room> {
  const { room } = await ok(owner.socket, "room:create", { name, memberIds: members.map((m) => m.id) });
  return room;
}

/** A fresh clientId for `message:send`. */
export const clientId = (): string => randomUUID();

/** Sends a message and returns the stored message from the ack. */
export async function send(
  socket: TestSocket,
  roomId: string,
  body = `hello ${randomUUID().slice(0, 8)}`,
  replyToId?: string,
): Promise<Message> {
  const payload = replyToId
    ? { roomId, body, clientId: clientId(), replyToId }
    : { roomId, body, clientId: clientId() };
  const { message } = await ok(socket, "message:send", payload);
  return message;
}

/** Sends `count` messages one after another; returns them in order. */
export async function sendMany(
  socket: TestSocket,
  roomId: string,
  count: number,
  prefix = "msg",
): Promise<Message[]> {
  const sent: Message[] = [];
  for (let i = 1; i <= count; i++) sent.push(await send(socket, roomId, `${prefix} ${i}`));
  return sent;
}

/** The room as `socket`'s user sees it now. */
export async function getRoom(socket: TestSocket, roomId: string): Promise<Room> {
  return (await ok(socket, "room:get", { roomId })).room;
}

/** Every message of a room, paged forward with `afterSeq`. */
export async function allMessages(socket: TestSocket, roomId: string): Promise<Message[]> {
  const all: Message[] = [];
  let afterSeq = 0;
  for (;;) {
    const page = await ok(socket, "message:history", { roomId, afterSeq, limit: 100 });
    all.push(...page.messages);
    if (!page.hasMore || page.messages.length === 0) return all;
    afterSeq = page.messages.at(-1)!.seq;
  }
}

/** The member entry of `userId`, failing the test when there is none. */
export function memberOf(room: SharedRoom, userId: string): Member {
  const member = room.members.find((m) => m.userId === userId);
  assert.ok(member, `user ${userId} should be a member of room ${room.id}`);
  return member;
}

/** Member ids, sorted, for set comparisons. */
export const memberIds = (room: SharedRoom): string[] => room.members.map((m) => m.userId).sort();

/** Fails unless `response` is an error ack with exactly `code` (one code: tests never accept a choice). */
export function expectError(response: Ack<unknown>, code: ErrorCode, what = ""): void {
  const shown = JSON.stringify(response)?.slice(0, 300);
  assert.equal(response.ok, false, `${what} should fail with ${code}, got ${shown}`);
  if (response.ok) return;
  assert.equal(response.error.code, code, `${what} should fail with ${code}, got ${shown}`);
  assert.equal(typeof response.error.message, "string", `${what}: error.message should be a string`);
}

/**
 * A request on each socket: anything the server sent to them before has arrived when this
 * resolves, since one connection keeps the order. The barrier for "nothing more came".
 */
export const roundTrip = (...sockets: TestSocket[]): Promise<unknown> =>
  Promise.all(sockets.map((socket) => ok(socket, "room:list", {})));

/** Checks the shape of a Message against the contract. */
export function assertMessageShape(message: Message): void {
  assert.match(message.id, ID, "message.id");
  assert.match(message.roomId, ID, "message.roomId");
  assert.ok(Number.isInteger(message.seq) && message.seq >= 1, `message.seq ${message.seq}`);
  assert.ok(Number.isInteger(message.rev) && message.rev >= 1, `message.rev ${message.rev}`);
  assert.match(message.senderId, ID, "message.senderId");
  assert.equal(typeof message.body, "string");
  assert.ok(message.clientId === null || typeof message.clientId === "string", "message.clientId");
  assert.ok(message.replyToId === null || ID.test(message.replyToId), "message.replyToId");
  assert.match(message.createdAt, ISO, "message.createdAt");
  assert.ok(message.editedAt === null || ISO.test(message.editedAt), "message.editedAt");
  assert.equal(typeof message.deleted, "boolean");
  assert.equal(typeof message.reactions, "object");
  assert.ok(message.reactions !== null && !Array.isArray(message.reactions), "message.reactions is a map");
  assert.ok(Array.isArray(message.files), "message.files is a list");
  assert.ok(Array.isArray(message.mentions), "message.mentions is a list");
  for (const id of message.mentions) assert.match(id, ID, "message.mentions holds user ids");
  assert.equal(typeof message.mentionsAll, "boolean", "message.mentionsAll");
}

/** Checks the shape of a Room (or, with `perUser` false, of a SharedRoom) against the contract. */
export function assertRoomShape(room: SharedRoom | Room, perUser = true): void {
  assert.match(room.id, ID, "room.id");
  assert.ok(room.type === "direct" || room.type === "group", `room.type ${room.type}`);
  assert.ok(room.name === null || typeof room.name === "string", "room.name");
  assert.match(room.createdAt, ISO, "room.createdAt");
  assert.ok(Array.isArray(room.members), "room.members");
  for (const m of room.members) {
    assert.match(m.userId, ID, "member.userId");
    assert.equal(typeof m.name, "string", "member.name");
    assert.ok(["owner", "admin", "member"].includes(m.role), `member.role ${m.role}`);
    assert.match(m.joinedAt, ISO, "member.joinedAt");
    assert.ok(Number.isInteger(m.readSeq) && m.readSeq >= 0, `member.readSeq ${m.readSeq}`);
  }
  assert.ok(
    Number.isInteger(room.memberCount) && room.memberCount >= room.members.length,
    `room.memberCount ${room.memberCount}`,
  );
  assert.ok(Number.isInteger(room.lastSeq) && room.lastSeq >= 0, "room.lastSeq");
  assert.ok(Number.isInteger(room.rev) && room.rev >= 0, "room.rev");
  if (room.lastMessage !== null) assertMessageShape(room.lastMessage);
  if (room.record !== null) {
    for (const key of ["kind", "id", "title", "url"] as const) {
      assert.equal(typeof room.record[key], "string", `room.record.${key}`);
    }
  }
  if (perUser) {
    const r = room as Room;
    assert.ok(Number.isInteger(r.readSeq) && r.readSeq >= 0, "room.readSeq");
    assert.ok(Number.isInteger(r.unread) && r.unread >= 0, "room.unread");
    assert.ok(Number.isInteger(r.mentions) && r.mentions >= 0 && r.mentions <= r.unread, "room.mentions");
    assert.ok(["all", "mentions", "none"].includes(r.notify), `room.notify ${r.notify}`);
  }
}
