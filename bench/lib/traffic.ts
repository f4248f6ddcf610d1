/**
 * The traffic scenarios (S1, S2, S3 and capacity) and how one run of one of them goes, against
 * either target: prepare users and rooms, connect every client through the workers, send, then
 * check that every acknowledged message reached every member exactly once.
 */
import { join } from "node:path";
import sharp from "sharp";
import type { ClientSpec, SentReport, VerifiedReport } from "./ipc.js";
import type { WorkerPool } from "./pool.js";
import { createDatabase, redisPrefix, type Services, sampleActivity } from "./postgres.js";
import { createRooms, prepareDatabase, preparePostgresUsers, signToken } from "./setup.js";
import { clockMs, latencySummary } from "./stats.js";
import { machineBusyS, startRelay, startServer, type Target, tempDir } from "./targets.js";

export interface TrafficScenario {
  name: "S1" | "S1m" | "S1i" | "S2" | "S3" | "S3-250" | "S3-2000" | "capacity" | "capacity-big";
  title: string;
  clients: number;
  roomSize: number;
  /** senders per room (0: nobody sends) */
  sendersPerRoom: number;
  mode: "closed" | "open";
  inflight: number;
  ratePerSender: number;
  warmupMs: number;
  durationMs: number;
  recordLatency: boolean;
  /** the share of messages that mention another member with `@login` (S1m: 0.2) */
  mentionShare?: number;
  /** every how many messages of a sender carry an image uploaded just before (S1i: 10) */
  imageEvery?: number;
}

/**
 * `bigConnections`: the idle connections of `capacity-big` (30,000 unless --connections says
 * otherwise; the target then needs `ulimit -n` above that).
 */
export function trafficScenarios(quick: boolean, bigConnections = 30_000): TrafficScenario[] {
  const d = (full: number) => (quick ? Math.min(full, 5000) : full);
  const base = {
    mode: "closed" as const,
    inflight: 8,
    ratePerSender: 0,
    warmupMs: 2000,
    recordLatency: false,
  };
  return [
    {
      ...base,
      name: "S1",
      title: "200 clients, 20 rooms of 10, all sending, 8 in flight",
      clients: 200,
      roomSize: 10,
      sendersPerRoom: 10,
      durationMs: d(20_000),
    },
    {
      // S1 where one message in five mentions another member: what resolving mentions costs
      ...base,
      name: "S1m",
      title: "S1, with 20 % of the messages mentioning a member (@login)",
      clients: 200,
      roomSize: 10,
      sendersPerRoom: 10,
      durationMs: d(20_000),
      mentionShare: 0.2,
    },
    {
      // S1 where one message in ten carries a small image, uploaded first: what files cost the chat
      ...base,
      name: "S1i",
      title: "S1, with 10 % of the messages carrying an image uploaded just before",
      clients: 200,
      roomSize: 10,
      sendersPerRoom: 10,
      durationMs: d(20_000),
      imageEvery: 10,
    },
    {
      ...base,
      name: "S2",
      title: "1,000 clients, 10 rooms of 100, 10 senders, 8 in flight",
      clients: 1000,
      roomSize: 100,
      sendersPerRoom: 1,
      durationMs: d(20_000),
    },
    {
      ...base,
      name: "S3",
      title: "500 clients, 50 rooms of 10, 1,000 messages/s offered",
      clients: 500,
      roomSize: 10,
      sendersPerRoom: 10,
      mode: "open",
      ratePerSender: 2,
      recordLatency: true,
      durationMs: d(20_000),
    },
    ...[250, 2000].map((rate) => ({
      ...base,
      name: `S3-${rate}` as "S3-250" | "S3-2000",
      title: `S3 at ${rate.toLocaleString("en")} messages/s offered`,
      clients: 500,
      roomSize: 10,
      sendersPerRoom: 10,
      mode: "open" as const,
      ratePerSender: rate / 500,
      recordLatency: true,
      durationMs: d(20_000),
    })),
    {
      ...base,
      name: "capacity-big",
      title: `${bigConnections.toLocaleString("en")} idle authenticated connections, rooms of 10`,
      clients: bigConnections,
      roomSize: 10,
      sendersPerRoom: 0,
      warmupMs: 0,
      durationMs: 0,
    },
    {
      ...base,
      name: "capacity",
      title: "idle authenticated connections, rooms of 10",
      clients: quick ? 2000 : 10_000,
      roomSize: 10,
      sendersPerRoom: 0,
      warmupMs: 0,
      durationMs: 0,
    },
  ];
}

/**
 * What a run talks to: the bare relay, one node on SQLite (`server`), one node on the PostgreSQL
 * chat store (`postgres`), and nodes on PostgreSQL and Redis (`pg-1node`, `pg-2nodes`), as several
 * machines behind a load balancer run them. Every PostgreSQL run gets a fresh database.
 */
export type TargetKind = "relay" | "server" | "postgres" | "pg-1node" | "pg-2nodes";

/** How many nodes each kind starts, and whether they share Redis. */
const NODES: Record<Exclude<TargetKind, "relay">, { nodes: number; postgres: boolean; redis: boolean }> = {
  server: { nodes: 1, postgres: false, redis: false },
  postgres: { nodes: 1, postgres: true, redis: false },
  "pg-1node": { nodes: 1, postgres: true, redis: true },
  "pg-2nodes": { nodes: 2, postgres: true, redis: true },
};

export interface TrafficResult {
  scenario: string;
  target: TargetKind;
  run: number;
  acksPerS: number;
  deliveriesPerS: number;
  ackLatency: ReturnType<typeof latencySummary>;
  deliveryLatency: ReturnType<typeof latencySummary>;
  acked: number;
  deliveries: number;
  /** acknowledged but not delivered to a member, plus sends never acknowledged (`unacked`) */
  lost: number;
  /** sends still without an ack when the drain (30 s after the last send) ended */
  unacked: number;
  duplicated: number;
  reordered: number;
  unexpected: number;
  failedAcks: number;
  firstFailure: string | null;
  /** S1i: uploads refused as busy (503) and sent again */
  busyRetries: number;
  connectFailed: number;
  connections: number;
  connectPerS: number;
  rssBeforeKb: number;
  rssAfterKb: number;
  rssPerConnectionKb: number;
  /** idle scenarios: the target's CPU seconds per 1,000 connections while they connected */
  connectCpuSPer1000: number;
  /** idle scenarios: cores the target used while every connection sat idle (3 s) */
  idleCores: number;
  /** CPU cores used during the measured window, all nodes together */
  targetCores: number;
  /** the same, node by node */
  nodeCores: number[];
  /** on PostgreSQL: what the nodes' connections were doing in the window (state → share of samples) */
  pgActivity: Record<string, number> | null;
  generatorCores: number;
  /** every process of the machine, the benchmark's and anyone else's */
  machineCores: number;
  saturated: "target" | "generator" | "both" | "machine" | "neither";
}

/** Everything one run needs to know about its clients and the target it talks to. */
export interface Prepared {
  /** one, or each node of a cluster */
  targets: Target[];
  clients: ClientSpec[];
  cleanup: () => Promise<void>;
  /** the PostgreSQL database's name, when there is one */
  database: string | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Loopback source addresses, so 10,000 connections don't use up one address's ephemeral ports. */
const localAddress = (i: number) => `127.0.0.${2 + (i % 16)}`;

async function prepare(s: TrafficScenario, kind: TargetKind, services?: Services): Promise<Prepared> {
  const rooms = Math.ceil(s.clients / s.roomSize);
  const roomOf = (i: number) => Math.floor(i / s.roomSize);
  const isSender = (i: number) => i % s.roomSize < s.sendersPerRoom;
  if (kind === "relay") {
    const target = await startRelay();
    const clients = Array.from({ length: s.clients }, (_, i) => {
      const room = `room-${roomOf(i)}`;
      return {
        id: i,
        auth: { rooms: [room] },
        rooms: [room],
        sendsTo: isSender(i) ? room : undefined,
        localAddress: localAddress(i),
      };
    });
    return { targets: [target], clients, cleanup: () => target.stop(), database: null };
  }
  const setup = NODES[kind];
  if (setup.postgres && !services) throw new Error(`${kind} needs PostgreSQL and Redis`);
  // with PostgreSQL the built-in user directory is in the PostgreSQL database, which every node reads
  const tmp = tempDir("twc-bench-db-");
  const userIds = prepareDatabase(join(tmp.dir, "chat.db"), s.clients);
  const tokens = new Map(await Promise.all(userIds.map(async (id) => [id, await signToken(id)] as const)));
  const database = setup.postgres ? await createDatabase(services!) : null;
  if (database) await preparePostgresUsers(database.url, s.clients);
  const env: Record<string, string> = {
    ...(database ? { CHAT_DATABASE_URL: database.url } : {}),
    ...(setup.redis ? { REDIS_URL: services!.redisUrl, REDIS_PREFIX: redisPrefix() } : {}),
  };
  const targets: Target[] = [];
  const cleanup = async () => {
    await Promise.all(targets.map((t) => t.stop()));
    await database?.drop();
    tmp.remove();
  };
  try {
    // one after the other: the first runs the migrations, under their advisory lock anyway
    for (let n = 0; n < setup.nodes; n++) targets.push(await startServer(join(tmp.dir, "chat.db"), env));
    const groups = Array.from({ length: rooms }, (_, r) =>
      userIds.slice(r * s.roomSize, (r + 1) * s.roomSize),
    );
    const roomIds = await createRooms(targets[0]!.url, tokens, groups);
    const clients = userIds.map((userId, i) => {
      const room = roomIds[roomOf(i)]!;
      return {
        id: i,
        auth: { token: tokens.get(userId)! },
        rooms: [room],
        sendsTo: isSender(i) ? room : undefined,
        localAddress: localAddress(i),
        // neighbours in a room alternate between the nodes, as a balancer spreads them: every
        // room then has members on each node, so every message crosses between them
        url: targets[i % targets.length]!.url,
        ...(s.mentionShare
          ? { mentionable: groups[roomOf(i)]!.filter((id) => id !== userId).map((id) => `user${id}`) }
          : {}),
      };
    });
    return { targets, clients, cleanup, database: database?.name ?? null };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

function saturation(
  busiestNodeCores: number,
  targetCores: number,
  generatorCores: number,
  machineCores: number,
  cpus: number,
): TrafficResult["saturated"] {
  // each node is one Node.js event loop: one of them near one core means it is the bottleneck
  const targetBusy = busiestNodeCores >= 0.85;
  const generatorBusy = generatorCores >= 0.85 * Math.max(0.5, cpus - targetCores);
  if (targetBusy && generatorBusy) return "both";
  if (targetBusy || generatorBusy) return targetBusy ? "target" : "generator";
  // neither alone, but the machine is full: other processes took the rest
  return machineCores >= 0.9 * cpus ? "machine" : "neither";
}

export async function runTraffic(
  s: TrafficScenario,
  kind: TargetKind,
  run: number,
  pool: WorkerPool,
  cpus: number,
  services?: Services,
  /** a target the caller made and set up (its clients, rooms and clean-up); default: made here */
  given?: Prepared,
): Promise<TrafficResult> {
  const { targets, clients, cleanup, database } = given ?? (await prepare(s, kind, services));
  const n = pool.workers.length;
  const target = targets[0]!;
  const rssKb = () => targets.reduce((a, t) => a + t.rssKb(), 0);
  const cpuS = () => targets.map((t) => t.cpuS());
  try {
    await sleep(300);
    const rssBeforeKb = rssKb();
    const connectStarted = clockMs();
    const cpuBeforeConnect = cpuS().reduce((a, c) => a + c, 0);
    const connected = await pool.all(
      (w) => ({
        type: "connect",
        url: target.url,
        clients: clients.filter((c) => c.id % n === w),
        concurrency: 64,
        readyEvent: kind === "server" ? "session" : "connect",
      }),
      "connected",
      180_000,
    );
    const connectMs = clockMs() - connectStarted;
    const connectFailed = connected.reduce((a, r) => a + r.failed, 0);
    if (connectFailed > 0)
      process.stderr.write(
        `  ${connectFailed} connections failed: ${connected.find((r) => r.firstError)?.firstError}\n`,
      );
    const cpuAfterConnect = cpuS().reduce((a, c) => a + c, 0);
    await sleep(s.sendersPerRoom === 0 ? 3000 : 500); // let connection-time writes and GC settle
    const rssAfterKb = rssKb();
    const idleStart = cpuS().reduce((a, c) => a + c, 0);
    let idleCores = 0;
    if (s.sendersPerRoom === 0) {
      // what holding the connections costs: heartbeats, timers, nothing else
      await sleep(3000);
      idleCores = (cpuS().reduce((a, c) => a + c, 0) - idleStart) / 3;
    }

    let sent: SentReport[] = [];
    let verified: VerifiedReport[] = [];
    let nodeCores = targets.map(() => 0);
    let pgActivity: Record<string, number> | null = null;
    let machineStart = 0;
    let machineCores = 0;
    if (s.sendersPerRoom > 0) {
      // made before the start time is set, so making it never eats into the warm-up
      const photo = s.imageEvery ? (await smallPhoto()).toString("base64") : "";
      const startAt = clockMs() + 300;
      let cpuStart = targets.map(() => 0);
      let cpuEnd = targets.map(() => 0);
      let sampler: ReturnType<typeof sampleActivity> | null = null;
      let sampled: Promise<Record<string, number>> | null = null;
      const t1 = setTimeout(
        () => {
          cpuStart = cpuS();
          if (database && services) sampler = sampleActivity(services, database);
          machineStart = machineBusyS();
        },
        startAt + s.warmupMs - clockMs(),
      );
      const t2 = setTimeout(
        () => {
          cpuEnd = cpuS();
          sampled = sampler?.stop() ?? null;
          machineCores = (machineBusyS() - machineStart) / (s.durationMs / 1000);
        },
        startAt + s.warmupMs + s.durationMs - clockMs(),
      );
      sent = await pool.all(
        () => ({
          type: "run",
          startAt,
          warmupMs: s.warmupMs,
          durationMs: s.durationMs,
          mode: s.mode,
          inflight: s.inflight,
          ratePerSender: s.ratePerSender,
          recordLatency: s.recordLatency,
          bodyWords: 8,
          ...(s.mentionShare ? { mentionShare: s.mentionShare } : {}),
          ...(s.imageEvery
            ? {
                images: {
                  every: s.imageEvery,
                  bytes: photo,
                  name: "photo.jpg",
                  type: "image/jpeg",
                },
              }
            : {}),
        }),
        "sent",
        s.warmupMs + s.durationMs + 60_000,
      );
      clearTimeout(t1);
      clearTimeout(t2);
      // a window cut short by a failure leaves the sampler running: stop it here
      pgActivity = await (sampled ?? (sampler as ReturnType<typeof sampleActivity> | null)?.stop() ?? null);
      nodeCores = cpuEnd.map((end, i) => (end - cpuStart[i]!) / (s.durationMs / 1000));
      const roomOfSender = new Map(clients.filter((c) => c.sendsTo).map((c) => [c.id, c.sendsTo!]));
      const senders = sent.flatMap((r) =>
        r.acked.map((a) => ({ id: a.id, room: roomOfSender.get(a.id)!, acked: a.count })),
      );
      verified = await pool.all(() => ({ type: "expect", senders, timeoutMs: 20_000 }), "verified", 60_000);
    }
    await pool.all(() => ({ type: "disconnect" }), "disconnected", 60_000);

    const seconds = s.durationMs / 1000;
    const targetCores = nodeCores.reduce((a, c) => a + c, 0);
    const sum = <T>(list: T[], f: (x: T) => number) => list.reduce((a, x) => a + f(x), 0);
    const generatorCores = seconds > 0 ? sum(sent, (r) => r.windowCpuS) / seconds : 0;
    return {
      scenario: s.name,
      target: kind,
      run,
      acksPerS: seconds > 0 ? sum(sent, (r) => r.windowAcks) / seconds : 0,
      deliveriesPerS: seconds > 0 ? sum(verified, (r) => r.windowDeliveries) / seconds : 0,
      ackLatency: latencySummary(sent.flatMap((r) => r.ackLatency)),
      deliveryLatency: latencySummary(verified.flatMap((r) => r.deliveryLatency)),
      acked: sum(sent, (r) => sum(r.acked, (a) => a.count)),
      deliveries: sum(verified, (r) => r.deliveries),
      lost: sum(verified, (r) => r.lost) + sum(sent, (r) => r.unacked),
      unacked: sum(sent, (r) => r.unacked),
      duplicated: sum(verified, (r) => r.duplicated),
      reordered: sum(verified, (r) => r.reordered),
      unexpected: sum(verified, (r) => r.unexpected),
      failedAcks: sum(sent, (r) => r.failedAcks),
      firstFailure: sent.find((r) => r.firstFailure)?.firstFailure ?? null,
      busyRetries: sum(sent, (r) => r.busyRetries),
      connectFailed,
      connections: clients.length - connectFailed,
      connectPerS: (clients.length - connectFailed) / (connectMs / 1000),
      rssBeforeKb,
      rssAfterKb,
      rssPerConnectionKb: (rssAfterKb - rssBeforeKb) / Math.max(1, clients.length - connectFailed),
      connectCpuSPer1000:
        ((cpuAfterConnect - cpuBeforeConnect) * 1000) / Math.max(1, clients.length - connectFailed),
      idleCores,
      targetCores,
      nodeCores,
      pgActivity,
      generatorCores,
      machineCores,
      saturated:
        s.sendersPerRoom > 0
          ? saturation(Math.max(...nodeCores), targetCores, generatorCores, machineCores, cpus)
          : "neither",
    };
  } finally {
    await cleanup();
  }
}

let photoMade: Promise<Buffer> | null = null;

/**
 * S1i's image: a 320 × 240 JPEG with a photo's texture (blurred noise), a few KB as a phone's
 * screenshot of a receipt shrunk for chat would be; made once per benchmark with sharp.
 */
function smallPhoto(): Promise<Buffer> {
  photoMade ??= sharp({
    create: {
      width: 320,
      height: 240,
      channels: 3,
      background: "#808080",
      noise: { type: "gaussian", mean: 128, sigma: 40 },
    },
  })
    .blur(2)
    .jpeg({ quality: 80 })
    .toBuffer();
  return photoMade;
}
