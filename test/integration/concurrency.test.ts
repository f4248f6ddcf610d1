/**
 * Many requests in flight at once: seq stays 1..N without gaps, every member receives every
 * message once and in seq order, and idempotency, reactions and read markers survive races.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Message } from "../../src/protocol/index.js";
import { collect, ok, startServer, type TestServer } from "../support/harness.js";
import {
  allMessages,
  clientId,
  getRoom,
  group,
  memberOf,
  people,
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

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

test("200 messages sent at once by five users get seq 1..200 and reach every member once, in seq order", async () => {
  const users = await people(server, 5, "Racer");
  const [owner, ...rest] = users as [(typeof users)[0], ...typeof users];
  const room = await group(owner, rest, "Race track");
  const received = users.map((u) => collect(u.socket, "message:new"));
  const perUser = 40;
  const sends = users.flatMap((u, ui) =>
    range(perUser).map((i) =>
      ok(u.socket, "message:send", { roomId: room.id, body: `u${ui} m${i}`, clientId: clientId() }),
    ),
  );
  const acked = (await Promise.all(sends)).map((r) => r.message);
  const total = users.length * perUser;
  assert.deepEqual(
    acked.map((m) => m.seq).sort((x, y) => x - y),
    range(total),
    "seq 1..N with no gap and no repeat",
  );
  assert.equal(new Set(acked.map((m) => m.id)).size, total);

  const history = await allMessages(owner.socket, room.id);
  assert.deepEqual(
    history.map((m) => m.seq),
    range(total),
  );
  const byId = new Map(acked.map((m) => [m.id, m]));
  for (const m of history) assert.deepEqual(m, byId.get(m.id), "history matches what the acks said");
  assert.equal((await getRoom(owner.socket, room.id)).lastSeq, total);

  // every send was acked, so a round trip on each member's socket is past every broadcast
  await roundTrip(...users.map((u) => u.socket));
  for (const [i, r] of received.entries()) {
    assert.equal(r.length, total, `member ${i} received each message exactly once`);
    assert.deepEqual(
      r.map((m) => m.seq),
      range(total),
      `member ${i} received the messages in seq order`,
    );
  }
});

test("each sender's messages keep the order in which they were sent", async () => {
  const users = await people(server, 3, "Orderly");
  const [owner, ...rest] = users as [(typeof users)[0], ...typeof users];
  const room = await group(owner, rest);
  await Promise.all(
    users.flatMap((u) =>
      range(30).map((i) =>
        ok(u.socket, "message:send", { roomId: room.id, body: `${u.id}:${i}`, clientId: clientId() }),
      ),
    ),
  );
  const history = await allMessages(owner.socket, room.id);
  for (const u of users) {
    const mine = history.filter((m) => m.senderId === u.id).map((m) => Number(m.body.split(":")[1]));
    assert.deepEqual(mine, range(30), `user ${u.id}'s messages appear in sending order`);
  }
});

test("the same clientId sent six times at once from two sockets stores one message and broadcasts it once", async () => {
  const [a, b] = await people(server, 2, "Retry");
  const a2 = await server.connect(a!.user);
  const room = await group(a!, [b!]);
  const heard = collect(b!.socket, "message:new");
  const id = clientId();
  const results = await Promise.all(
    range(6).map((i) =>
      ok(i % 2 ? a2 : a!.socket, "message:send", { roomId: room.id, body: `attempt ${i}`, clientId: id }),
    ),
  );
  assert.equal(new Set(results.map((r) => r.message.id)).size, 1, "every retry answers the same message");
  assert.equal(new Set(results.map((r) => r.message.body)).size, 1, "one body wins");
  await roundTrip(b!.socket);
  assert.equal(heard.length, 1);
  assert.equal((await allMessages(a!.socket, room.id)).length, 1);
});

test("five users reacting at once to one message all end up in its reactions", async () => {
  const users = await people(server, 5, "Reactor");
  const [owner, ...rest] = users as [(typeof users)[0], ...typeof users];
  const room = await group(owner, rest);
  const m = await send(owner.socket, room.id, "react!");
  await Promise.all(
    users.flatMap((u) => [
      ok(u.socket, "message:react", { messageId: m.id, emoji: "👍", on: true }),
      ok(u.socket, "message:react", { messageId: m.id, emoji: "🎉", on: true }),
    ]),
  );
  const [stored] = await allMessages(owner.socket, room.id);
  assert.deepEqual(stored?.reactions["👍"]?.slice().sort(), users.map((u) => u.id).sort());
  assert.deepEqual(stored?.reactions["🎉"]?.slice().sort(), users.map((u) => u.id).sort());
  const changes = await ok(owner.socket, "message:changes", { roomId: room.id, sinceRev: 0 });
  assert.deepEqual(changes.messages, [stored], "one message, in its latest state");
  assert.equal(changes.rev, (await getRoom(owner.socket, room.id)).rev);
});

test("edits, reactions and new messages racing in one room keep rev unique and changes consistent", async () => {
  const users = await people(server, 4, "Editor");
  const [owner, ...rest] = users as [(typeof users)[0], ...typeof users];
  const room = await group(owner, rest);
  const own = await Promise.all(users.map((u) => send(u.socket, room.id, "v0")));
  const revsSeen: number[] = [];
  const work = users.flatMap((u, i) =>
    range(10).map(async (n): Promise<Message> => {
      const r =
        n % 3 === 0
          ? await ok(u.socket, "message:edit", { messageId: own[i]!.id, body: `v${n}` })
          : n % 3 === 1
            ? await ok(u.socket, "message:react", {
                messageId: own[(i + 1) % own.length]!.id,
                emoji: `${n}️⃣`,
                on: true,
              })
            : await ok(u.socket, "message:send", { roomId: room.id, body: `new ${n}`, clientId: clientId() });
      revsSeen.push(r.message.rev);
      return r.message;
    }),
  );
  await Promise.all(work);
  assert.equal(new Set(revsSeen).size, revsSeen.length, "every change took its own rev");
  const room2 = await getRoom(owner.socket, room.id);
  assert.equal(room2.rev, Math.max(...revsSeen));
  const changes = await ok(owner.socket, "message:changes", { roomId: room.id, sinceRev: 0, limit: 500 });
  const history = await allMessages(owner.socket, room.id);
  assert.deepEqual(
    [...changes.messages].sort((x, y) => x.seq - y.seq),
    history,
  );
});

test("concurrent room:read calls leave the highest marker", async () => {
  const [a, b] = await people(server, 2, "Reader");
  const room = await group(a!, [b!]);
  for (let i = 0; i < 10; i++) await send(a!.socket, room.id);
  await Promise.all(range(10).map((seq) => ok(b!.socket, "room:read", { roomId: room.id, seq })));
  const seen = await getRoom(a!.socket, room.id);
  assert.equal(memberOf(seen, b!.id).readSeq, 10);
  assert.deepEqual(await getRoom(b!.socket, room.id).then((r) => [r.readSeq, r.unread]), [10, 0]);
});

test("when the owner and the only admin leave at once, the longest-standing member becomes the owner", async () => {
  const users = await people(server, 4, "Leaver");
  const [a, b, c, d] = users as [(typeof users)[0], (typeof users)[0], (typeof users)[0], (typeof users)[0]];
  const room = await group(a, [b]);
  await ok(a.socket, "room:addMembers", { roomId: room.id, userIds: [c.id] });
  await ok(a.socket, "room:addMembers", { roomId: room.id, userIds: [d.id] });
  await ok(a.socket, "room:setRole", { roomId: room.id, userId: b.id, role: "admin" });
  await Promise.all([
    ok(a.socket, "room:leave", { roomId: room.id }),
    ok(b.socket, "room:leave", { roomId: room.id }),
  ]);
  const seen = await getRoom(c.socket, room.id);
  assert.deepEqual(
    seen.members.map((m) => [m.userId, m.role]).sort(),
    [
      [c.id, "owner"],
      [d.id, "member"],
    ].sort(),
  );
});

test("concurrent room:addMembers calls add every user", async () => {
  const users = await people(server, 6, "Joiner");
  const [owner, ...rest] = users as [(typeof users)[0], ...typeof users];
  const room = await group(owner, []);
  await Promise.all(
    rest.map((u) => ok(owner.socket, "room:addMembers", { roomId: room.id, userIds: [u.id] })),
  );
  const seen = await getRoom(owner.socket, room.id);
  assert.deepEqual(seen.members.map((m) => m.userId).sort(), users.map((u) => u.id).sort());
});
