/**
 * The SDK's local state: catch-up after a disconnect, unread counts, rooms appearing, changing and
 * going, typing and presence — all against a real server.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Message } from "../../src/protocol/index.js";
import { ok, startServer, type TestServer, until } from "../support/harness.js";
import { sdkClient } from "../support/sdk.js";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.close();
});

const send = (socket: Parameters<typeof ok>[0], roomId: string, body: string) =>
  ok(socket, "message:send", { roomId, body, clientId: `${body}-${Math.random()}` }).then((r) => r.message);

test("after a disconnect, catch-up applies new messages, edits, deletions and reactions with no gap or repeat", async (t) => {
  const alice = await server.addUser();
  const bob = await server.addUser();
  // two messages per catch-up call, so the cursor is followed across pages
  const a = await sdkClient(t, server, alice, { changesPageSize: 2 });
  const b = await server.connect(bob);
  const { room } = await ok(b, "room:direct", { userId: alice.id });
  const early: Message[] = [];
  for (const body of ["m1", "m2", "m3"]) early.push(await send(b, room.id, body));
  await until(() => a.state.room(room.id)?.lastSeq === 3, 5000, "Alice to see the room");
  await a.openRoom(room.id);
  assert.equal(a.state.messages(room.id).length, 3);

  a.socket.disconnect();
  await until(() => a.status === "offline");
  for (const body of ["m4", "m5", "m6", "m7", "m8"]) await send(b, room.id, body);
  await ok(b, "message:edit", { messageId: early[0]!.id, body: "m1 edited" });
  await ok(b, "message:delete", { messageId: early[1]!.id });
  await ok(b, "message:react", { messageId: early[2]!.id, emoji: "🎉", on: true });

  const synced = new Promise<void>((resolve) => a.on("synced", resolve));
  a.reconnectNow();
  await synced;

  const truth = (await ok(b, "message:history", { roomId: room.id })).messages;
  assert.deepEqual(a.state.messages(room.id), truth, "Alice's copy equals the server's history");
  assert.deepEqual(
    a.state.messages(room.id).map((m) => m.seq),
    [1, 2, 3, 4, 5, 6, 7, 8],
    "no gap, no repeat",
  );
  assert.equal(a.state.room(room.id)?.unread, 8);
  assert.equal(
    a.state.roomState(room.id)?.cursor,
    truth.reduce((max, m) => Math.max(max, m.rev), 0),
  );
});

test("unread counts rise with new messages and clear when read here or on another device", async (t) => {
  const alice = await server.addUser();
  const bob = await server.addUser();
  const a = await sdkClient(t, server, alice);
  const otherDevice = await server.connect(alice);
  const b = await server.connect(bob);
  const { room } = await ok(b, "room:direct", { userId: alice.id });
  await send(b, room.id, "hi");
  await send(b, room.id, "are you there?");
  await until(() => a.state.room(room.id)?.unread === 2, 5000, "two unread");
  assert.equal(a.state.room(room.id)?.lastMessage?.body, "are you there?");

  await ok(otherDevice, "room:read", { roomId: room.id, seq: 2 });
  await until(() => a.state.room(room.id)?.unread === 0, 5000, "read on the other device");

  await send(b, room.id, "one more");
  await until(() => a.state.room(room.id)?.unread === 1, 5000, "one unread");
  await a.markRead(room.id);
  assert.equal(a.state.room(room.id)?.unread, 0);
  assert.equal(a.state.room(room.id)?.readSeq, 3);
  await until(
    () => a.state.room(room.id)?.members.find((m) => m.userId === alice.id)?.readSeq === 3,
    5000,
    "my read receipt in the member list",
  );
});

test("rooms appear, are renamed and disappear as others add, rename and remove me", async (t) => {
  const alice = await server.addUser("Alice Rooms");
  const bob = await server.addUser();
  const a = await sdkClient(t, server, alice);
  const b = await server.connect(bob);
  const { room } = await ok(b, "room:create", { name: "Lunch", memberIds: [alice.id] });
  await until(() => a.state.room(room.id)?.name === "Lunch", 5000, "the new group");
  assert.equal(a.state.room(room.id)?.unread, 0);
  await ok(b, "room:update", { roomId: room.id, name: "Lunch on Friday" });
  await until(() => a.state.room(room.id)?.name === "Lunch on Friday", 5000, "the new name");
  assert.equal(a.state.userName(bob.id), bob.name);
  await ok(b, "room:removeMember", { roomId: room.id, userId: alice.id });
  await until(() => a.state.room(room.id) === undefined, 5000, "the room to go");
});

test("typing indicators and presence follow the other user", async (t) => {
  const alice = await server.addUser();
  const bob = await server.addUser();
  const a = await sdkClient(t, server, alice);
  const b = await server.connect(bob);
  const { room } = await ok(b, "room:direct", { userId: alice.id });
  await until(() => a.state.room(room.id) !== undefined);
  await until(async () => {
    await a.loadPresence([bob.id]);
    return a.state.presence(bob.id)?.online === true;
  });
  b.emit("typing", { roomId: room.id, typing: true });
  await until(() => a.state.typing(room.id).includes(bob.id), 5000, "Bob typing");
  b.emit("typing", { roomId: room.id, typing: false });
  await until(() => a.state.typing(room.id).length === 0, 5000, "Bob stopped");
  b.close();
  await until(() => a.state.presence(bob.id)?.online === false, 5000, "Bob offline");
});

test("mention counts rise with live messages that mention me or everyone, and clear when read", async (t) => {
  const alice = await server.addUser();
  const bob = await server.addUser();
  const carl = await server.addUser();
  const a = await sdkClient(t, server, alice);
  const b = await server.connect(bob);
  const { room } = await ok(b, "room:create", { name: "Mentions", memberIds: [alice.id, carl.id] });
  await until(() => a.state.room(room.id) !== undefined, 5000, "Alice to see the room");
  await a.refreshRoom(room.id);
  await send(b, room.id, `hi @${alice.login}`);
  await send(b, room.id, `and @${carl.login}`);
  await send(b, room.id, "@here standup");
  await until(() => a.state.room(room.id)?.unread === 3, 5000, "three unread");
  assert.equal(a.state.room(room.id)?.mentions, 2, "her own mention and @here");
  // the server agrees with what the SDK counted
  await a.refreshRoom(room.id);
  assert.equal(a.state.room(room.id)?.mentions, 2);
  await a.markRead(room.id);
  assert.equal(a.state.room(room.id)?.mentions, 0);
});
