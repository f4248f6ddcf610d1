/**
 * Presence: a user is online while any of their sockets is connected; `presence` goes to users
 * who share a room with them; presence:get answers only about users sharing a room with the caller.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { userChannel } from "../../src/realtime/fanout.js";
import {
  collect,
  ok,
  requireService,
  startServer,
  TEST_REDIS_URL,
  type TestServer,
  tempDir,
  until,
  waitFor,
} from "../support/harness.js";
import { group, ISO, MISSING_ID, person, roundTrip } from "../support/rooms.js";

let server: TestServer;

/**
 * Resolves once the server has let go of all but `count` of the user's sockets. Socket.io takes a
 * socket out of its channels just before its `disconnect` listeners run, and the presence update
 * they start needs no I/O with the in-memory tracker, so a request after this sees its outcome.
 */
const serverSockets = (userId: string, count: number) =>
  until(
    async () => (await server.app.io.in(userChannel(userId)).fetchSockets()).length === count,
    5000,
    `the server to hold ${count} socket(s) of ${userId}`,
  );

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.close();
});

test("a user goes online with the first socket and offline only when the last one disconnects", async () => {
  const a = await person(server);
  const bUser = await server.addUser("Bea Presence");
  await group(a, [{ id: bUser.id }]);
  const online = waitFor(a.socket, "presence", (p) => p.userId === bUser.id);
  const connecting = Date.now();
  const b1 = await server.connect(bUser);
  const first = await online;
  assert.equal(first.online, true);
  // docs/protocol.md: while the user is online, lastSeenAt is the current time
  assert.match(first.lastSeenAt ?? "null", ISO);
  const seen = Date.parse(first.lastSeenAt!);
  assert.ok(
    seen >= connecting && seen <= Date.now(),
    `lastSeenAt ${first.lastSeenAt} is the time of connecting`,
  );

  const b2 = await server.connect(bUser);
  const updates = collect(a.socket, "presence");
  b1.disconnect();
  await serverSockets(bUser.id, 1);
  // presence:get on a's socket also delivers anything sent to a before it
  const still = await ok(a.socket, "presence:get", { userIds: [bUser.id] });
  assert.equal(still.presence[bUser.id]?.online, true);
  assert.deepEqual(updates, [], "nothing is announced while another socket is connected");

  const offline = waitFor(a.socket, "presence", (p) => p.userId === bUser.id && !p.online);
  const before = Date.now();
  b2.disconnect();
  const last = await offline;
  // had the first disconnect announced anything, it would have come before this one
  assert.deepEqual(updates, [last], "one offline, when the last socket goes");
  assert.match(last.lastSeenAt ?? "", ISO);
  assert.ok(Date.parse(last.lastSeenAt ?? "") >= before - 60_000, "lastSeenAt is about now");
  const got = await ok(a.socket, "presence:get", { userIds: [bUser.id] });
  assert.deepEqual(got.presence[bUser.id], {
    online: false,
    lastSeenAt: last.lastSeenAt,
    available: true,
    availableAt: null,
  });
});

test("presence goes only to users who share a room", async () => {
  const a = await person(server);
  const stranger = await person(server);
  const bUser = await server.addUser();
  await group(a, [{ id: bUser.id }]);
  const strangerHeard = collect(stranger.socket, "presence");
  const aHeard = waitFor(a.socket, "presence", (p) => p.userId === bUser.id && p.online);
  const b = await server.connect(bUser);
  await aHeard;
  b.disconnect();
  await waitFor(a.socket, "presence", (p) => p.userId === bUser.id && !p.online);
  // the offline went out in one emit to every roommate: a request on the stranger's socket
  // delivers it there too, had the stranger been among them
  await roundTrip(stranger.socket);
  assert.deepEqual(
    strangerHeard.filter((p) => p.userId === bUser.id),
    [],
  );
});

test("presence:get answers for users sharing a room and leaves everyone else out", async () => {
  const a = await person(server);
  const b = await person(server);
  const offlineMember = await server.addUser();
  const stranger = await person(server);
  await group(a, [b, { id: offlineMember.id }]);
  const res = await ok(a.socket, "presence:get", {
    userIds: [b.id, offlineMember.id, stranger.id, MISSING_ID],
  });
  assert.deepEqual(Object.keys(res.presence).sort(), [b.id, offlineMember.id].sort());
  assert.equal(res.presence[b.id]?.online, true);
  // (v2.4) without working hours or quiet hours, always available
  assert.deepEqual(res.presence[offlineMember.id], {
    online: false,
    lastSeenAt: null,
    available: true,
    availableAt: null,
  });
  assert.deepEqual((await ok(a.socket, "presence:get", { userIds: [] })).presence, {});
  assert.deepEqual((await ok(stranger.socket, "presence:get", { userIds: [a.id, b.id] })).presence, {});
});

test("presence:get covers direct rooms and stops after the shared room is left", async () => {
  const a = await person(server);
  const b = await person(server);
  await ok(a.socket, "room:direct", { userId: b.id });
  assert.equal((await ok(a.socket, "presence:get", { userIds: [b.id] })).presence[b.id]?.online, true);

  const c = await person(server);
  const room = await group(a, [c]);
  assert.equal((await ok(a.socket, "presence:get", { userIds: [c.id] })).presence[c.id]?.online, true);
  await ok(c.socket, "room:leave", { roomId: room.id });
  assert.deepEqual((await ok(a.socket, "presence:get", { userIds: [c.id] })).presence, {});
});

test("presence follows current membership: added users are announced, users who left are not", async () => {
  const a = await person(server);
  // still shares a room with c after c leaves a's room, so c's offline is announced to someone
  const witness = await person(server);
  const cUser = await server.addUser();
  const c = await server.connect(cUser);
  await group(witness, [{ id: cUser.id }]);
  const room = await group(a, []);
  await ok(a.socket, "room:addMembers", { roomId: room.id, userIds: [cUser.id] });
  const offline = waitFor(a.socket, "presence", (p) => p.userId === cUser.id && !p.online);
  c.disconnect();
  await offline;

  const c2 = await server.connect(cUser);
  await ok(c2, "room:leave", { roomId: room.id });
  const heard = collect(a.socket, "presence");
  const witnessed = waitFor(witness.socket, "presence", (p) => p.userId === cUser.id && !p.online);
  c2.disconnect();
  await witnessed;
  // the same emit would have gone to a: a request on a's socket delivers it, had a been told
  await roundTrip(a.socket);
  assert.deepEqual(
    heard.filter((p) => p.userId === cUser.id),
    [],
    "no presence about someone who no longer shares a room",
  );
});

const redisSkip = await requireService("redis");
for (const { how, env, skip } of [
  { how: "alone", env: {}, skip: false },
  // with Redis the presence count is kept there, so going offline first waits for Redis
  {
    how: "with Redis",
    env: { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: `twc-test-${randomUUID().slice(0, 8)}` },
    skip: redisSkip,
  },
] as const) {
  test(`a user still connected when the server (${how}) stops is stored as last seen then`, {
    skip,
  }, async () => {
    const scratch = tempDir("twc-presence-");
    try {
      const sqlitePath = join(scratch.dir, "chat.db");
      const first = await startServer({ sqlitePath, env });
      const ann = await first.addUser("Ann Stays");
      const bob = await first.addUser("Bob Stopped");
      const annSocket = await first.connect(ann);
      await ok(annSocket, "room:create", { name: "Shutdown", memberIds: [bob.id] });
      await first.connect(bob);
      const before = Date.now();
      await first.close();

      const again = await startServer({ sqlitePath, env });
      try {
        const socket = await again.connect(ann);
        const { presence } = await ok(socket, "presence:get", { userIds: [bob.id] });
        assert.equal(presence[bob.id]?.online, false);
        assert.match(presence[bob.id]?.lastSeenAt ?? "", ISO, "the disconnect at shutdown was stored");
        assert.ok(Date.parse(presence[bob.id]?.lastSeenAt ?? "") >= before - 1000, "at the shutdown");
      } finally {
        await again.close();
      }
    } finally {
      scratch.remove();
    }
  });
}
