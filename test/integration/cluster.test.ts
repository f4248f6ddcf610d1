/**
 * Several nodes (REDIS_URL): two servers share one chat database file and one Redis. A user on
 * one node chats with a user on the other as if they were on the same server.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  collect,
  ok,
  request,
  requireService,
  startServer,
  TEST_REDIS_URL,
  type TestServer,
  type TestSocket,
  until,
  waitFor,
} from "../support/harness.js";

const REDIS_URL = TEST_REDIS_URL;
const skip = await requireService("redis");

describe("two nodes sharing Redis and the chat database", { skip }, () => {
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    const env = { REDIS_URL, REDIS_PREFIX: `twc-test-${randomUUID().slice(0, 8)}` };
    a = await startServer({ env });
    b = await startServer({ env, sqlitePath: a.sqlitePath, database: a.database ?? undefined });
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  async function onNode(node: TestServer, name: string): Promise<{ id: string; socket: TestSocket }> {
    const user = await a.addUser(name);
    return { id: user.id, socket: await node.connect(user) };
  }

  test("a room made on one node is usable at once by its member on the other node", async () => {
    const ann = await onNode(a, "Ann");
    const bob = await onNode(b, "Bob");
    const told = waitFor(bob.socket, "room:updated");
    const { room } = await ok(ann.socket, "room:direct", { userId: bob.id });
    assert.equal((await told).id, room.id);
    await until(
      async () => (await request(bob.socket, "room:get", { roomId: room.id })).ok,
      5000,
      "room on node b",
    );
    const got = await ok(bob.socket, "room:get", { roomId: room.id });
    assert.deepEqual(got.room.members.map((m) => m.name).sort(), ["Ann", "Bob"]);
  });

  test("messages sent alternately on both nodes get seq 1..N and reach everyone once", async () => {
    const ann = await onNode(a, "Ann");
    const bob = await onNode(b, "Bob");
    const { room } = await ok(ann.socket, "room:create", { name: "Across", memberIds: [bob.id] });
    await until(
      async () => (await request(bob.socket, "room:get", { roomId: room.id })).ok,
      5000,
      "room on node b",
    );
    const seenByAnn = collect(ann.socket, "message:new");
    const seenByBob = collect(bob.socket, "message:new");
    const sends = [];
    for (let i = 0; i < 20; i++) {
      const from = i % 2 === 0 ? ann : bob;
      sends.push(ok(from.socket, "message:send", { roomId: room.id, body: `m${i}`, clientId: randomUUID() }));
    }
    const acked = await Promise.all(sends);
    assert.deepEqual(
      acked.map((r) => r.message.seq).sort((x, y) => x - y),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    await until(() => seenByAnn.length === 20 && seenByBob.length === 20, 5000, "all deliveries");
    const ackedIds = acked.map((r) => r.message.id).sort();
    for (const seen of [seenByAnn, seenByBob]) assert.deepEqual(seen.map((m) => m.id).sort(), ackedIds);
    let listed: { id: string; lastSeq: number } | undefined;
    await until(
      async () => {
        listed = (await ok(bob.socket, "room:list", {})).rooms.find((r) => r.id === room.id);
        return listed?.lastSeq === 20;
      },
      5000,
      "node b's room list to catch up",
    );
    // the list the poll saw last, not one read before it
    assert.deepEqual(listed && { id: listed.id, lastSeq: listed.lastSeq }, { id: room.id, lastSeq: 20 });
  });

  test("a user is online while a socket on any node is connected", async () => {
    const ann = await onNode(a, "Ann");
    const bob = await onNode(b, "Bob");
    await ok(ann.socket, "room:direct", { userId: bob.id });
    const annAgain = await b.connect({ token: await a.token(ann.id) });
    ann.socket.close();
    // Ann still has a socket on node b
    await until(
      async () =>
        (await ok(bob.socket, "presence:get", { userIds: [ann.id] })).presence[ann.id]?.online === true,
      5000,
      "ann online",
    );
    const offline = waitFor(bob.socket, "presence", (p) => p.userId === ann.id && !p.online);
    annAgain.close();
    await offline;
    const { presence } = await ok(bob.socket, "presence:get", { userIds: [ann.id] });
    assert.equal(presence[ann.id]?.online, false);
  });
});

describe("rate limits across two nodes", { skip }, () => {
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    const env = {
      REDIS_URL,
      REDIS_PREFIX: `twc-test-${randomUUID().slice(0, 8)}`,
      RATE_LIMIT_MESSAGES: "10",
    };
    a = await startServer({ env });
    b = await startServer({ env, sqlitePath: a.sqlitePath, database: a.database ?? undefined });
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  test("a user's message allowance is shared by the nodes, not given again by each", async () => {
    const ann = await a.addUser("Ann Limited");
    const bob = await a.addUser("Bob Limited");
    const onA = await a.connect(ann);
    const onB = await b.connect(ann);
    const { room } = await ok(onA, "room:create", { name: "Limits", memberIds: [bob.id] });
    await until(async () => (await request(onB, "room:get", { roomId: room.id })).ok, 5000, "room on node b");
    const send = (socket: TestSocket) =>
      request(socket, "message:send", { roomId: room.id, body: "hi", clientId: randomUUID() });
    for (let i = 0; i < 6; i++) assert.equal((await send(onA)).ok, true, `send ${i + 1} on node a`);
    const onNodeB = [];
    for (let i = 0; i < 6; i++) onNodeB.push(await send(onB));
    // each node alone has seen at most 6 of the 10 allowed: only a shared count refuses the last two
    assert.deepEqual(
      onNodeB.map((r) => (r.ok ? "ok" : r.error.code)),
      ["ok", "ok", "ok", "ok", "RATE_LIMITED", "RATE_LIMITED"],
    );
  });

  test("wrong passwords for one username are counted on both nodes together", async () => {
    const carol = await a.addUser("Carol Guessed", { password: "the-right-password" });
    const attempt = async (node: TestServer) => {
      const response = await fetch(`${node.url}/api/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: carol.login, password: "a-wrong-guess" }),
      });
      await response.body?.cancel();
      return response.status;
    };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push(await attempt(a));
    for (let i = 0; i < 6; i++) statuses.push(await attempt(b));
    // ten attempts per username are allowed in five minutes, wherever they arrive
    assert.deepEqual(statuses, [...Array(10).fill(401), 429, 429]);
  });
});
