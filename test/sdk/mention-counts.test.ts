/**
 * The SDK's unread mention count when messages change after they arrived: an edit that adds or
 * removes a mention of me, a deletion, someone else's edit, my own edit, and reading part of the
 * way. Each check ends by asking the server, which must agree with what the SDK counted.
 */
import assert from "node:assert/strict";
import { after, before, type TestContext, test } from "node:test";
import type { Message } from "../../src/protocol/index.js";
import type { ChatClient } from "../../src/sdk/index.js";
import { ok, startServer, type TestServer, until } from "../support/harness.js";
import { sdkClient } from "../support/sdk.js";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.close();
});

type Socket = Parameters<typeof ok>[0];
const send = (socket: Socket, roomId: string, body: string) =>
  ok(socket, "message:send", { roomId, body, clientId: `${body}-${Math.random()}` }).then((r) => r.message);

/** The next live event of this kind for this message, heard by the SDK after it applied it. */
function heard(
  client: ChatClient,
  event: "message:updated" | "message:deleted",
  id: string,
): Promise<Message> {
  return new Promise((resolve) => {
    const off = client.on(event, (message) => {
      if (message.id !== id) return;
      off();
      resolve(message);
    });
  });
}

/** Alice on the SDK, Bob and Carl on plain sockets, in one group. */
async function group(t: TestContext) {
  const alice = await server.addUser();
  const bob = await server.addUser();
  const carl = await server.addUser();
  const a = await sdkClient(t, server, alice);
  const b = await server.connect(bob);
  const c = await server.connect(carl);
  const { room } = await ok(b, "room:create", { name: "Edits", memberIds: [alice.id, carl.id] });
  await until(() => a.state.room(room.id) !== undefined, 5000, "Alice to see the room");
  await a.refreshRoom(room.id);
  return { alice, bob, carl, a, b, c, roomId: room.id };
}

/** The count the SDK holds, then the server's own for the same room. */
async function bothCounts(a: ChatClient, roomId: string): Promise<[number, number]> {
  const local = a.state.room(roomId)?.mentions ?? -1;
  await a.refreshRoom(roomId);
  return [local, a.state.room(roomId)?.mentions ?? -1];
}

test("an edit that adds a mention of me counts it, one that removes it takes it back (room not opened)", async (t) => {
  const { alice, a, b, roomId } = await group(t);
  const m = await send(b, roomId, "lunch?");
  await until(() => a.state.room(roomId)?.unread === 1, 5000, "one unread");
  assert.equal(a.state.room(roomId)?.mentions, 0);

  let updated = heard(a, "message:updated", m.id);
  await ok(b, "message:edit", { messageId: m.id, body: `lunch, @${alice.login}?` });
  await updated;
  assert.deepEqual(await bothCounts(a, roomId), [1, 1]);

  updated = heard(a, "message:updated", m.id);
  await ok(b, "message:edit", { messageId: m.id, body: "lunch?" });
  await updated;
  assert.deepEqual(await bothCounts(a, roomId), [0, 0]);
});

test("with the room open: edits, @all and a deletion move the count; edits of read messages do not", async (t) => {
  const { alice, a, b, c, roomId } = await group(t);
  await a.openRoom(roomId);
  const first = await send(b, roomId, "one");
  const second = await send(c, roomId, `two @${alice.login}`);
  const third = await send(b, roomId, "three");
  await until(() => a.state.room(roomId)?.unread === 3, 5000, "three unread");
  assert.equal(a.state.room(roomId)?.mentions, 1);

  let updated = heard(a, "message:updated", first.id);
  await ok(b, "message:edit", { messageId: first.id, body: "one @all" });
  await updated;
  assert.equal(a.state.room(roomId)?.mentions, 2, "@all mentions me too");

  // editing a message that already mentioned me, keeping the mention, changes nothing
  updated = heard(a, "message:updated", second.id);
  await ok(c, "message:edit", { messageId: second.id, body: `two, @${alice.login}!` });
  await updated;
  assert.equal(a.state.room(roomId)?.mentions, 2);

  const deleted = heard(a, "message:deleted", second.id);
  await ok(c, "message:delete", { messageId: second.id });
  await deleted;
  assert.deepEqual(await bothCounts(a, roomId), [1, 1], "a deleted message mentions nobody");

  await a.markRead(roomId);
  assert.equal(a.state.room(roomId)?.mentions, 0);
  updated = heard(a, "message:updated", third.id);
  await ok(b, "message:edit", { messageId: third.id, body: `three @${alice.login}` });
  await updated;
  assert.deepEqual(await bothCounts(a, roomId), [0, 0], "a read message's new mention is not unread");
});

test("an edit of an older message the SDK has not loaded fetches the room's count from the server", async (t) => {
  const { alice, a, b, roomId } = await group(t);
  const old = await send(b, roomId, "old news");
  await send(b, roomId, "newer");
  await until(() => a.state.room(roomId)?.unread === 2, 5000, "two unread");
  const updated = heard(a, "message:updated", old.id);
  await ok(b, "message:edit", { messageId: old.id, body: `old news @${alice.login}` });
  await updated;
  // the SDK can't know whether "old news" mentioned her before, so it asks the server
  await until(() => a.state.room(roomId)?.mentions === 1, 5000, "the server's count");
  assert.deepEqual(await bothCounts(a, roomId), [1, 1]);
});

test("my own edits never count, and reading part of the way keeps the mentions after my marker", async (t) => {
  const { alice, a, b, c, roomId } = await group(t);
  await a.openRoom(roomId);
  const { message: mine } = await a.request("message:send", { roomId, body: "my note", clientId: "mine-1" });
  await send(b, roomId, `first @${alice.login}`);
  await send(c, roomId, "middle");
  await send(b, roomId, `last @${alice.login}`);
  await until(() => a.state.room(roomId)?.mentions === 2, 5000, "two mentions");

  const updated = heard(a, "message:updated", mine.id);
  await a.request("message:edit", { messageId: mine.id, body: `my note @all @${alice.login}` });
  await updated;
  assert.equal(a.state.room(roomId)?.mentions, 2, "my own message is never an unread mention");

  const otherDevice = await server.connect(alice);
  const read = new Promise<void>((resolve) => {
    const off = a.on("room:read", (p) => {
      if (p.roomId !== roomId || p.seq !== 3) return;
      off();
      resolve();
    });
  });
  await ok(otherDevice, "room:read", { roomId, seq: 3 });
  await read;
  assert.equal(a.state.room(roomId)?.mentions, 1, "only the last one is after the marker");
  await until(() => a.state.room(roomId)?.unread === 1, 5000, "the server's unread count");
  assert.deepEqual(await bothCounts(a, roomId), [1, 1]);
});
