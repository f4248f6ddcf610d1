/**
 * The LISTEN connection of every node terminated in the middle of a burst (pg_terminate_backend,
 * as a database restart or a network cut would end it): each node listens again, reads what was
 * committed meanwhile from the database, and its sockets still get every message once, in order.
 * Real node processes on one PostgreSQL database and one Redis (test/support/cluster.ts).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { Message } from "../../src/protocol/index.js";
import { type Cluster, startCluster } from "../support/cluster.js";
import { collect, ok, request, requireService, until } from "../support/harness.js";
import type { ServerProcess } from "../support/process.js";

const skip = await requireService("postgres", "redis");

const SENDERS = 4;
const PER_SENDER = 150;
const TOTAL = SENDERS * PER_SENDER;

describe("the commit feed's connection lost mid-burst", { skip }, () => {
  let cluster: Cluster;
  let a: ServerProcess;
  let b: ServerProcess;

  before(async () => {
    cluster = await startCluster({
      users: [...Array.from({ length: SENDERS }, (_, i) => `Sender ${i}`), "Watcher A", "Watcher B"],
    });
    [a, b] = cluster.nodes as [ServerProcess, ServerProcess];
  });
  after(() => cluster?.close());

  test("every node listens again and its sockets get every message once, in ascending rev", async () => {
    const senders = cluster.users.slice(0, SENDERS);
    const watchers = [
      await cluster.connect(a, cluster.users[SENDERS]!),
      await cluster.connect(b, cluster.users[SENDERS + 1]!),
    ];
    const { room } = await ok(watchers[0]!, "room:create", {
      name: "Gap",
      memberIds: [...senders, cluster.users[SENDERS + 1]!].map((u) => u.id),
    });
    const live = watchers.map((w) => collect(w, "message:new"));
    const sockets = await Promise.all(senders.map((u, i) => cluster.connect(i % 2 === 0 ? a : b, u)));

    const acked: Message[] = [];
    const bursts = sockets.map(async (socket, s) => {
      let next = 0;
      const worker = async () => {
        while (next < PER_SENDER) {
          const i = next++;
          const ack = await request(
            socket,
            "message:send",
            { roomId: room.id, body: `from ${s}: ${i}`, clientId: randomUUID() },
            15_000,
          );
          assert.ok(ack.ok, JSON.stringify(ack));
          acked.push(ack.message);
        }
      };
      await Promise.all([worker(), worker(), worker()]);
    });
    await until(() => acked.length >= TOTAL / 4, 30_000, "a quarter of the burst to be acknowledged");
    const { rows } = await cluster.database.admin.query<{ done: boolean }>(
      "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE datname = $1 AND application_name = 'timewise-chat-feed'",
      [cluster.database.name],
    );
    assert.deepEqual(
      rows.map((r) => r.done),
      [true, true],
      "one feed connection per node was ended",
    );
    await Promise.all(bursts);
    assert.equal(acked.length, TOTAL);

    const ids = new Set(acked.map((m) => m.id));
    for (const [i, seen] of live.entries()) {
      await until(() => seen.length >= TOTAL, 20_000, `watcher ${i} to get every message`);
      assert.equal(seen.length, TOTAL, `watcher ${i} got no message twice`);
      assert.deepEqual(new Set(seen.map((m) => m.id)), ids, `watcher ${i} got every acknowledged message`);
      for (let k = 1; k < seen.length; k++) {
        assert.ok(
          seen[k]!.rev > seen[k - 1]!.rev,
          `watcher ${i}: rev ${seen[k]!.rev} after ${seen[k - 1]!.rev}`,
        );
      }
    }
    for (const node of [a, b]) {
      const messages = node.logs().map((line) => line.msg);
      assert.ok(
        messages.some((m) => typeof m === "string" && m.startsWith("commit feed connection lost")),
        "the node noticed the lost connection",
      );
      assert.ok(
        messages.includes("commit feed listening again; filling the gap from the database"),
        "the node listened again",
      );
    }
    // what was committed while nobody listened came from the database, not from the live feed
    const filled = [a, b].flatMap((node) =>
      node
        .logs()
        .filter((line) => line.msg === "commit feed gap filled" && line.roomId === room.id)
        .map((line) => Number(line.changes)),
    );
    assert.ok(
      filled.some((n) => n > 0),
      `a gap was filled: ${JSON.stringify(filled)}`,
    );
  });
});
