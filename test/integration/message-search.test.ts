/**
 * message:search: full-text search by word over the caller's rooms only (or one room), with a
 * limit. The index is written by a worker thread and may lag the ack slightly, so results are
 * polled with `until`; the search allowance is raised so that polling never hits RATE_LIMITED.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import type { Message, MessageSearchInput } from "../../src/protocol/index.js";
import { ok, request, startServer, type TestServer, until } from "../support/harness.js";
import { expectError, group, MISSING_ID, type Person, person, send } from "../support/rooms.js";

let server: TestServer;
before(async () => {
  // polling every 20 ms would use up the usual 60 searches a minute
  server = await startServer({ env: { RATE_LIMIT_SEARCHES: "100000" } });
});
after(async () => {
  await server?.close();
});

/** A word that appears nowhere else. */
const word = () =>
  `zq${randomBytes(5)
    .toString("hex")
    .replace(/[0-9]/g, (d) => "ghijklmnop"[Number(d)]!)}`;

/** Searches until `done` holds on the result (the index caught up); returns that result. */
async function searchUntil(
  p: Person,
  input: MessageSearchInput,
  done: (found: Message[]) => boolean,
): Promise<Message[]> {
  let found: Message[] = [];
  await until(
    async () => {
      found = (await ok(p.socket, "message:search", input)).messages;
      return done(found);
    },
    5000,
    `message:search ${JSON.stringify(input)}`,
  );
  return found;
}

const ids = (messages: readonly Message[]) => messages.map((m) => m.id).sort();

test("message:search finds a message by a word of its body in the caller's rooms", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  const w = word();
  const hit = await send(a.socket, room.id, `Shall we meet about the ${w} tomorrow?`);
  await send(a.socket, room.id, "unrelated chatter");
  const found = await searchUntil(b, { query: w }, (f) => f.length > 0);
  assert.deepEqual(ids(found), [hit.id]);
  assert.deepEqual(found[0], hit, "results are full messages");
  const upper = await searchUntil(b, { query: w.toUpperCase() }, (f) => f.length > 0);
  assert.deepEqual(ids(upper), [hit.id], "search is case-insensitive");
});

test("message:search never returns messages of rooms the caller is not in", async () => {
  const a = await person(server);
  const b = await person(server);
  const other = await person(server);
  const w = word();
  const mine = await group(a, [b]);
  const theirs = await group(other, [b]);
  const visible = await send(a.socket, mine.id, `${w} in my room`);
  const hidden = await send(other.socket, theirs.id, `${w} in their room`);
  const forB = await searchUntil(b, { query: w }, (f) => f.length >= 2);
  assert.deepEqual(ids(forB), ids([visible, hidden]), "b is in both rooms");
  // b's search saw both messages, so the index has them: a's answer is final at once
  const forA = (await ok(a.socket, "message:search", { query: w })).messages;
  assert.deepEqual(ids(forA), [visible.id]);
  const scoped = await request(a.socket, "message:search", { query: w, roomId: theirs.id });
  expectError(scoped, "NOT_FOUND", "searching a room of others");
  expectError(await request(a.socket, "message:search", { query: w, roomId: MISSING_ID }), "NOT_FOUND");
});

test("message:search with roomId searches only that room", async () => {
  const a = await person(server);
  const r1 = await group(a, []);
  const r2 = await group(a, []);
  const w = word();
  const one = await send(a.socket, r1.id, `${w} one`);
  const two = await send(a.socket, r2.id, `${w} two`);
  await searchUntil(a, { query: w }, (f) => f.length >= 2);
  assert.deepEqual(ids((await ok(a.socket, "message:search", { query: w, roomId: r2.id })).messages), [
    two.id,
  ]);
  assert.deepEqual(ids((await ok(a.socket, "message:search", { query: w, roomId: r1.id })).messages), [
    one.id,
  ]);
});

test("message:search returns at most `limit` messages, 20 by default, and checks the limit", async () => {
  const a = await person(server);
  const room = await group(a, []);
  const w = word();
  for (let i = 0; i < 23; i++) await send(a.socket, room.id, `${w} number ${i}`);
  const all = await searchUntil(a, { query: w, limit: 50 }, (f) => f.length >= 23);
  assert.equal(all.length, 23);
  assert.equal((await ok(a.socket, "message:search", { query: w })).messages.length, 20);
  assert.equal((await ok(a.socket, "message:search", { query: w, limit: 3 })).messages.length, 3);
  for (const limit of [0, 51, 2.5, "10"]) {
    expectError(
      await request(a.socket, "message:search", { query: w, limit }),
      "BAD_REQUEST",
      `limit ${limit}`,
    );
  }
});

test("a removed member no longer finds the room's messages", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  const w = word();
  const m = await send(a.socket, room.id, `${w} before removal`);
  assert.deepEqual(ids(await searchUntil(b, { query: w }, (f) => f.length > 0)), [m.id]);
  await ok(a.socket, "room:removeMember", { roomId: room.id, userId: b.id });
  assert.deepEqual((await ok(b.socket, "message:search", { query: w })).messages, []);
});

test("edited and deleted messages are found by their current text only", async () => {
  const a = await person(server);
  const room = await group(a, []);
  const [oldWord, newWord, goneWord] = [word(), word(), word()];
  const edited = await send(a.socket, room.id, `${oldWord} draft`);
  const deleted = await send(a.socket, room.id, `${goneWord} secret`);
  await searchUntil(a, { query: goneWord }, (f) => f.length > 0);
  await ok(a.socket, "message:edit", { messageId: edited.id, body: `${newWord} final` });
  await ok(a.socket, "message:delete", { messageId: deleted.id });
  const found = await searchUntil(a, { query: newWord }, (f) => f.length > 0);
  assert.deepEqual(ids(found), [edited.id]);
  assert.deepEqual(
    await searchUntil(a, { query: oldWord }, (f) => f.length === 0),
    [],
    "the old text is gone",
  );
  assert.deepEqual(
    await searchUntil(a, { query: goneWord }, (f) => f.length === 0),
    [],
    "deleted text is gone",
  );
});

test("search queries with full-text operators or quotes are searched as plain words, never as syntax", async () => {
  const a = await person(server);
  const room = await group(a, []);
  const m = await send(a.socket, room.id, 'quotes " and (brackets) AND stars*');
  // "AND" is a word of the message, not an operator; wait until the index has the message
  assert.deepEqual(ids(await searchUntil(a, { query: "AND" }, (f) => f.length > 0)), [m.id]);
  for (const query of ['"', "(", ")", "*", "a OR", "NEAR(", "-x", "x:y", "^", "'", "\\", "{}", "é"]) {
    const res = await request(a.socket, "message:search", { query });
    assert.deepEqual(res, { ok: true, messages: [] }, `${JSON.stringify(query)} matches nothing`);
  }
  for (const query of ["(brackets)", '"quotes', "stars*", "brackets AND"]) {
    const res = await request(a.socket, "message:search", { query });
    assert.equal(res.ok, true, `${JSON.stringify(query)}: ${JSON.stringify(res)}`);
    if (res.ok)
      assert.deepEqual(ids(res.messages), [m.id], `${JSON.stringify(query)} finds the message by its words`);
  }
});
