/**
 * Per-user rate limits: message:send/edit/delete/react together 120 per 10 s; typing 30 per 10 s;
 * room operations 60 per 60 s; user:search and message:search together 60 per 60 s. A limited
 * request answers RATE_LIMITED with retryAfterMs > 0, changes nothing, and other users are unaffected.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Ack } from "../../src/protocol/index.js";
import { ok, request, startServer, TestClock, type TestServer } from "../support/harness.js";
import {
  allMessages,
  clientId,
  expectError,
  getRoom,
  group,
  MISSING_ID,
  type Person,
  person,
  send,
} from "../support/rooms.js";

let server: TestServer;
// windows end when the test moves this clock, not after a real wait
const clock = new TestClock();
before(async () => {
  server = await startServer({ app: { now: clock.now } });
});
after(async () => {
  await server?.close();
});

/** Fails unless the ack is RATE_LIMITED with a positive retryAfterMs no longer than the window. */
function expectLimited(res: Ack<unknown>, windowMs: number, what: string) {
  expectError(res, "RATE_LIMITED", what);
  if (res.ok) return;
  const retry = res.error.retryAfterMs;
  assert.ok(typeof retry === "number" && retry > 0 && retry <= windowMs, `${what}: retryAfterMs ${retry}`);
}

test("message:send is limited to 120 per user in 10 s, the 121st is not stored, and retryAfterMs is honest", {
  timeout: 30_000,
}, async () => {
  const a = await person(server);
  const a2 = await server.connect(a.user);
  const b = await person(server);
  const room = await group(a, [b]);
  const results = await Promise.all(
    Array.from({ length: 120 }, (_, i) =>
      request(a.socket, "message:send", { roomId: room.id, body: `burst ${i}`, clientId: clientId() }),
    ),
  );
  assert.deepEqual(
    results.filter((r) => !r.ok).map((r) => JSON.stringify(r)),
    [],
    "the first 120 are accepted",
  );
  const limited = await request(a.socket, "message:send", {
    roomId: room.id,
    body: "one too many",
    clientId: clientId(),
  });
  expectLimited(limited, 10_000, "the 121st message");
  const otherSocket = await request(a2, "message:send", {
    roomId: room.id,
    body: "other tab",
    clientId: clientId(),
  });
  expectLimited(otherSocket, 10_000, "the same user's other socket");
  assert.equal((await getRoom(a.socket, room.id)).lastSeq, 120, "a limited message is not stored");
  assert.equal((await send(b.socket, room.id, "b is not limited")).seq, 121);
  if (limited.ok) return;
  // After the advertised wait (the clock moved, not slept) the user may send again.
  clock.advance(limited.error.retryAfterMs ?? 0);
  assert.equal((await send(a.socket, room.id, "after the wait")).seq, 122);
});

test("edits, deletions and reactions share the 120-per-10-s budget with sends", async () => {
  const a = await person(server);
  const room = await group(a, []);
  const sent = await Promise.all(
    Array.from({ length: 90 }, (_, i) =>
      ok(a.socket, "message:send", { roomId: room.id, body: `m ${i}`, clientId: clientId() }),
    ),
  );
  const ids = sent.map((r) => r.message.id);
  const mixed = await Promise.all([
    ...ids.slice(0, 10).map((messageId) => request(a.socket, "message:edit", { messageId, body: "edited" })),
    ...ids.slice(10, 20).map((messageId) => request(a.socket, "message:delete", { messageId })),
    ...ids
      .slice(20, 30)
      .map((messageId) => request(a.socket, "message:react", { messageId, emoji: "👍", on: true })),
  ]);
  assert.deepEqual(
    mixed.filter((r) => !r.ok).map((r) => JSON.stringify(r)),
    [],
  );
  for (const [event, payload] of [
    ["message:react", { messageId: ids[40], emoji: "🎉", on: true }],
    ["message:edit", { messageId: ids[41], body: "late" }],
    ["message:delete", { messageId: ids[42] }],
    ["message:send", { roomId: room.id, body: "late", clientId: clientId() }],
  ] as const) {
    expectLimited(await request(a.socket, event, payload), 10_000, `${event} over the budget`);
  }
  const all = await allMessages(a.socket, room.id);
  assert.equal(all.length, 90, "the limited send is not stored");
  for (const i of [40, 41, 42]) {
    assert.deepEqual(
      all.find((m) => m.id === ids[i]),
      sent[i]!.message,
      "limited changes are not applied",
    );
  }
});

test("typing is limited to 30 per user in 10 s", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  for (let i = 0; i < 30; i++) {
    assert.deepEqual(await request(a.socket, "typing", { roomId: room.id, typing: i % 2 === 0 }), {
      ok: true,
    });
  }
  expectLimited(
    await request(a.socket, "typing", { roomId: room.id, typing: true }),
    10_000,
    "the 31st typing",
  );
  assert.deepEqual(await request(b.socket, "typing", { roomId: room.id, typing: true }), { ok: true });
  await ok(a.socket, "message:send", {
    roomId: room.id,
    body: "typing budget is separate",
    clientId: clientId(),
  });
});

test("room operations are limited to 60 per user in 60 s, across all of them", async () => {
  const a = await person(server);
  const b = await person(server);
  const c = await person(server);
  const rooms = [];
  for (let i = 0; i < 20; i++) rooms.push(await group(a, [b], `Room ${i}`));
  for (let i = 0; i < 10; i++) await ok(a.socket, "room:direct", { userId: b.id });
  for (let i = 0; i < 10; i++)
    await ok(a.socket, "room:update", { roomId: rooms[i]!.id, name: `Renamed ${i}` });
  for (let i = 0; i < 10; i++)
    await ok(a.socket, "room:addMembers", { roomId: rooms[i]!.id, userIds: [c.id] });
  for (let i = 0; i < 5; i++)
    await ok(a.socket, "room:setRole", { roomId: rooms[i]!.id, userId: c.id, role: "admin" });
  for (let i = 5; i < 10; i++)
    await ok(a.socket, "room:removeMember", { roomId: rooms[i]!.id, userId: c.id });
  const r = rooms[19]!.id;
  const attempts = {
    "room:create": await request(a.socket, "room:create", { name: "One too many", memberIds: [] }),
    "room:direct": await request(a.socket, "room:direct", { userId: c.id }),
    "room:update": await request(a.socket, "room:update", { roomId: r, name: "Late" }),
    "room:addMembers": await request(a.socket, "room:addMembers", { roomId: r, userIds: [c.id] }),
    "room:setRole": await request(a.socket, "room:setRole", { roomId: r, userId: b.id, role: "admin" }),
    "room:removeMember": await request(a.socket, "room:removeMember", { roomId: r, userId: b.id }),
    "room:leave": await request(a.socket, "room:leave", { roomId: r }),
  };
  for (const [event, res] of Object.entries(attempts)) expectLimited(res, 60_000, `${event} over the budget`);
  const list = await ok(a.socket, "room:list", {});
  assert.equal(list.rooms.length, 21, "20 groups and 1 direct room; nothing limited was created");
  const last = await getRoom(a.socket, r);
  assert.deepEqual([last.name, last.members.length], ["Room 19", 2], "limited changes are not applied");
  await ok(b.socket, "room:create", { name: "b is not limited", memberIds: [] });
  await ok(a.socket, "message:send", {
    roomId: r,
    body: "messages have their own budget",
    clientId: clientId(),
  });
});

test("user:search and message:search share a budget of 60 per user in 60 s", async () => {
  const a = await person(server);
  const b: Person = await person(server);
  for (let i = 0; i < 30; i++) await ok(a.socket, "user:search", { query: `u${i}` });
  for (let i = 0; i < 30; i++) await ok(a.socket, "message:search", { query: `m${i}` });
  expectLimited(await request(a.socket, "user:search", { query: "late" }), 60_000, "the 61st user:search");
  expectLimited(
    await request(a.socket, "message:search", { query: "late" }),
    60_000,
    "the 61st message:search",
  );
  await ok(b.socket, "user:search", { query: "b" });
  await ok(a.socket, "room:get", { roomId: (await group(a, [])).id });
  expectError(
    await request(a.socket, "room:get", { roomId: MISSING_ID }),
    "NOT_FOUND",
    "reads are not limited",
  );
});
