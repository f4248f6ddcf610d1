/**
 * message:changes, the exact catch-up cursor: every message created or changed after `sinceRev`,
 * once, in its latest state, ascending `rev`, with a `rev` cursor and `hasMore` for paging.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Message } from "../../src/protocol/index.js";
import { ok, request, startServer, type TestServer } from "../support/harness.js";
import { allMessages, expectError, getRoom, group, type Person, person, sendMany } from "../support/rooms.js";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.close();
});

/** A room with five messages, then: edit #2, react #3, delete #4, edit #2 again. */
async function busyRoom(): Promise<{ a: Person; b: Person; roomId: string; sent: Message[] }> {
  const a = await person(server);
  const b = await person(server);
  const roomId = (await group(a, [b])).id;
  const sent = await sendMany(a.socket, roomId, 5, "change");
  const [, m2, m3, m4] = sent as [Message, Message, Message, Message, Message];
  await ok(a.socket, "message:edit", { messageId: m2.id, body: "edited once" });
  await ok(b.socket, "message:react", { messageId: m3.id, emoji: "👍", on: true });
  await ok(a.socket, "message:delete", { messageId: m4.id });
  await ok(a.socket, "message:edit", { messageId: m2.id, body: "edited twice" });
  return { a, b, roomId, sent };
}

/** Follows the cursor until hasMore is false; returns every page. */
async function drain(p: Person, roomId: string, sinceRev: number, limit: number) {
  const pages: { messages: Message[]; rev: number; hasMore: boolean }[] = [];
  let cursor = sinceRev;
  for (let i = 0; i < 100; i++) {
    const res = await ok(p.socket, "message:changes", { roomId, sinceRev: cursor, limit });
    pages.push({ messages: res.messages, rev: res.rev, hasMore: res.hasMore });
    if (!res.hasMore) return pages;
    assert.ok(res.rev > cursor, `the cursor moves forward (${cursor} → ${res.rev})`);
    cursor = res.rev;
  }
  throw new Error("message:changes never ended");
}

test("sinceRev 0 returns every message once, in its latest state, in ascending rev", async () => {
  const { b, roomId, sent } = await busyRoom();
  const res = await ok(b.socket, "message:changes", { roomId, sinceRev: 0 });
  const ids = res.messages.map((m) => m.id);
  assert.equal(new Set(ids).size, 5, "each message once");
  assert.deepEqual(
    ids,
    [sent[0], sent[4], sent[2], sent[3], sent[1]].map((m) => m?.id),
    "ordered by the rev of each message's latest change",
  );
  const revs = res.messages.map((m) => m.rev);
  assert.deepEqual(
    revs,
    [...revs].sort((x, y) => x - y),
  );
  assert.equal(new Set(revs).size, revs.length, "no two messages share a rev");
  const byId = new Map(res.messages.map((m) => [m.id, m]));
  assert.equal(byId.get(sent[1]!.id)?.body, "edited twice");
  assert.deepEqual(byId.get(sent[2]!.id)?.reactions, { "👍": [b.id] });
  assert.deepEqual([byId.get(sent[3]!.id)?.deleted, byId.get(sent[3]!.id)?.body], [true, ""]);
  const room = await getRoom(b.socket, roomId);
  assert.deepEqual([res.rev, res.hasMore], [room.rev, false]);
  assert.equal(room.rev, revs.at(-1), "Room.rev is the latest change");
  const history = await allMessages(b.socket, roomId);
  assert.deepEqual(
    [...res.messages].sort((x, y) => x.seq - y.seq),
    history,
    "changes and history agree on every message",
  );
});

test("small limits page through the changes with the rev cursor, with no gap and no repeat", async () => {
  const { b, roomId } = await busyRoom();
  const whole = await ok(b.socket, "message:changes", { roomId, sinceRev: 0 });
  const pages = await drain(b, roomId, 0, 2);
  assert.deepEqual(
    pages.map((p) => p.messages.length),
    [2, 2, 1],
  );
  assert.deepEqual(
    pages.map((p) => p.hasMore),
    [true, true, false],
  );
  for (const p of pages) assert.equal(p.rev, p.messages.at(-1)?.rev, "the cursor is the last message's rev");
  assert.deepEqual(
    pages.flatMap((p) => p.messages),
    whole.messages,
  );
  const nothing = await ok(b.socket, "message:changes", { roomId, sinceRev: whole.rev });
  assert.deepEqual([nothing.messages, nothing.rev, nothing.hasMore], [[], whole.rev, false]);
});

test("a cursor from the middle returns only what changed after it", async () => {
  const { a, b, roomId, sent } = await busyRoom();
  const before = await getRoom(b.socket, roomId);
  await ok(a.socket, "message:react", { messageId: sent[0]!.id, emoji: "🎉", on: true });
  const fresh = await sendMany(a.socket, roomId, 2, "later");
  const res = await ok(b.socket, "message:changes", { roomId, sinceRev: before.rev });
  assert.deepEqual(
    res.messages.map((m) => m.id),
    [sent[0]!.id, ...fresh.map((m) => m.id)],
  );
  assert.deepEqual(res.messages[0]?.reactions, { "🎉": [a.id] });
  assert.equal(res.rev, (await getRoom(b.socket, roomId)).rev);
});

test("catching up page by page while the room keeps changing ends in the room's exact state", async () => {
  const a = await person(server);
  const b = await person(server);
  const roomId = (await group(a, [b])).id;
  const sent = await sendMany(a.socket, roomId, 12, "live");
  const known = new Map<string, Message>();
  let cursor = 0;
  for (let round = 0; round < 50; round++) {
    const res = await ok(b.socket, "message:changes", { roomId, sinceRev: cursor, limit: 3 });
    for (const m of res.messages) {
      const previous = known.get(m.id);
      assert.ok(!previous || previous.rev < m.rev, `message ${m.id} only comes back after a newer change`);
      known.set(m.id, m);
    }
    cursor = res.rev;
    if (round < 6) {
      const target = sent[(round * 5) % sent.length]!;
      if (round % 3 === 0)
        await ok(a.socket, "message:edit", { messageId: target.id, body: `edit ${round}` });
      else if (round % 3 === 1)
        await ok(b.socket, "message:react", { messageId: target.id, emoji: "✅", on: true });
      else await sendMany(a.socket, roomId, 1, `extra ${round}`);
    } else if (!res.hasMore) break;
  }
  const history = await allMessages(a.socket, roomId);
  assert.deepEqual(
    [...known.values()].sort((x, y) => x.seq - y.seq),
    history,
  );
  assert.equal(cursor, (await getRoom(a.socket, roomId)).rev);
});

test("message:changes limit may be 1 to 500; other limits and cursors are BAD_REQUEST", async () => {
  const a = await person(server);
  const roomId = (await group(a, [])).id;
  await sendMany(a.socket, roomId, 3);
  const one = await ok(a.socket, "message:changes", { roomId, sinceRev: 0, limit: 1 });
  assert.deepEqual([one.messages.length, one.hasMore], [1, true]);
  const max = await ok(a.socket, "message:changes", { roomId, sinceRev: 0, limit: 500 });
  assert.deepEqual([max.messages.length, max.hasMore], [3, false]);
  const bad: Record<string, unknown>[] = [
    { sinceRev: 0, limit: 0 },
    { sinceRev: 0, limit: 501 },
    { sinceRev: 0, limit: 2.5 },
    { sinceRev: 0, limit: "10" },
    { sinceRev: -1 },
    { sinceRev: 1.5 },
    { sinceRev: "0" },
    {},
  ];
  for (const extra of bad) {
    const res = await request(a.socket, "message:changes", { roomId, ...extra });
    expectError(res, "BAD_REQUEST", `message:changes ${JSON.stringify(extra)}`);
  }
});

test("a client that was offline catches up exactly with room:list's rev and message:changes", async () => {
  const a = await person(server);
  const bUser = await server.addUser();
  const roomId = (await group(a, [{ id: bUser.id }])).id;
  const old = await sendMany(a.socket, roomId, 4, "before");
  let b = await server.connect(bUser);
  const knownRev = (await ok(b, "room:list", {})).rooms.find((r) => r.id === roomId)?.rev;
  assert.equal(knownRev, old.at(-1)?.rev);
  b.disconnect();

  const fresh = await sendMany(a.socket, roomId, 2, "while away");
  await ok(a.socket, "message:edit", { messageId: old[0]!.id, body: "edited while away" });
  await ok(a.socket, "message:react", { messageId: old[1]!.id, emoji: "👋", on: true });
  await ok(a.socket, "message:delete", { messageId: old[2]!.id });

  b = await server.connect(bUser);
  const listed = (await ok(b, "room:list", {})).rooms.find((r) => r.id === roomId);
  const missed = await ok(b, "message:changes", { roomId, sinceRev: knownRev ?? 0 });
  assert.deepEqual(
    missed.messages.map((m) => m.id).sort(),
    [...fresh, old[0]!, old[1]!, old[2]!].map((m) => m.id).sort(),
    "every missed change once, nothing else",
  );
  assert.deepEqual([missed.rev, missed.hasMore], [listed?.rev, false]);
  const byId = new Map(missed.messages.map((m) => [m.id, m]));
  assert.equal(byId.get(old[0]!.id)?.body, "edited while away");
  assert.deepEqual(byId.get(old[1]!.id)?.reactions, { "👋": [a.id] });
  assert.equal(byId.get(old[2]!.id)?.deleted, true);
  assert.deepEqual((await ok(b, "message:changes", { roomId, sinceRev: missed.rev })).messages, []);
});
