/**
 * Redis killed and started again under two running nodes (a redis-server of this test's own, see
 * redis-server.ts): while it is away the nodes stay up, acknowledge or refuse with UNAVAILABLE
 * (never INTERNAL, never silence) and report it on `/ready`; once it is back they carry messages
 * and presence between them again by themselves, without a restart.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { type Cluster, startCluster } from "../support/cluster.js";
import { collect, ok, request, requireService, type TestSocket, until } from "../support/harness.js";
import type { ServerProcess } from "../support/process.js";
import { OwnRedis } from "../support/redis-server.js";

const skip = await requireService("postgres");

async function readyStatus(node: ServerProcess): Promise<{ status: number; checks: Record<string, string> }> {
  const res = await fetch(`${node.url}/ready`);
  const body = (await res.json()) as { checks: Record<string, string> };
  return { status: res.status, checks: body.checks };
}

describe("Redis restarted under two running nodes", { skip }, () => {
  let redis: OwnRedis;
  let cluster: Cluster;
  let a: ServerProcess;
  let b: ServerProcess;
  let ann: TestSocket;
  let bob: TestSocket;
  let roomId: string;

  before(async () => {
    redis = await OwnRedis.start();
    cluster = await startCluster({ users: ["Ann", "Bob", "Carol"], redisUrl: redis.url });
    [a, b] = cluster.nodes as [ServerProcess, ServerProcess];
    ann = await cluster.connect(a, cluster.users[0]!);
    bob = await cluster.connect(b, cluster.users[1]!);
    const { room } = await ok(ann, "room:direct", { userId: cluster.users[1]!.id });
    roomId = room.id;
    // presence is shown to roommates only
    await ok(ann, "room:create", { name: "Three", memberIds: [cluster.users[1]!.id, cluster.users[2]!.id] });
  });
  after(async () => {
    await cluster?.close();
    await redis?.kill();
  });

  /** Sends from `from` until one arrives live at `to` (each try is a new message). */
  async function reaches(from: TestSocket, to: TestSocket, what: string): Promise<void> {
    const seen = collect(to, "message:new");
    const sent = new Set<string>();
    await until(
      async () => {
        const ack = await request(from, "message:send", { roomId, body: what, clientId: randomUUID() });
        if (ack.ok) sent.add(ack.message.id);
        return seen.some((m) => sent.has(m.id));
      },
      20_000,
      what,
    );
  }

  test("the nodes stay up while it is away and work together again once it is back", async () => {
    await reaches(ann, bob, "a to b before");
    assert.equal((await readyStatus(a)).status, 200);

    // Carol leaves while Redis is away: node a could not tell it then
    const carol = await cluster.connect(a, cluster.users[2]!);
    await redis.kill();
    carol.close();
    const during = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        request(
          i % 2 ? bob : ann,
          "message:send",
          { roomId, body: `during ${i}`, clientId: randomUUID() },
          10_000,
        ),
      ),
    );
    // messages are stored in PostgreSQL and rate limits fall back to memory: Redis is not needed
    // to send, so every send is acknowledged
    assert.deepEqual(
      during.filter((ack) => !ack.ok),
      [],
      "every send during the outage is acknowledged",
    );
    const ready = await readyStatus(a);
    assert.equal(ready.status, 503);
    assert.equal(ready.checks.redis, "unavailable");

    await redis.restart();
    await reaches(ann, bob, "a to b after");
    await reaches(bob, ann, "b to a after");
    await until(async () => (await readyStatus(b)).status === 200, 20_000, "node b ready again");
    assert.equal((await readyStatus(a)).status, 200);
    // the messages acknowledged during the outage are in the history on both nodes
    const acked = during.flatMap((ack) => (ack.ok ? [ack.message.id] : []));
    assert.equal(acked.length, 10);
    for (const socket of [ann, bob]) {
      const { messages } = await ok(socket, "message:history", { roomId, limit: 100 });
      const ids = new Set(messages.map((m) => m.id));
      assert.deepEqual(
        acked.filter((id) => !ids.has(id)),
        [],
        "every acknowledged message is in the history",
      );
    }
    assert.equal(a.child.exitCode, null);
    assert.equal(b.child.exitCode, null);
  });

  test("presence is shared again after Redis forgot it", async () => {
    // Redis came back empty: a node must count its connected users again by itself
    await until(
      async () =>
        (await ok(ann, "presence:get", { userIds: [cluster.users[1]!.id] })).presence[cluster.users[1]!.id]
          ?.online === true,
      20_000,
      "Bob, still connected to node b, online for Ann on node a",
    );
    const carolId = cluster.users[2]!.id;
    const { presence } = await ok(bob, "presence:get", { userIds: [carolId] });
    assert.equal(presence[carolId]?.online, false, "Carol, who left during the outage, is not stuck online");
  });
});
