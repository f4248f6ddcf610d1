/**
 * message:react: any member, idempotent, user ids in reaction order, emoji leave the map when
 * unused, at most 20 distinct emoji, and message:updated to every member.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { collect, ok, request, startServer, type TestServer, waitFor } from "../support/harness.js";
import { allMessages, expectError, getRoom, group, person, roundTrip, send } from "../support/rooms.js";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.close();
});

const EMOJI = [..."😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙😚🙂🤗🤩🤔"];

test("reactions list user ids in the order they reacted and are broadcast as message:updated", async () => {
  const a = await person(server);
  const b = await person(server);
  const c = await person(server);
  const room = await group(a, [b, c]);
  const m = await send(a.socket, room.id, "react to me");
  const react = (p: typeof a, emoji: string, on: boolean) =>
    ok(p.socket, "message:react", { messageId: m.id, emoji, on });

  const seenByA = waitFor(a.socket, "message:updated", (u) => u.id === m.id);
  const first = await react(c, "👍", true);
  assert.deepEqual(first.message.reactions, { "👍": [c.id] });
  assert.equal(first.message.rev, m.rev + 1, "a reaction takes the room's next rev");
  assert.deepEqual(
    [first.message.body, first.message.seq, first.message.editedAt],
    [m.body, m.seq, null],
    "a reaction is not an edit",
  );
  assert.deepEqual(await seenByA, first.message);

  await react(a, "👍", true);
  const third = await react(b, "❤️", true);
  assert.deepEqual(third.message.reactions, { "👍": [c.id, a.id], "❤️": [b.id] });
  const [stored] = await allMessages(b.socket, room.id);
  assert.deepEqual(stored?.reactions, third.message.reactions);
  assert.equal((await getRoom(a.socket, room.id)).rev, third.message.rev);
});

test("reacting twice with the same emoji is idempotent: no new rev, no broadcast", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  const m = await send(a.socket, room.id);
  await ok(a.socket, "message:react", { messageId: m.id, emoji: "🔥", on: true });
  const { message: both } = await ok(b.socket, "message:react", { messageId: m.id, emoji: "🔥", on: true });
  const heard = collect(b.socket, "message:updated");
  const again = await ok(a.socket, "message:react", { messageId: m.id, emoji: "🔥", on: true });
  assert.deepEqual(again.message, both, "a repeat keeps the first position and the rev");
  const offTwice = await ok(a.socket, "message:react", { messageId: m.id, emoji: "🎈", on: false });
  assert.deepEqual(offTwice.message, both, "removing an absent reaction changes nothing");
  assert.equal((await getRoom(a.socket, room.id)).rev, both.rev, "no new rev");
  await roundTrip(b.socket); // a broadcast of either would have arrived before this answer
  assert.deepEqual(heard, []);
  const [stored] = await allMessages(a.socket, room.id);
  assert.deepEqual(stored?.reactions, { "🔥": [a.id, b.id] });
});

test("an emoji nobody uses any more leaves the reactions map", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  const m = await send(a.socket, room.id);
  await ok(a.socket, "message:react", { messageId: m.id, emoji: "👀", on: true });
  await ok(b.socket, "message:react", { messageId: m.id, emoji: "👀", on: true });
  await ok(b.socket, "message:react", { messageId: m.id, emoji: "✨", on: true });
  const one = await ok(a.socket, "message:react", { messageId: m.id, emoji: "👀", on: false });
  assert.deepEqual(one.message.reactions, { "👀": [b.id], "✨": [b.id] });
  const seen = waitFor(a.socket, "message:updated", (u) => u.id === m.id && !("👀" in u.reactions));
  const none = await ok(b.socket, "message:react", { messageId: m.id, emoji: "👀", on: false });
  assert.deepEqual(none.message.reactions, { "✨": [b.id] });
  assert.equal(none.message.rev, one.message.rev + 1, "removing a reaction takes the room's next rev");
  assert.deepEqual((await seen).reactions, { "✨": [b.id] });
  await ok(b.socket, "message:react", { messageId: m.id, emoji: "✨", on: false });
  const [stored] = await allMessages(a.socket, room.id);
  assert.deepEqual(stored?.reactions, {});
});

test("a message holds at most 20 distinct emoji: a 21st is BAD_REQUEST, existing ones still work", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  const m = await send(a.socket, room.id);
  for (const emoji of EMOJI.slice(0, 20))
    await ok(a.socket, "message:react", { messageId: m.id, emoji, on: true });
  const res = await request(b.socket, "message:react", { messageId: m.id, emoji: EMOJI[20], on: true });
  expectError(res, "BAD_REQUEST", "a 21st distinct emoji");
  const existing = await ok(b.socket, "message:react", { messageId: m.id, emoji: EMOJI[0]!, on: true });
  assert.deepEqual(existing.message.reactions[EMOJI[0]!], [a.id, b.id]);
  assert.equal(Object.keys(existing.message.reactions).length, 20);
  await ok(a.socket, "message:react", { messageId: m.id, emoji: EMOJI[1]!, on: false });
  const freed = await ok(b.socket, "message:react", { messageId: m.id, emoji: EMOJI[20]!, on: true });
  assert.deepEqual(freed.message.reactions[EMOJI[20]!], [b.id], "a freed slot can be used again");
  assert.equal(Object.keys(freed.message.reactions).length, 20);
});

test("an emoji must be 1 to 32 characters without surrounding spaces", async () => {
  const a = await person(server);
  const room = await group(a, []);
  const m = await send(a.socket, room.id);
  for (const emoji of ["", " ", " 👍", "👍 ", "x".repeat(33), "a\u0000", "\ud83d"]) {
    const res = await request(a.socket, "message:react", { messageId: m.id, emoji, on: true });
    expectError(res, "BAD_REQUEST", `emoji ${JSON.stringify(emoji)}`);
  }
  const family = "👨‍👩‍👧‍👦";
  const ok32 = await ok(a.socket, "message:react", { messageId: m.id, emoji: "x".repeat(32), on: true });
  assert.deepEqual(ok32.message.reactions["x".repeat(32)], [a.id]);
  const zwj = await ok(a.socket, "message:react", { messageId: m.id, emoji: family, on: true });
  assert.deepEqual(zwj.message.reactions[family], [a.id]);
});

test("the emoji length limit counts code points, as every text length does", async () => {
  const a = await person(server);
  const room = await group(a, []);
  const m = await send(a.socket, room.id);
  const emoji = "😀".repeat(32);
  const res = await request(a.socket, "message:react", { messageId: m.id, emoji, on: true });
  assert.ok(res.ok, `32 code points should be accepted: ${JSON.stringify(res).slice(0, 200)}`);
  expectError(
    await request(a.socket, "message:react", { messageId: m.id, emoji: "😀".repeat(33), on: true }),
    "BAD_REQUEST",
  );
});

test("reactions need a boolean `on` and an existing message", async () => {
  const a = await person(server);
  const room = await group(a, []);
  const m = await send(a.socket, room.id);
  for (const on of ["true", 1, null, undefined]) {
    const res = await request(a.socket, "message:react", { messageId: m.id, emoji: "👍", on });
    expectError(res, "BAD_REQUEST", `on ${JSON.stringify(on)}`);
  }
  const res = await request(a.socket, "message:react", { messageId: "987654321", emoji: "👍", on: true });
  expectError(res, "NOT_FOUND");
  const [stored] = await allMessages(a.socket, room.id);
  assert.deepEqual(stored?.reactions, {});
});

test("emoji that look like Object.prototype keys are stored like any other", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  const m = await send(a.socket, room.id);
  // any 1–32 characters without spaces around them is an emoji to the contract, these too
  for (const emoji of ["constructor", "toString", "__proto__"]) {
    const res = await ok(a.socket, "message:react", { messageId: m.id, emoji, on: true });
    assert.ok(
      Object.hasOwn(res.message.reactions, emoji),
      `the ack lists ${emoji}: ${JSON.stringify(res.message)}`,
    );
    assert.deepEqual(res.message.reactions[emoji], [a.id]);
  }
  // what b reads back: the three, as plain own keys (an object literal would treat __proto__ apart)
  const [stored] = await allMessages(b.socket, room.id);
  assert.deepEqual(Object.entries(stored?.reactions ?? {}), [
    ["constructor", [a.id]],
    ["toString", [a.id]],
    ["__proto__", [a.id]],
  ]);
  assert.equal(Object.hasOwn(Object.prototype, a.id), false);
});

test("a deleted message takes no reactions", async () => {
  const a = await person(server);
  const room = await group(a, []);
  const m = await send(a.socket, room.id, "gone soon");
  await ok(a.socket, "message:react", { messageId: m.id, emoji: "👍", on: true });
  const { message: gone } = await ok(a.socket, "message:delete", { messageId: m.id });
  assert.deepEqual(gone.reactions, {});
  const res = await request(a.socket, "message:react", { messageId: m.id, emoji: "🎉", on: true });
  expectError(res, "BAD_REQUEST", "reacting to a deleted message");
  assert.equal(res.ok ? "" : res.error.message, "You can't react to a deleted message.");
  const [stored] = await allMessages(a.socket, room.id);
  assert.deepEqual([stored?.deleted, stored?.reactions, stored?.rev], [true, {}, gone.rev]);
});
