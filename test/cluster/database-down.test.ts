/**
 * PostgreSQL briefly out of reach of a running node (a loopback proxy between them is cut): sends
 * get the retryable UNAVAILABLE, `/ready` answers 503 naming the database, and once the proxy is
 * back the same process serves again by itself, without a restart.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { type Cluster, startCluster } from "../support/cluster.js";
import {
  ok,
  postgresUrl,
  request,
  requireService,
  TEST_POSTGRES,
  type TestSocket,
  until,
} from "../support/harness.js";
import type { ServerProcess } from "../support/process.js";
import { TcpProxy } from "../support/tcp-proxy.js";

const skip = await requireService("postgres", "redis");

async function readyOf(node: ServerProcess): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${node.url}/ready`);
  return { status: res.status, body: await res.json() };
}

describe("a node whose PostgreSQL goes away for a moment", { skip }, () => {
  let cluster: Cluster;
  let proxy: TcpProxy;
  let node: ServerProcess;
  let socket: TestSocket;
  let roomId: string;

  before(async () => {
    cluster = await startCluster({ users: ["Pat", "Quinn"], nodes: 0 });
    proxy = new TcpProxy(TEST_POSTGRES);
    await proxy.listen();
    const throughProxy = postgresUrl(cluster.database.name).replace(
      `:${TEST_POSTGRES.port}/`,
      `:${proxy.port}/`,
    );
    node = await cluster.addNode({ CHAT_DATABASE_URL: throughProxy });
    socket = await cluster.connect(node, cluster.users[0]!);
    const { room } = await ok(socket, "room:create", { name: "Outage", memberIds: [cluster.users[1]!.id] });
    roomId = room.id;
  });
  after(async () => {
    await cluster?.close();
    await proxy?.close();
  });

  const send = (body: string, clientId = randomUUID()) =>
    request(socket, "message:send", { roomId, body, clientId }, 15_000);

  test("sends get UNAVAILABLE and /ready 503 while it is away, and work again when it is back", async () => {
    assert.equal((await send("before")).ok, true);
    assert.equal((await readyOf(node)).status, 200);

    await proxy.close();
    const during = await send("during");
    assert.ok(!during.ok, "a send cannot be stored without the database");
    assert.equal(during.error.code, "UNAVAILABLE", JSON.stringify(during.error));
    const history = await request(socket, "message:history", { roomId });
    assert.ok(!history.ok && history.error.code === "UNAVAILABLE", JSON.stringify(history));
    const ready = await readyOf(node);
    assert.equal(ready.status, 503);
    assert.deepEqual((ready.body as { checks: Record<string, string> }).checks.database, "unavailable");
    assert.equal(node.child.exitCode, null, "the node is still running");

    await proxy.listen();
    // the client retries with the same client id, as the SDK's outbox does after UNAVAILABLE
    const clientId = randomUUID();
    await until(async () => (await send("after", clientId)).ok, 20_000, "a send to work again");
    assert.equal((await readyOf(node)).status, 200);
    const { messages } = await ok(socket, "message:history", { roomId });
    assert.deepEqual(
      messages.map((m) => m.body),
      ["before", "after"],
      "the failed send left nothing behind and the retry is stored once",
    );
    assert.equal(node.child.exitCode, null);
  });

  test("a cut in the middle of a burst: every acknowledged send is stored, the rest retried once", async () => {
    const clientIds = Array.from({ length: 200 }, () => randomUUID());
    const acked = new Set<string>();
    const sends = clientIds.map(async (clientId, i) => {
      const ack = await send(`burst ${i}`, clientId);
      if (ack.ok) acked.add(clientId);
      else assert.equal(ack.error.code, "UNAVAILABLE", JSON.stringify(ack.error));
    });
    await until(() => acked.size >= 20, 15_000, "some sends to be acknowledged");
    await proxy.close();
    await Promise.all(sends);
    await proxy.listen();

    for (const clientId of clientIds) {
      if (acked.has(clientId)) continue;
      await until(async () => (await send("retried", clientId)).ok, 20_000, "a retry to be stored");
    }
    const stored = new Map<string, number>();
    let beforeSeq: number | undefined;
    for (;;) {
      const page = await ok(socket, "message:history", {
        roomId,
        limit: 100,
        ...(beforeSeq ? { beforeSeq } : {}),
      });
      for (const m of page.messages)
        if (m.clientId) stored.set(m.clientId, (stored.get(m.clientId) ?? 0) + 1);
      if (!page.hasMore || page.messages.length === 0) break;
      beforeSeq = page.messages[0]!.seq;
    }
    for (const clientId of clientIds)
      assert.equal(stored.get(clientId), 1, `client id ${clientId} stored once`);
    assert.equal(node.child.exitCode, null);
  });
});
