/**
 * Gaps in live events: every message change takes the room's next `rev`, so when one live event
 * is lost on its way to the SDK, the next one shows the gap and the SDK fetches what it missed —
 * against a real server, with the event really lost inside the client's socket.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ok, startServer, type TestServer, until } from "../support/harness.js";
import { failNextAnswer, loseIncoming, sdkClient } from "../support/sdk.js";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.close();
});

const send = (socket: Parameters<typeof ok>[0], roomId: string, body: string) =>
  ok(socket, "message:send", { roomId, body, clientId: `${body}-${Math.random()}` }).then((r) => r.message);

/** Alice on the SDK with the room open, Bob on a plain socket, one message already in. */
async function openRoom(t: Parameters<typeof sdkClient>[0]) {
  const alice = await server.addUser();
  const bob = await server.addUser();
  const a = await sdkClient(t, server, alice);
  const b = await server.connect(bob);
  const { room } = await ok(b, "room:direct", { userId: alice.id });
  const first = await send(b, room.id, "m1");
  await until(() => a.state.room(room.id)?.lastSeq === 1, 5000, "Alice to see the room");
  await a.openRoom(room.id);
  const changes: number[] = [];
  a.socket.onAnyOutgoing((event: string, input: { sinceRev?: number }) => {
    if (event === "message:changes") changes.push(input.sinceRev ?? -1);
  });
  return { a, b, room, first, changes };
}

test("a lost message:new is fetched when the next message comes, and each message shows once in order", async (t) => {
  const { a, b, room, changes } = await openRoom(t);
  const lost = loseIncoming(a.socket, "message:new");
  await send(b, room.id, "m2");
  await lost;
  await send(b, room.id, "m3");
  await until(() => a.state.messages(room.id).length === 3, 5000, "the lost message to be fetched");

  const truth = (await ok(b, "message:history", { roomId: room.id })).messages;
  assert.deepEqual(a.state.messages(room.id), truth, "Alice's copy equals the server's history");
  assert.deepEqual(
    a.state.messages(room.id).map((m) => m.body),
    ["m1", "m2", "m3"],
  );
  assert.deepEqual(changes, [1], "one fetch, from the last rev before the gap");
  assert.equal(a.state.roomState(room.id)?.cursor, 3);
  assert.equal(a.state.roomState(room.id)?.hasGap(), false);
  await until(() => a.state.room(room.id)?.unread === 3, 5000, "the fetched message counted as unread");
});

test("a lost edit is fetched when the next change comes; later events during the fetch need no second one", async (t) => {
  const { a, b, room, first, changes } = await openRoom(t);
  const lost = loseIncoming(a.socket, "message:updated");
  await ok(b, "message:edit", { messageId: first.id, body: "m1 edited" });
  await lost;
  for (const body of ["m2", "m3", "m4"]) await send(b, room.id, body);
  await until(() => a.state.roomState(room.id)?.cursor === 5, 5000, "the cursor past every change");

  assert.deepEqual(
    a.state.messages(room.id).map((m) => [m.body, m.rev]),
    [
      ["m1 edited", 2],
      ["m2", 3],
      ["m3", 4],
      ["m4", 5],
    ],
  );
  assert.deepEqual(changes, [1], "one fetch at a time for the room");
});

test("a repeated live event changes nothing, and the cursor stays put", async (t) => {
  const { a, b, room, first } = await openRoom(t);
  const roomState = a.state.roomState(room.id)!;
  roomState.advance(first.rev);
  assert.equal(roomState.cursor, 1);
  assert.equal(roomState.hasGap(), false);
  await send(b, room.id, "m2");
  await until(() => roomState.cursor === 2, 5000, "the next rev to move the cursor");
  assert.deepEqual(
    a.state.messages(room.id).map((m) => m.body),
    ["m1", "m2"],
  );
});

test("a failed fetch is tried again later, and then fills the gap", async (t) => {
  const { a, b, room, changes } = await openRoom(t);
  const lost = loseIncoming(a.socket, "message:new");
  await send(b, room.id, "m2");
  await lost;
  const failed = failNextAnswer(a.socket);
  await send(b, room.id, "m3");
  await until(() => changes.length === 1, 5000, "a fetch for the gap");
  await failed;
  assert.equal(a.state.roomState(room.id)?.hasGap(), true, "still missing m2 after the failure");
  await until(() => a.state.messages(room.id).length === 3, 5000, "the retry to fetch the lost message");
  assert.deepEqual(
    a.state.messages(room.id).map((m) => m.body),
    ["m1", "m2", "m3"],
  );
  assert.deepEqual(changes, [1, 1], "the same fetch, once more");
  assert.equal(a.state.roomState(room.id)?.cursor, 3);
});
