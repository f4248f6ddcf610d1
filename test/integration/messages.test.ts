/**
 * message:send: the ack, the stored message (re-read with message:history) and the broadcast to
 * every member's sockets, plus seq numbering, clientId idempotency, replies and body limits.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { collect, ok, request, startServer, type TestServer, waitFor } from "../support/harness.js";
import {
  allMessages,
  assertMessageShape,
  clientId,
  expectError,
  getRoom,
  group,
  MISSING_ID,
  person,
  roundTrip,
  send,
} from "../support/rooms.js";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.close();
});

test("message:send acks the stored message and every socket of every member receives it", async () => {
  const a = await person(server);
  const a2 = await server.connect(a.user);
  const b = await person(server);
  const b2 = await server.connect(b.user);
  const room = await group(a, [b]);
  const arrivals = [a.socket, a2, b.socket, b2].map((s) =>
    waitFor(s, "message:new", (m) => m.roomId === room.id),
  );
  const id = clientId();
  const body = "Hello, world 👋\nsecond line — naïve café";
  const res = await ok(a.socket, "message:send", { roomId: room.id, body, clientId: id });
  const m = res.message;
  assertMessageShape(m);
  assert.deepEqual(
    { roomId: m.roomId, seq: m.seq, senderId: m.senderId, body: m.body, clientId: m.clientId },
    { roomId: room.id, seq: 1, senderId: a.id, body, clientId: id },
  );
  assert.deepEqual(
    { replyToId: m.replyToId, editedAt: m.editedAt, deleted: m.deleted, reactions: m.reactions },
    { replyToId: null, editedAt: null, deleted: false, reactions: {} },
  );
  assert.ok(Math.abs(Date.parse(m.createdAt) - Date.now()) < 60_000, "createdAt is now");
  for (const got of await Promise.all(arrivals)) assert.deepEqual(got, m);
  assert.deepEqual(await allMessages(b.socket, room.id), [m], "stored before the ack");
});

test("seq counts 1, 2, 3 within each room", async () => {
  const a = await person(server);
  const r1 = await group(a, []);
  const r2 = await group(a, []);
  const seqs = [];
  for (const r of [r1, r1, r2, r1, r2]) seqs.push((await send(a.socket, r.id)).seq);
  assert.deepEqual(seqs, [1, 2, 1, 3, 2]);
  assert.equal((await getRoom(a.socket, r1.id)).lastSeq, 3);
});

test("fields only the server decides are ignored in message:send", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  const sentFrom = Date.now();
  const res = await request(a.socket, "message:send", {
    roomId: room.id,
    body: "forged?",
    clientId: clientId(),
    id: "424242",
    senderId: b.id,
    seq: 99,
    rev: 99,
    createdAt: "2000-01-01T00:00:00.000Z",
    editedAt: "2000-01-01T00:00:00.000Z",
    deleted: true,
    reactions: { "👍": [b.id] },
    role: "owner",
  });
  assert.ok(res.ok, JSON.stringify(res));
  const m = res.message;
  assert.deepEqual(
    [m.senderId, m.seq, m.deleted, m.editedAt, m.reactions, m.body],
    [a.id, 1, false, null, {}, "forged?"],
  );
  // the server's own clock: between the request and its answer, not the year 2000 sent
  const createdAt = Date.parse(m.createdAt);
  assert.ok(createdAt >= sentFrom && createdAt <= Date.now(), `createdAt ${m.createdAt}`);
  assert.equal(m.rev, (await getRoom(a.socket, room.id)).rev);
  assert.equal(m.id, (await allMessages(a.socket, room.id))[0]?.id, "the id the store gave, not 424242");
});

test("resending the same clientId returns the stored message and broadcasts it only once", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  const seenByB = collect(b.socket, "message:new");
  const id = clientId();
  const first = await ok(a.socket, "message:send", { roomId: room.id, body: "first body", clientId: id });
  const again = await ok(a.socket, "message:send", { roomId: room.id, body: "second body", clientId: id });
  assert.deepEqual(again.message, first.message, "the first body wins");
  await roundTrip(b.socket);
  assert.equal(seenByB.length, 1, "one broadcast only");
  assert.equal((await allMessages(a.socket, room.id)).length, 1);
  assert.equal((await getRoom(a.socket, room.id)).lastSeq, 1);
});

test("the same clientId for another room is CONFLICT, and another sender's clientId is independent", async () => {
  const a = await person(server);
  const b = await person(server);
  const r1 = await group(a, [b]);
  const r2 = await group(a, [b]);
  const id = clientId();
  const mine = await ok(a.socket, "message:send", { roomId: r1.id, body: "one", clientId: id });
  expectError(
    await request(a.socket, "message:send", { roomId: r2.id, body: "two", clientId: id }),
    "CONFLICT",
  );
  assert.equal((await getRoom(a.socket, r2.id)).lastSeq, 0);
  const theirs = await ok(b.socket, "message:send", { roomId: r1.id, body: "b's", clientId: id });
  assert.notEqual(theirs.message.id, mine.message.id);
  assert.deepEqual([theirs.message.senderId, theirs.message.seq], [b.id, 2]);
});

test("replyToId must name a message of the same room", async () => {
  const a = await person(server);
  const other = await person(server);
  const room = await group(a, []);
  const elsewhere = await group(a, []);
  const foreign = await group(other, []);
  const target = await send(a.socket, room.id, "question");
  const reply = await send(a.socket, room.id, "answer", target.id);
  assert.equal(reply.replyToId, target.id);
  assert.equal((await allMessages(a.socket, room.id))[1]?.replyToId, target.id);
  const noReply = await ok(a.socket, "message:send", {
    roomId: room.id,
    body: "plain",
    clientId: clientId(),
    replyToId: null,
  });
  assert.equal(noReply.message.replyToId, null, "replyToId null means no reply");
  const elsewhereMsg = await send(a.socket, elsewhere.id);
  const foreignMsg = await send(other.socket, foreign.id);
  for (const replyToId of [elsewhereMsg.id, foreignMsg.id, MISSING_ID]) {
    const res = await request(a.socket, "message:send", {
      roomId: room.id,
      body: "x",
      clientId: clientId(),
      replyToId,
    });
    expectError(res, "BAD_REQUEST", `replyToId ${replyToId}`);
  }
  assert.equal((await getRoom(a.socket, room.id)).lastSeq, 3);
});

test("message bodies: at most MAX_MESSAGE_LENGTH code points, not empty, valid text", async () => {
  const a = await person(server);
  const room = await group(a, []);
  const max = server.config.maxMessageLength;
  const emoji = "😀".repeat(max);
  assert.equal((await send(a.socket, room.id, emoji)).body, emoji, `${max} emoji code points are fine`);
  const sendBody = (body: string) =>
    request(a.socket, "message:send", { roomId: room.id, body, clientId: clientId() });
  expectError(await sendBody("a".repeat(max + 1)), "PAYLOAD_TOO_LARGE", "one character too long");
  expectError(await sendBody("😀".repeat(max + 1)), "PAYLOAD_TOO_LARGE", "one emoji too long");
  for (const body of [
    "",
    "   ",
    "\n\t ",
    "\u00a0\u3000\u2003",
    "a\u0000b",
    "lone \ud800 surrogate",
    "\udc00",
  ]) {
    expectError(await sendBody(body), "BAD_REQUEST", `body ${JSON.stringify(body)}`);
  }
  assert.equal((await getRoom(a.socket, room.id)).lastSeq, 1);
});

test("MAX_MESSAGE_LENGTH configures the longest body, for sends and edits", async () => {
  const small = await startServer({ env: { MAX_MESSAGE_LENGTH: "10" } });
  try {
    const a = await person(small);
    const room = await group(a, []);
    const m = await send(a.socket, room.id, "🙂".repeat(10));
    const sendBody = (body: string) =>
      request(a.socket, "message:send", { roomId: room.id, body, clientId: clientId() });
    expectError(await sendBody("x".repeat(11)), "PAYLOAD_TOO_LARGE");
    expectError(
      await request(a.socket, "message:edit", { messageId: m.id, body: "🙂".repeat(11) }),
      "PAYLOAD_TOO_LARGE",
    );
    assert.equal(
      (await ok(a.socket, "message:edit", { messageId: m.id, body: "y".repeat(10) })).message.body,
      "y".repeat(10),
    );
  } finally {
    await small.close();
  }
});

test("clientId must have 1 to 64 characters", async () => {
  const a = await person(server);
  const room = await group(a, []);
  const sendWith = (id: unknown) =>
    request(a.socket, "message:send", { roomId: room.id, body: "b", clientId: id });
  for (const id of ["", "c".repeat(65), undefined, null, 7])
    expectError(await sendWith(id), "BAD_REQUEST", `clientId ${id}`);
  const res = await sendWith("c".repeat(64));
  assert.ok(res.ok, JSON.stringify(res));
});

test("clientId length counts code points, as every text length does", async () => {
  const a = await person(server);
  const room = await group(a, []);
  const id = "🔑".repeat(64);
  const res = await request(a.socket, "message:send", { roomId: room.id, body: "b", clientId: id });
  assert.ok(res.ok, `64 code points should be accepted: ${JSON.stringify(res).slice(0, 200)}`);
  assert.equal(res.message.clientId, id);
});
