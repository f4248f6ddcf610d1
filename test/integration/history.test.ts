/**
 * message:history: the latest page, paging older with beforeSeq and newer with afterSeq, hasMore
 * in each direction, and the limit and cursor rules.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Message } from "../../src/protocol/index.js";
import { ok, request, startServer, type TestServer } from "../support/harness.js";
import { expectError, group, type Person, person, sendMany } from "../support/rooms.js";

let server: TestServer;
let owner: Person;
let roomId: string;
let sent: Message[];

before(async () => {
  server = await startServer();
  owner = await person(server);
  const b = await person(server);
  roomId = (await group(owner, [b])).id;
  sent = await sendMany(owner.socket, roomId, 7, "history");
});
after(async () => {
  await server?.close();
});

const page = async (payload: { beforeSeq?: number; afterSeq?: number; limit?: number }) => {
  const res = await ok(owner.socket, "message:history", { roomId, ...payload });
  return { seqs: res.messages.map((m) => m.seq), hasMore: res.hasMore, messages: res.messages };
};

test("without a cursor message:history returns the latest page in ascending seq", async () => {
  assert.deepEqual(await page({ limit: 3 }).then((p) => [p.seqs, p.hasMore]), [[5, 6, 7], true]);
  const all = await page({});
  assert.deepEqual([all.seqs, all.hasMore], [[1, 2, 3, 4, 5, 6, 7], false]);
  assert.deepEqual(all.messages, sent, "history returns the stored messages as sent");
});

test("beforeSeq pages towards older messages and hasMore says whether older ones remain", async () => {
  assert.deepEqual(await page({ beforeSeq: 5, limit: 3 }).then((p) => [p.seqs, p.hasMore]), [
    [2, 3, 4],
    true,
  ]);
  assert.deepEqual(await page({ beforeSeq: 4, limit: 3 }).then((p) => [p.seqs, p.hasMore]), [
    [1, 2, 3],
    false,
  ]);
  assert.deepEqual(await page({ beforeSeq: 2, limit: 3 }).then((p) => [p.seqs, p.hasMore]), [[1], false]);
  assert.deepEqual(await page({ beforeSeq: 1 }).then((p) => [p.seqs, p.hasMore]), [[], false]);
  assert.deepEqual(await page({ beforeSeq: 100, limit: 2 }).then((p) => [p.seqs, p.hasMore]), [[6, 7], true]);
});

test("afterSeq pages towards newer messages and hasMore says whether newer ones remain", async () => {
  assert.deepEqual(await page({ afterSeq: 0, limit: 3 }).then((p) => [p.seqs, p.hasMore]), [[1, 2, 3], true]);
  assert.deepEqual(await page({ afterSeq: 4, limit: 2 }).then((p) => [p.seqs, p.hasMore]), [[5, 6], true]);
  assert.deepEqual(await page({ afterSeq: 4, limit: 3 }).then((p) => [p.seqs, p.hasMore]), [
    [5, 6, 7],
    false,
  ]);
  assert.deepEqual(await page({ afterSeq: 5, limit: 5 }).then((p) => [p.seqs, p.hasMore]), [[6, 7], false]);
  assert.deepEqual(await page({ afterSeq: 7 }).then((p) => [p.seqs, p.hasMore]), [[], false]);
});

test("paging backwards from the latest page visits every message once", async () => {
  const seen: number[] = [];
  let cursor: number | undefined;
  for (let i = 0; i < 10; i++) {
    const p = await page(cursor === undefined ? { limit: 2 } : { beforeSeq: cursor, limit: 2 });
    seen.unshift(...p.seqs);
    if (!p.hasMore) break;
    cursor = p.seqs[0];
  }
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7]);
});

test("the default page holds 50 messages and the limit may be 1 to 100", async () => {
  const a = await person(server);
  const room = await group(a, []);
  await sendMany(a.socket, room.id, 55, "bulk");
  const latest = await ok(a.socket, "message:history", { roomId: room.id });
  assert.deepEqual([latest.messages.length, latest.messages[0]?.seq, latest.hasMore], [50, 6, true]);
  const hundred = await ok(a.socket, "message:history", { roomId: room.id, limit: 100 });
  assert.deepEqual([hundred.messages.length, hundred.hasMore], [55, false]);
  const one = await ok(a.socket, "message:history", { roomId: room.id, limit: 1 });
  assert.deepEqual([one.messages.map((m) => m.seq), one.hasMore], [[55], true]);
});

test("an empty room has an empty history", async () => {
  const a = await person(server);
  const room = await group(a, []);
  assert.deepEqual(await ok(a.socket, "message:history", { roomId: room.id }), {
    ok: true,
    messages: [],
    hasMore: false,
  });
});

test("out-of-range or mistyped limits and cursors are BAD_REQUEST, not clamped", async () => {
  const bad: Record<string, unknown>[] = [
    { limit: 0 },
    { limit: 101 },
    { limit: 2.5 },
    { limit: "10" },
    { limit: -1 },
    { beforeSeq: 3, afterSeq: 1 },
    { beforeSeq: -1 },
    { afterSeq: -1 },
    { beforeSeq: 1.5 },
    { afterSeq: "2" },
    { beforeSeq: true },
  ];
  for (const extra of bad) {
    const res = await request(owner.socket, "message:history", { roomId, ...extra });
    expectError(res, "BAD_REQUEST", `message:history ${JSON.stringify(extra)}`);
  }
});
