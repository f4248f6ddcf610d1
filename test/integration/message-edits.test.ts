/**
 * message:edit and message:delete: only the sender edits; the sender, the owner or an admin
 * deletes; deleted messages keep their seq with an empty body; every member's sockets hear of it.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Message } from "../../src/protocol/index.js";
import { collect, ok, request, startServer, type TestServer, waitFor } from "../support/harness.js";
import { allMessages, expectError, getRoom, group, ISO, MISSING_ID, person, send } from "../support/rooms.js";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.close();
});

test("message:edit by the sender changes the body, sets editedAt and broadcasts message:updated", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  const original = await send(a.socket, room.id, "tpyo");
  const seen = waitFor(b.socket, "message:updated", (m) => m.id === original.id);
  const { message: edited } = await ok(a.socket, "message:edit", {
    messageId: original.id,
    body: "typo fixed",
  });
  assert.deepEqual(
    [edited.id, edited.seq, edited.body, edited.senderId, edited.createdAt, edited.clientId],
    [original.id, original.seq, "typo fixed", a.id, original.createdAt, original.clientId],
  );
  assert.match(edited.editedAt ?? "", ISO);
  assert.equal(edited.rev, original.rev + 1, "an edit takes the room's next rev");
  assert.deepEqual(await seen, edited);
  assert.deepEqual(await allMessages(b.socket, room.id), [edited]);
  const r = await getRoom(b.socket, room.id);
  assert.equal(r.rev, edited.rev);
  assert.equal(r.lastMessage?.body, "typo fixed");
});

test("message:edit validates the body like message:send", async () => {
  const a = await person(server);
  const room = await group(a, []);
  const m = await send(a.socket, room.id, "keep me");
  const edit = (body: string) => request(a.socket, "message:edit", { messageId: m.id, body });
  expectError(await edit(""), "BAD_REQUEST");
  expectError(await edit("  "), "BAD_REQUEST");
  expectError(await edit("x\u0000"), "BAD_REQUEST");
  expectError(await edit("x".repeat(server.config.maxMessageLength + 1)), "PAYLOAD_TOO_LARGE");
  assert.equal((await allMessages(a.socket, room.id))[0]?.body, "keep me");
});

test("edits and deletions reach every member's sockets, the author's other sockets included", async () => {
  const a = await person(server);
  const a2 = await server.connect(a.user);
  const b = await person(server);
  const b2 = await server.connect(b.user);
  const room = await group(a, [b]);
  const m = await send(a.socket, room.id, "v1");
  const updates = [a2, b.socket, b2].map((s) => waitFor(s, "message:updated", (u) => u.id === m.id));
  const { message: edited } = await ok(a.socket, "message:edit", { messageId: m.id, body: "v2" });
  for (const got of await Promise.all(updates)) assert.deepEqual(got, edited);
  const deletions = [a2, b.socket, b2].map((s) => waitFor(s, "message:deleted", (u) => u.id === m.id));
  const { message: gone } = await ok(a.socket, "message:delete", { messageId: m.id });
  for (const got of await Promise.all(deletions)) assert.deepEqual(got, gone);
});

test("only the sender may edit: other members get FORBIDDEN", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  await ok(a.socket, "room:setRole", { roomId: room.id, userId: b.id, role: "admin" });
  const byB = await send(b.socket, room.id, "b wrote this");
  const byA = await send(a.socket, room.id, "a wrote this");
  expectError(
    await request(a.socket, "message:edit", { messageId: byB.id, body: "owner edit" }),
    "FORBIDDEN",
  );
  expectError(
    await request(b.socket, "message:edit", { messageId: byA.id, body: "admin edit" }),
    "FORBIDDEN",
  );
  assert.deepEqual(
    (await allMessages(a.socket, room.id)).map((m) => m.body),
    ["b wrote this", "a wrote this"],
  );
});

test("message:delete by the sender empties the body, keeps the seq and broadcasts message:deleted", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  const first = await send(b.socket, room.id, "keep");
  const secret = await send(b.socket, room.id, "oops, a secret");
  const seen = waitFor(a.socket, "message:deleted", (m) => m.id === secret.id);
  const { message: gone } = await ok(b.socket, "message:delete", { messageId: secret.id });
  assert.deepEqual([gone.id, gone.seq, gone.body, gone.deleted], [secret.id, 2, "", true]);
  assert.equal(gone.rev, secret.rev + 1, "a deletion takes the room's next rev");
  assert.deepEqual(await seen, gone);
  const stored = await allMessages(a.socket, room.id);
  assert.deepEqual(stored, [first, gone]);
  const r = await getRoom(a.socket, room.id);
  assert.equal(r.lastSeq, 2, "deleting never reuses or removes a seq");
  assert.ok(!JSON.stringify(r).includes("a secret"), "the deleted text is gone from the room view too");
  const next = await send(a.socket, room.id);
  assert.equal(next.seq, 3);
});

test("editing or deleting an older message leaves the room's last message as it was", async () => {
  const a = await person(server);
  const room = await group(a, []);
  const older = await send(a.socket, room.id, "older");
  const newest = await send(a.socket, room.id, "newest");
  await ok(a.socket, "message:edit", { messageId: older.id, body: "older, edited" });
  assert.deepEqual((await getRoom(a.socket, room.id)).lastMessage, newest);
  await ok(a.socket, "message:delete", { messageId: older.id });
  assert.deepEqual((await getRoom(a.socket, room.id)).lastMessage, newest);
  const { message: edited } = await ok(a.socket, "message:edit", {
    messageId: newest.id,
    body: "newest, edited",
  });
  assert.deepEqual((await getRoom(a.socket, room.id)).lastMessage, edited, "the last message shows its edit");
});

test("an edit to the same text changes nothing and sends nothing", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  const m = await send(a.socket, room.id, "already right");
  const heard = collect(b.socket, "message:updated");
  const { message: same } = await ok(a.socket, "message:edit", { messageId: m.id, body: "already right" });
  assert.deepEqual(same, m, "the message as it was: no editedAt, the same rev");
  assert.equal((await getRoom(a.socket, room.id)).rev, m.rev, "no new rev");
  await ok(b.socket, "room:list", {}); // a round trip: a broadcast would have arrived before it
  assert.deepEqual(heard, []);
});

test("deleting a message again changes nothing and sends nothing", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  const m = await send(a.socket, room.id, "delete me twice");
  const heard = collect(b.socket, "message:deleted");
  const { message: gone } = await ok(a.socket, "message:delete", { messageId: m.id });
  const { message: again } = await ok(a.socket, "message:delete", { messageId: m.id });
  assert.deepEqual(again, gone, "the same message, with the same rev");
  assert.equal((await getRoom(a.socket, room.id)).rev, gone.rev, "no new rev");
  // a round trip on Bob's socket: a second broadcast would have arrived before its answer
  await ok(b.socket, "room:list", {});
  assert.deepEqual(heard, [gone]);
});

test("the owner and admins may delete others' messages; plain members may not", async () => {
  const a = await person(server);
  const b = await person(server);
  const c = await person(server);
  const room = await group(a, [b, c]);
  await ok(a.socket, "room:setRole", { roomId: room.id, userId: b.id, role: "admin" });
  const [m1, m2, m3] = [
    await send(c.socket, room.id),
    await send(c.socket, room.id),
    await send(a.socket, room.id),
  ];
  assert.equal((await ok(a.socket, "message:delete", { messageId: m1.id })).message.deleted, true);
  assert.equal((await ok(b.socket, "message:delete", { messageId: m2.id })).message.deleted, true);
  expectError(await request(c.socket, "message:delete", { messageId: m3.id }), "FORBIDDEN");
  const stored = await allMessages(a.socket, room.id);
  assert.deepEqual(
    stored.map((m: Message) => m.deleted),
    [true, true, false],
  );
});

test("a deleted message can no longer be edited", async () => {
  const a = await person(server);
  const room = await group(a, []);
  const m = await send(a.socket, room.id, "short-lived");
  await ok(a.socket, "message:delete", { messageId: m.id });
  const res = await request(a.socket, "message:edit", { messageId: m.id, body: "back from the dead" });
  expectError(res, "BAD_REQUEST", "editing a deleted message");
  assert.equal(res.ok ? "" : res.error.message, "A deleted message can't be edited.");
  const [stored] = await allMessages(a.socket, room.id);
  assert.deepEqual([stored?.body, stored?.deleted], ["", true]);
});

test("editing or deleting an unknown message is NOT_FOUND", async () => {
  const a = await person(server);
  expectError(await request(a.socket, "message:edit", { messageId: MISSING_ID, body: "x" }), "NOT_FOUND");
  expectError(await request(a.socket, "message:delete", { messageId: MISSING_ID }), "NOT_FOUND");
});
