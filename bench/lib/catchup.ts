/**
 * Catch-up after a node dies: two nodes on one PostgreSQL database and Redis behind a TCP load
 * balancer, 500 SDK clients in 50 rooms of 10, one sender per room at 1 message/s (50 messages/s,
 * well under what one PostgreSQL node acknowledges here, so what is measured is the catch-up and
 * not a queue that grows); halfway through, one node gets SIGKILL. Its clients reconnect through the balancer to the node that is left,
 * their outboxes send again what was not acknowledged, and they catch up with `message:changes`.
 * Measured: how long until every client holds every message it missed (acknowledged before it was
 * back online), and
 * that at the end every client holds every acknowledged message exactly once.
 */
import { join } from "node:path";
import { Balancer } from "./balancer.js";
import type { AckedMessage, ClientTimeline, FromCatchupWorker, ToCatchupWorker } from "./catchup-ipc.js";
import { WorkerPool } from "./pool.js";
import { createDatabase, redisPrefix, type Services } from "./postgres.js";
import { createRooms, prepareDatabase, preparePostgresUsers, signToken } from "./setup.js";
import { clockMs, latencySummary } from "./stats.js";
import { startServer, type Target, tempDir } from "./targets.js";

export interface CatchupResult {
  run: number;
  clients: number;
  /** connections each node took at the start (through the balancer) */
  perNode: number[];
  /** clients that lost their connection when the node died */
  cutOff: number;
  sendingS: number;
  killAfterS: number;
  offeredPerS: number;
  acked: number;
  /** sends refused for good, and sends still unacknowledged after the drain */
  failed: number;
  unacked: number;
  firstFailure: string | null;
  lost: number;
  duplicated: number;
  unacknowledged: number;
  checked: number;
  /** of the cut-off clients, ms after the kill */
  reconnect: ReturnType<typeof latencySummary>;
  synced: ReturnType<typeof latencySummary>;
  /** every client, ms after the kill until it held every message acknowledged before it */
  caughtUp: ReturnType<typeof latencySummary>;
  /** clients that never held every message they missed */
  notCaughtUp: number;
  /** connection attempts of the cut-off clients until they were back, and the first failure seen */
  attempts: ReturnType<typeof latencySummary>;
  firstReconnectError: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runCatchup(options: {
  quick: boolean;
  run: number;
  workers: number;
  services: Services;
}): Promise<CatchupResult> {
  const clientsCount = 500;
  const roomSize = 10;
  const ratePerSender = 1;
  const sendersPerRoom = 1;
  const sendingMs = options.quick ? 10_000 : 20_000;
  const killAfterMs = sendingMs / 2;

  const tmp = tempDir("twc-bench-catchup-");
  const usersDb = join(tmp.dir, "users.db");
  const userIds = prepareDatabase(usersDb, clientsCount);
  const tokens = new Map(await Promise.all(userIds.map(async (id) => [id, await signToken(id)] as const)));
  const database = await createDatabase(options.services);
  await preparePostgresUsers(database.url, clientsCount);
  const env = {
    CHAT_DATABASE_URL: database.url,
    REDIS_URL: options.services.redisUrl,
    REDIS_PREFIX: redisPrefix(),
  };
  const nodes: Target[] = [];
  let balancer: Balancer | null = null;
  const pool = new WorkerPool<ToCatchupWorker, FromCatchupWorker>(options.workers, "bench/catchup-worker.js");
  try {
    for (let i = 0; i < 2; i++) nodes.push(await startServer(usersDb, env));
    balancer = new Balancer(nodes.map((n) => ({ host: "127.0.0.1", port: Number(new URL(n.url).port) })));
    await balancer.listen();
    const groups = Array.from({ length: clientsCount / roomSize }, (_, r) =>
      userIds.slice(r * roomSize, (r + 1) * roomSize),
    );
    const roomIds = await createRooms(nodes[0]!.url, tokens, groups);
    const specs = userIds.map((userId, i) => ({
      id: i,
      userId,
      token: tokens.get(userId)!,
      room: roomIds[Math.floor(i / roomSize)]!,
      sends: i % roomSize < sendersPerRoom,
    }));
    const n = pool.workers.length;
    const connected = await pool.all(
      (w) => ({
        type: "connect",
        url: balancer!.url,
        clients: specs.filter((c) => c.id % n === w),
        concurrency: 8,
      }),
      "connected",
      180_000,
    );
    const connectFailed = connected.reduce((a, r) => a + r.failed, 0);
    if (connectFailed > 0)
      throw new Error(
        `${connectFailed} clients did not connect: ${connected.find((r) => r.firstError)?.firstError}`,
      );
    const perNode = [...balancer.accepted];
    await sleep(500);

    const startAt = clockMs() + 300;
    let killAt = Number.NaN;
    const victim = nodes[0]!;
    const killer = setTimeout(
      () => {
        killAt = clockMs();
        void victim.kill();
      },
      startAt + killAfterMs - clockMs(),
    );
    const sent = await pool.all(
      () => ({ type: "run", startAt, durationMs: sendingMs, ratePerSender, bodyWords: 8, drainMs: 60_000 }),
      "sent",
      sendingMs + 90_000,
    );
    clearTimeout(killer);
    const acked: AckedMessage[] = sent.flatMap((r) => r.acked);
    const verified = await pool.all(
      () => ({ type: "expect", acked, killAt, timeoutMs: 60_000 }),
      "verified",
      120_000,
    );
    await pool.all(() => ({ type: "disconnect" }), "disconnected", 60_000);

    const sum = <T>(list: T[], f: (x: T) => number) => list.reduce((a, x) => a + f(x), 0);
    const timelines: ClientTimeline[] = verified.flatMap((v) => v.timelines);
    const cut = timelines.filter((t) => t.cutOff);
    const known = (values: (number | null)[]) => values.filter((v): v is number => v !== null);
    return {
      run: options.run,
      clients: timelines.length,
      perNode,
      cutOff: cut.length,
      sendingS: sendingMs / 1000,
      killAfterS: killAfterMs / 1000,
      offeredPerS: (clientsCount / roomSize) * sendersPerRoom * ratePerSender,
      acked: acked.length,
      failed: sum(sent, (r) => r.failed),
      unacked: sum(sent, (r) => r.unacked),
      firstFailure: sent.find((r) => r.firstFailure)?.firstFailure ?? null,
      lost: sum(verified, (v) => v.lost),
      duplicated: sum(verified, (v) => v.duplicated),
      unacknowledged: sum(verified, (v) => v.unacknowledged),
      checked: sum(verified, (v) => v.checked),
      reconnect: latencySummary(known(cut.map((t) => t.reconnectedMs))),
      synced: latencySummary(known(cut.map((t) => t.syncedMs))),
      caughtUp: latencySummary(known(timelines.map((t) => t.caughtUpMs))),
      notCaughtUp: timelines.filter((t) => t.caughtUpMs === null).length,
      attempts: latencySummary(cut.map((t) => t.attempts)),
      firstReconnectError: cut.find((t) => t.firstError !== null)?.firstError ?? null,
    };
  } finally {
    pool.close();
    await balancer?.close();
    await Promise.all(nodes.map((t) => t.stop()));
    await database.drop();
    tmp.remove();
  }
}
