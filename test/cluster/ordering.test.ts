/**
 * Two real node processes on one PostgreSQL database and one Redis, with clients spread over both:
 * many senders into one room get `seq` 1..N and contiguous `rev`s, every socket sees each message
 * once and in order, and a client id retried through the other node is stored once.
 * Only what clients receive is checked, so these hold whichever way the nodes fan messages out.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { Message } from "../../src/protocol/index.js";
import { type Cluster, startCluster } from "../support/cluster.js";
import { collect, ok, request, requireService, type TestSocket, until } from "../support/harness.js";

const skip = await requireService("postgres", "redis");

/** How many clients, and how many messages each sends. */
const CLIENTS = 20;
const PER_CLIENT = 500;
const TOTAL = CLIENTS * PER_CLIENT;
/** Sends each client keeps in flight, as an SDK outbox with a few queued messages does. */
const IN_FLIGHT = 4;

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe("a cluster of two nodes, one room, many senders", { skip }, () => {
  let cluster: Cluster;
  let sockets: TestSocket[];
  let roomId: string;
  /** each socket's live `message:new` events of the burst, as they arrived */
  let order: Message[][] = [];

  before(async () => {
    cluster = await startCluster({ users: range(CLIENTS).map((i) => `Sender ${i}`) });
    const [a, b] = cluster.nodes as [Cluster["nodes"][0], Cluster["nodes"][0]];
    // half on each node, in a shuffled order, so neighbours in the list are on either node
    const placement = range(CLIENTS).map((i) => (i % 2 === 0 ? a : b));
    placement.sort(() => Math.random() - 0.5);
    sockets = await Promise.all(cluster.users.map((user, i) => cluster.connect(placement[i]!, user)));
    const { room } = await ok(sockets[0]!, "room:create", {
      name: "Everyone",
      memberIds: cluster.users.slice(1).map((u) => u.id),
    });
    roomId = room.id;
  });
  after(() => cluster?.close());

  test(`${CLIENTS} clients × ${PER_CLIENT} messages: seq 1..${TOTAL}, revs contiguous, every socket gets each once`, async () => {
    const live = sockets.map((socket) => collect(socket, "message:new"));
    const acked: Message[] = [];
    await Promise.all(
      sockets.map(async (socket, c) => {
        let next = 0;
        const worker = async () => {
          while (next < PER_CLIENT) {
            const i = next++;
            const { message } = await ok(
              socket,
              "message:send",
              { roomId, body: `client ${c} message ${i}`, clientId: randomUUID() },
              30_000,
            );
            acked.push(message);
          }
        };
        await Promise.all(range(IN_FLIGHT).map(worker));
      }),
    );

    assert.deepEqual(
      acked.map((m) => m.seq).sort((x, y) => x - y),
      range(TOTAL),
      "every ack has its own seq, with no gap",
    );
    const revs = acked.map((m) => m.rev).sort((x, y) => x - y);
    assert.equal(new Set(revs).size, TOTAL, "no two messages share a rev");
    assert.equal(revs.at(-1)! - revs[0]! + 1, TOTAL, "the revs of the sends are contiguous");

    await until(
      () => live.every((seen) => seen.length >= TOTAL),
      60_000,
      "every socket to get every message",
    );
    for (const [i, seen] of live.entries()) {
      assert.equal(seen.length, TOTAL, `socket ${i} got no message twice`);
      assert.equal(new Set(seen.map((m) => m.id)).size, TOTAL, `socket ${i} got every message`);
    }
    order = live;

    // what a client catching up reads back, from either node: the same messages, rev by rev
    for (const socket of [sockets[0]!, sockets[1]!]) {
      const read: Message[] = [];
      let sinceRev = 0;
      for (;;) {
        const page = await ok(socket, "message:changes", { roomId, sinceRev, limit: 500 });
        read.push(...page.messages);
        sinceRev = page.rev;
        if (!page.hasMore) break;
      }
      assert.deepEqual(
        read.map((m) => m.seq),
        range(TOTAL),
      );
      assert.deepEqual(
        read.map((m) => m.rev),
        revs,
      );
    }
  });

  test("every socket's live events of the burst came in strictly ascending seq and rev", () => {
    assert.equal(order.length, CLIENTS, "the burst ran");
    for (const [i, seen] of order.entries()) {
      for (let k = 1; k < seen.length; k++) {
        const [before, now] = [seen[k - 1]!, seen[k]!];
        assert.ok(now.seq > before.seq, `socket ${i}: seq ${now.seq} after ${before.seq}`);
        assert.ok(now.rev > before.rev, `socket ${i}: rev ${now.rev} after ${before.rev}`);
      }
    }
  });

  test("a send whose ack was lost, retried through the other node, is stored once", async () => {
    const sender = cluster.users[0]!;
    const [a, b] = cluster.nodes as [Cluster["nodes"][0], Cluster["nodes"][0]];
    const onA = await cluster.connect(a, sender);
    const onB = await cluster.connect(b, sender);
    const watcher = sockets[5]!;
    const seen = collect(watcher, "message:new");
    const clientId = randomUUID();
    const first = await ok(onA, "message:send", { roomId, body: "only once", clientId });
    // the client never saw that ack (say the connection dropped): it sends again on the other node
    const again = await request(onB, "message:send", { roomId, body: "only once", clientId });
    assert.ok(again.ok, JSON.stringify(again));
    assert.equal(again.message.id, first.message.id);
    assert.equal(again.message.seq, first.message.seq);
    const marker = await ok(onB, "message:send", { roomId, body: "after the retry", clientId: randomUUID() });
    assert.equal(marker.message.seq, first.message.seq + 1, "the retry took no seq of its own");
    await until(() => seen.some((m) => m.id === marker.message.id), 10_000, "the marker to arrive");
    assert.equal(seen.filter((m) => m.clientId === clientId).length, 1, "the retry was not delivered again");
  });
});
