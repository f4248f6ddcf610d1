/**
 * A node killed (SIGKILL) in the middle of a burst: nothing it acknowledged is lost, and its
 * clients, reconnecting to the other node and sending their unacknowledged messages again with the
 * same client ids, get each of them stored exactly once. Real node processes on one PostgreSQL
 * database and one Redis (test/support/cluster.ts).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { Message } from "../../src/protocol/index.js";
import { type Cluster, startCluster } from "../support/cluster.js";
import { collect, ok, request, requireService, type TestSocket, until } from "../support/harness.js";
import type { ServerProcess } from "../support/process.js";

const skip = await requireService("postgres", "redis");

const SENDERS = 6;
const PER_SENDER = 150;

/** Every message of a room, read with message:changes as a client catching up does. */
async function everything(socket: TestSocket, roomId: string): Promise<Message[]> {
  const all: Message[] = [];
  let sinceRev = 0;
  for (;;) {
    const page = await ok(socket, "message:changes", { roomId, sinceRev, limit: 500 });
    all.push(...page.messages);
    sinceRev = page.rev;
    if (!page.hasMore) return all;
  }
}

describe("a node killed mid-burst", { skip }, () => {
  let cluster: Cluster;
  let doomed: ServerProcess;
  let survivor: ServerProcess;
  /** what the watcher on the surviving node received live during the first test */
  let watched: { live: Message[]; total: number } | null = null;

  before(async () => {
    cluster = await startCluster({
      users: [...Array.from({ length: SENDERS }, (_, i) => `Sender ${i}`), "Watcher"],
    });
    [doomed, survivor] = cluster.nodes as [ServerProcess, ServerProcess];
  });
  after(() => cluster?.close());

  test("loses nothing acknowledged, and the resent unacknowledged messages are stored once", async () => {
    const senders = cluster.users.slice(0, SENDERS);
    const watcherUser = cluster.users[SENDERS]!;
    const watcher = await cluster.connect(survivor, watcherUser);
    const { room } = await ok(watcher, "room:create", { name: "Burst", memberIds: senders.map((u) => u.id) });
    const live = collect(watcher, "message:new");

    // each sender's outbox: client ids in order, and which of them the doomed node acknowledged
    const outboxes = senders.map(() => Array.from({ length: PER_SENDER }, () => randomUUID()));
    const acked = new Map<string, Message>();
    const onDoomed = await Promise.all(senders.map((u) => cluster.connect(doomed, u)));
    const bursts = onDoomed.map(async (socket, s) => {
      // a few in flight at once, as an outbox drains; an ack that never comes ends the sender
      let next = 0;
      const worker = async () => {
        while (next < PER_SENDER && socket.connected) {
          const clientId = outboxes[s]![next++]!;
          const ack = await request(
            socket,
            "message:send",
            { roomId: room.id, body: `from ${s}`, clientId },
            3000,
          ).catch(() => null);
          if (ack?.ok) acked.set(clientId, ack.message);
        }
      };
      await Promise.all([worker(), worker(), worker()]);
    });
    await until(
      () => acked.size >= (SENDERS * PER_SENDER) / 4,
      30_000,
      "a quarter of the burst to be acknowledged",
    );
    doomed.child.kill("SIGKILL");
    const exit = await doomed.exited;
    assert.equal(exit.signal, "SIGKILL");
    await Promise.all(bursts);
    const ackedBeforeDeath = new Map(acked);
    assert.ok(ackedBeforeDeath.size < SENDERS * PER_SENDER, "the node died before the burst ended");

    // nothing acknowledged is lost
    let stored = await everything(watcher, room.id);
    const storedIds = new Map(stored.map((m) => [m.clientId, m]));
    for (const [clientId, message] of ackedBeforeDeath) {
      assert.equal(storedIds.get(clientId)?.id, message.id, `acknowledged ${clientId} is stored`);
    }

    // the senders reconnect to the surviving node and resend everything not acknowledged, in order
    await Promise.all(
      senders.map(async (user, s) => {
        const socket = await cluster.connect(survivor, user);
        for (const clientId of outboxes[s]!) {
          if (ackedBeforeDeath.has(clientId)) continue;
          const ack = await ok(
            socket,
            "message:send",
            { roomId: room.id, body: `from ${s}`, clientId },
            10_000,
          );
          acked.set(clientId, ack.message);
        }
      }),
    );

    const total = SENDERS * PER_SENDER;
    stored = await everything(watcher, room.id);
    assert.equal(stored.length, total, "every message stored once: no loss, no double");
    assert.deepEqual(
      stored.map((m) => m.seq).sort((x, y) => x - y),
      Array.from({ length: total }, (_, i) => i + 1),
      "seq has no gap, even though a node died holding sends in flight",
    );
    assert.equal(new Set(stored.map((m) => m.clientId)).size, total);
    for (const [clientId, message] of acked) {
      assert.equal(
        stored.find((m) => m.clientId === clientId)?.id,
        message.id,
        `${clientId}: the ack names the stored message`,
      );
    }
    watched = { live, total };
  });

  test("a watcher on the surviving node got every message of the burst live, once", async () => {
    assert.ok(watched, "the burst ran");
    const { live, total } = watched;
    await until(() => live.length >= total, 10_000, "the watcher to get every message");
    assert.equal(new Set(live.map((m) => m.id)).size, total);
    assert.equal(live.length, total);
  });
});
