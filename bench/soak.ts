/**
 * `npm run soak`: a long mixed load with reconnects against the real chat server, to show that
 * nothing acknowledged is lost or duplicated over time and that the server's memory stays flat.
 *
 * The server runs as a child process (`src/main.ts` through tsx, `NODE_ENV=production`, a fresh
 * SQLite file, rate limits raised out of the way). About 300 clients (one user each, users and
 * tokens made as `npm run bench` makes them) share rooms of 3 to 100 members and:
 * - send steadily, each message with a fresh `clientId`, kept in an outbox until acknowledged;
 * - now and then edit, delete, react, mark read, type, page history and search;
 * - disconnect and reconnect every so often (cleanly, or by killing the WebSocket without a close
 *   frame), then catch up with `message:changes` from their last `rev` and resend their unacknowledged
 *   messages with the same `clientId`; once, a burst of clients is killed at the same moment.
 * At the end every client catches up, the history of every room is read in full and checked:
 * every acknowledged message is there exactly once, `seq` runs 1…n with no gap, no `clientId`
 * appears twice, and every member has every message (live or through catch-up). The server's RSS
 * (/proc), heap (/metrics) and database size are sampled every 10 s. RSS also holds SQLite's page
 * caches (SQLITE_CACHE_MB, and as much again for the other connections), which fill as the
 * database grows, so the heap right after full collections is the leak signal: its slope after
 * warm-up is one of the checks.
 *
 * Options: --minutes=N (default 10), --clients=N (default 300), --rate=N (messages/s offered in
 * all, default 100), --sqlite-cache-mb=N (the server's SQLITE_CACHE_MB, default 64: a small cache
 * shows how much of the RSS growth is SQLite's page cache filling). Prints a short table and writes bench/results/soak-<date>.json. Exits 1 when
 * a check fails. All traffic goes to 127.0.0.1; every loop is bounded in count and time.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { io, type Socket } from "socket.io-client";
import type { Message } from "../src/protocol/types.js";
import { createRooms, prepareDatabase, signToken } from "./lib/setup.js";
import { BENCH_SECRET, freePort, REPO_DIR, tempDir, writeJson } from "./lib/targets.js";

const USAGE = "usage: npm run soak -- [--minutes=10] [--clients=300] [--rate=100] [--sqlite-cache-mb=64]\n";
const OPTIONS = ["minutes", "clients", "rate", "sqlite-cache-mb"];
const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const unknown = args.find((a) => !OPTIONS.some((name) => a.startsWith(`--${name}=`)));
if (unknown !== undefined) {
  process.stderr.write(`unknown option ${unknown}\n${USAGE}`);
  process.exit(2);
}
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const minutes = Number(option("minutes") ?? 10);
const clientCount = Math.floor(Number(option("clients") ?? 300));
const offeredRate = Number(option("rate") ?? 100);
const cacheMb = Math.floor(Number(option("sqlite-cache-mb") ?? 64));
if (
  !(minutes > 0 && minutes <= 24 * 60) ||
  !(clientCount >= 10 && clientCount <= 5000) ||
  !(offeredRate > 0) ||
  !(cacheMb >= 1 && cacheMb <= 16_384)
) {
  process.stderr.write(USAGE);
  process.exit(2);
}
const durationMs = minutes * 60_000;
/**
 * Memory slopes are taken after this: V8 grows its heap to the working size over the first
 * minutes (in 10-minute runs its total settled after about 3), which is growth, but not a leak.
 */
const warmupMs = Math.min(180_000, durationMs / 3);
const SAMPLE_MS = 10_000;
/**
 * The heap right after full collections (live JavaScript objects) may not grow faster than this
 * after warm-up: a leak of one small object per message would be several MB a minute at the default rate.
 */
const HEAP_SLOPE_LIMIT_MB_PER_MIN = 0.5;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const rand = (n: number) => Math.floor(Math.random() * n);
const pick = <T>(items: readonly T[]): T => items[rand(items.length)]!;
const EMOJI = ["👍", "❤️", "😂", "🎉", "👀", "✅"];
const WORDS = [
  "alpha",
  "budget",
  "coffee",
  "deadline",
  "invoice",
  "meeting",
  "project",
  "report",
  "shift",
  "team",
];

// --- the server -----------------------------------------------------------------------------

interface Server {
  url: string;
  pid: number;
  child: ChildProcess;
  output: () => string;
}

async function startServer(sqlitePath: string, cwd: string): Promise<Server> {
  const port = await freePort();
  const tsx = fileURLToPath(import.meta.resolve("tsx"));
  const child = spawn(process.execPath, ["--import", tsx, join(REPO_DIR, "src/main.ts")], {
    cwd, // a folder of its own: no stray .env is read
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "production",
      CHAT_HOST: "127.0.0.1",
      CHAT_PORT: String(port),
      SQLITE_PATH: sqlitePath,
      SQLITE_CACHE_MB: String(cacheMb),
      AUTH_JWT_SECRET: BENCH_SECRET,
      LOG_LEVEL: "warn",
      RATE_LIMIT_MESSAGES: "1000000",
      RATE_LIMIT_TYPING: "1000000",
      RATE_LIMIT_ROOM_OPS: "1000000",
      RATE_LIMIT_SEARCHES: "1000000",
      RATE_LIMIT_READS: "1000000",
      MAX_SOCKETS_PER_USER: "100",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode}:\n${output}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, pid: child.pid!, child, output: () => output };
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  child.kill("SIGKILL");
  throw new Error(`the server did not answer within 60 s:\n${output}`);
}

function stopServer(server: Server): Promise<number | null> {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null) return resolve(server.child.exitCode);
    const timer = setTimeout(() => server.child.kill("SIGKILL"), 15_000);
    server.child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    server.child.kill("SIGTERM");
  });
}

// --- memory samples -------------------------------------------------------------------------

interface Sample {
  atS: number;
  rssMb: number;
  heapUsedMb: number;
  /** the heap in use right after the last full collection: what is still reachable, the leak signal */
  heapAfterGcMb: number;
  /** V8's whole heap (used and free) */
  heapTotalMb: number;
  /** memory V8 tracks outside its heap: Buffers, ArrayBuffers */
  externalMb: number;
  /** the chat database with its WAL: SQLite's page caches grow with it (up to their size), outside the heap */
  dbMb: number;
  connections: number;
}

async function sample(server: Server, startedAt: number, dbPath: string): Promise<Sample> {
  const status = readFileSync(`/proc/${server.pid}/status`, "utf8");
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  let text = "";
  try {
    text = await (await fetch(`${server.url}/metrics`)).text();
  } catch {
    // every figure from /metrics is reported as NaN
  }
  const metric = (name: string) =>
    Number(new RegExp(`^timewise_chat_${name} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);
  const fileMb = (path: string) => (statSync(path, { throwIfNoEntry: false })?.size ?? 0) / 1024 / 1024;
  return {
    atS: Math.round((Date.now() - startedAt) / 1000),
    rssMb: rssKb / 1024,
    heapUsedMb: metric("nodejs_heap_size_used_bytes") / 1024 / 1024,
    heapAfterGcMb: metric("heap_after_full_gc_bytes") / 1024 / 1024 || Number.NaN,
    heapTotalMb: metric("nodejs_heap_size_total_bytes") / 1024 / 1024,
    externalMb: metric("nodejs_external_memory_bytes") / 1024 / 1024,
    dbMb: fileMb(dbPath) + fileMb(`${dbPath}-wal`),
    connections: metric("connections"),
  };
}

/** What RSS holds beyond V8's heap and Buffers: SQLite's page caches, sockets' kernel-side copies, code. */
const nativeMb = (s: Sample) => s.rssMb - s.heapTotalMb - s.externalMb;

/** Least-squares slope of y over x (per x unit). */
function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

// --- the clients ----------------------------------------------------------------------------

interface Ack {
  ok: boolean;
  error?: { code: string; message: string };
  message?: Message;
  messages?: Message[];
  rev?: number;
  hasMore?: boolean;
}

interface Outgoing {
  roomId: string;
  clientId: string;
  body: string;
  sentAt: number;
}

interface Acked {
  id: string;
  roomId: string;
  seq: number;
  senderId: string;
}

const stats = {
  sent: 0,
  acked: 0,
  resent: 0,
  ackFailures: 0,
  firstAckFailure: null as string | null,
  liveDeliveries: 0,
  catchUpMessages: 0,
  liveDuplicates: 0,
  ackMismatch: 0,
  reconnects: 0,
  abruptKills: 0,
  connectFailures: 0,
  firstConnectFailure: null as string | null,
  edits: 0,
  deletes: 0,
  reactions: 0,
  reads: 0,
  typing: 0,
  histories: 0,
  searches: 0,
  opFailures: 0,
  firstOpFailure: null as string | null,
};

/** Every acknowledged message, by clientId. */
const acked = new Map<string, Acked>();

function noteOpFailure(what: string, ack: Ack | undefined): void {
  stats.opFailures++;
  stats.firstOpFailure ??= `${what}: ${JSON.stringify(ack?.error ?? ack)}`;
}

class Client {
  socket: Socket | null = null;
  connected = false;
  /** per room: every seq this client has seen (live or by catch-up) */
  readonly seen = new Map<string, Set<number>>();
  /** per room: the highest rev this client has caught up to */
  readonly rev = new Map<string, number>();
  /** message ids delivered live on the current connection (a repeat is a duplicate) */
  liveIds = new Set<string>();
  /** true once the current connection has caught up: live events then move `rev` forward */
  synced = false;
  /** per room: the highest seq seen */
  readonly maxSeq = new Map<string, number>();
  readonly outbox = new Map<string, Outgoing>();
  /** this client's own acknowledged messages (for edits and deletions) */
  readonly mine: Acked[] = [];
  private counter = 0;
  private connecting = false;

  constructor(
    readonly index: number,
    readonly userId: string,
    readonly token: string,
    readonly rooms: string[],
    readonly url: string,
  ) {
    for (const room of rooms) {
      this.seen.set(room, new Set());
      this.rev.set(room, 0);
    }
  }

  private receive(message: Message, live: boolean): void {
    const seen = this.seen.get(message.roomId);
    if (!seen) return; // not one of ours: counted by the final check as unexpected if it mattered
    seen.add(message.seq);
    this.maxSeq.set(message.roomId, Math.max(this.maxSeq.get(message.roomId) ?? 0, message.seq));
    if (live) {
      stats.liveDeliveries++;
      if (this.liveIds.has(message.id)) stats.liveDuplicates++;
      this.liveIds.add(message.id);
    } else stats.catchUpMessages++;
  }

  /** Connects (a new socket), catches up every room from its last rev, then resends the outbox. */
  async connect(): Promise<void> {
    if (this.connected || this.connecting) return;
    this.connecting = true;
    try {
      for (let attempt = 1; attempt <= 20; attempt++) {
        try {
          await this.open();
          break;
        } catch (err) {
          stats.connectFailures++;
          stats.firstConnectFailure ??= String(err);
          if (attempt === 20) throw err;
          await sleep(200 * attempt);
        }
      }
      await this.catchUp();
      this.synced = true;
      for (const out of this.outbox.values()) {
        stats.resent++;
        this.emitSend(out);
      }
    } finally {
      this.connecting = false;
    }
  }

  private open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = io(this.url, {
        auth: { token: this.token },
        transports: ["websocket"],
        reconnection: false,
        forceNew: true,
        timeout: 20_000,
      });
      this.liveIds = new Set();
      this.synced = false;
      const advance = (m: Message) => {
        if (this.synced && this.socket === socket && this.rev.has(m.roomId))
          this.rev.set(m.roomId, Math.max(this.rev.get(m.roomId) ?? 0, m.rev));
      };
      socket.on("message:new", (m: Message) => {
        this.receive(m, true);
        advance(m);
      });
      socket.on("message:updated", advance);
      socket.on("message:deleted", advance);
      socket.on("disconnect", () => {
        if (this.socket === socket) this.connected = false;
      });
      socket.once("session", () => {
        this.socket = socket;
        this.connected = true;
        resolve();
      });
      socket.once("connect_error", (err) => {
        socket.close();
        reject(err);
      });
    });
  }

  async request(event: string, payload: unknown, timeoutMs = 20_000): Promise<Ack | undefined> {
    const socket = this.socket;
    if (!socket || !this.connected) return undefined;
    try {
      return (await socket.timeout(timeoutMs).emitWithAck(event, payload)) as Ack;
    } catch {
      return undefined; // disconnected or timed out: the caller decides
    }
  }

  /** `message:changes` from the last rev of every room, page by page. */
  async catchUp(): Promise<boolean> {
    let complete = true;
    for (const room of this.rooms) {
      for (let page = 0; page < 10_000; page++) {
        const ack = await this.request("message:changes", {
          roomId: room,
          sinceRev: this.rev.get(room),
          limit: 500,
        });
        if (!ack?.ok) {
          if (ack) noteOpFailure("message:changes", ack);
          complete = false;
          break;
        }
        for (const m of ack.messages ?? []) this.receive(m, false);
        this.rev.set(room, Math.max(this.rev.get(room) ?? 0, ack.rev ?? 0));
        if (!ack.hasMore) break;
      }
    }
    return complete;
  }

  private emitSend(out: Outgoing): void {
    const socket = this.socket;
    if (!socket || !this.connected) return; // stays in the outbox; resent on reconnect
    socket
      .timeout(30_000)
      .emit(
        "message:send",
        { roomId: out.roomId, body: out.body, clientId: out.clientId },
        (err: Error | null, ack: Ack) => {
          if (err) return; // disconnected or slow: resent on reconnect (or at the end)
          this.onAck(out, ack);
        },
      );
  }

  onAck(out: Outgoing, ack: Ack): void {
    if (!ack?.ok || !ack.message) {
      stats.ackFailures++;
      stats.firstAckFailure ??= JSON.stringify(ack?.error ?? ack);
      return;
    }
    const m = ack.message;
    const before = acked.get(out.clientId);
    if (before) {
      // a resend acknowledged again: it must be the same stored message
      if (before.id !== m.id || before.seq !== m.seq) stats.ackMismatch++;
      return;
    }
    if (!this.outbox.delete(out.clientId)) return;
    const record = { id: m.id, roomId: m.roomId, seq: m.seq, senderId: m.senderId };
    if (m.roomId !== out.roomId || m.senderId !== this.userId) stats.ackMismatch++;
    acked.set(out.clientId, record);
    this.mine.push(record);
    if (this.mine.length > 50) this.mine.shift();
    stats.acked++;
  }

  send(): void {
    const out: Outgoing = {
      roomId: pick(this.rooms),
      clientId: `soak.${this.userId}.${this.counter++}`,
      body: `${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)} #${this.counter}`,
      sentAt: Date.now(),
    };
    this.outbox.set(out.clientId, out);
    stats.sent++;
    this.emitSend(out);
  }

  /** One of the other things a user does, picked at random. */
  async sprinkle(): Promise<void> {
    if (!this.connected) return;
    const room = pick(this.rooms);
    const seen = this.seen.get(room)!;
    const roll = Math.random();
    if (roll < 0.25) {
      stats.typing++;
      this.socket?.emit("typing", { roomId: room, typing: Math.random() < 0.8 });
    } else if (roll < 0.45) {
      if (!this.maxSeq.get(room)) return;
      stats.reads++;
      const ack = await this.request("room:read", { roomId: room, seq: this.maxSeq.get(room) ?? 0 });
      if (ack && !ack.ok) noteOpFailure("room:read", ack);
    } else if (roll < 0.65 && seen.size > 0) {
      stats.reactions++;
      // a recent message of the room: history's latest page
      const page = await this.request("message:history", { roomId: room, limit: 20 });
      const target = page?.ok ? page.messages?.filter((m) => !m.deleted) : undefined;
      if (!target || target.length === 0) return;
      const ack = await this.request("message:react", {
        messageId: pick(target).id,
        emoji: pick(EMOJI),
        on: Math.random() < 0.7,
      });
      if (ack && !ack.ok) noteOpFailure("message:react", ack);
    } else if (roll < 0.78) {
      stats.histories++;
      const ack = await this.request("message:history", {
        roomId: room,
        beforeSeq: Math.max(2, rand(Math.max(2, seen.size))),
        limit: 50,
      });
      if (ack && !ack.ok) noteOpFailure("message:history", ack);
    } else if (roll < 0.9 && this.mine.length > 0) {
      stats.edits++;
      const own = pick(this.mine);
      const ack = await this.request("message:edit", { messageId: own.id, body: `edited ${pick(WORDS)}` });
      // a message this user deleted earlier may refuse the edit; anything else is a failure
      if (ack && !ack.ok && ack.error?.code !== "NOT_FOUND" && ack.error?.code !== "BAD_REQUEST")
        noteOpFailure("message:edit", ack);
    } else if (roll < 0.93 && this.mine.length > 0) {
      stats.deletes++;
      const own = this.mine.splice(rand(this.mine.length), 1)[0]!;
      const ack = await this.request("message:delete", { messageId: own.id });
      if (ack && !ack.ok) noteOpFailure("message:delete", ack);
    } else {
      stats.searches++;
      const ack = await this.request("message:search", { query: pick(WORDS), limit: 10 });
      if (ack && !ack.ok) noteOpFailure("message:search", ack);
    }
  }

  /** A clean disconnect, or (abrupt) the WebSocket killed without a close frame. */
  drop(abrupt: boolean): void {
    const socket = this.socket;
    if (!socket || !this.connected) return;
    this.connected = false;
    if (abrupt) {
      stats.abruptKills++;
      const transport = socket.io.engine?.transport as unknown as
        | { ws?: { terminate?: () => void } }
        | undefined;
      if (transport?.ws?.terminate) transport.ws.terminate();
      else socket.disconnect();
    } else socket.disconnect();
  }

  close(): void {
    this.connected = false;
    this.socket?.close();
    this.socket = null;
  }
}

// --- the run --------------------------------------------------------------------------------

/** Room sizes: one of 100, a few of 50 and 20, many of 10, 5 and 3, spread over the users. */
function layout(userIds: string[]): string[][] {
  const sizes = [
    100,
    50,
    50,
    50,
    20,
    20,
    20,
    20,
    20,
    ...Array(30).fill(10),
    ...Array(40).fill(5),
    ...Array(40).fill(3),
  ];
  const groups: string[][] = [];
  let cursor = 0;
  for (const size of sizes) {
    const n = Math.min(size, userIds.length);
    const members: string[] = [];
    for (let i = 0; i < n; i++) members.push(userIds[(cursor + i) % userIds.length]!);
    cursor = (cursor + n) % userIds.length;
    groups.push(members);
  }
  return groups;
}

function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "n/a";
}

async function main(): Promise<number> {
  const startedWall = new Date();
  const tmp = tempDir("twc-soak-");
  const dbPath = join(tmp.dir, "chat.db");
  const userIds = prepareDatabase(dbPath, clientCount);
  const tokens = new Map(await Promise.all(userIds.map(async (id) => [id, await signToken(id)] as const)));
  // tokens live two hours; a longer soak would need fresh ones at each reconnect
  if (minutes > 110) throw new Error("--minutes above 110 needs token renewal, which the soak does not do");
  const server = await startServer(dbPath, tmp.dir);
  let exitCode: number | null = null;
  try {
    process.stdout.write(
      `server pid ${server.pid} at ${server.url}; ${clientCount} clients, ${minutes} min\n`,
    );
    const groups = layout(userIds);
    const roomIds = await createRooms(server.url, tokens, groups);
    const members = new Map<string, string[]>(); // room → user ids
    const roomsOf = new Map<string, string[]>(); // user → room ids
    groups.forEach((g, i) => {
      members.set(roomIds[i]!, g);
      for (const u of g) roomsOf.set(u, [...(roomsOf.get(u) ?? []), roomIds[i]!]);
    });
    const clients = userIds.map((u, i) => new Client(i, u, tokens.get(u)!, roomsOf.get(u) ?? [], server.url));
    const byUser = new Map(clients.map((c) => [c.userId, c]));
    // connect, 16 at a time
    for (let i = 0; i < clients.length; i += 16)
      await Promise.all(clients.slice(i, i + 16).map((c) => c.connect()));
    process.stdout.write(`${clients.length} clients connected in ${roomIds.length} rooms\n`);

    const startedAt = Date.now();
    const samples: Sample[] = [await sample(server, startedAt, dbPath)];
    const sampler = setInterval(() => {
      void sample(server, startedAt, dbPath).then((s) => {
        samples.push(s);
        process.stdout.write(
          `t=${s.atS}s rss=${fmt(s.rssMb)}MB heap=${fmt(s.heapUsedMb)}/${fmt(s.heapTotalMb)}MB afterGC=${fmt(s.heapAfterGcMb)}MB native=${fmt(nativeMb(s))}MB db=${fmt(s.dbMb)}MB conns=${s.connections} sent=${stats.sent} acked=${stats.acked} reconnects=${stats.reconnects}\n`,
        );
      });
    }, SAMPLE_MS);

    // the load: one tick every 100 ms; each tick sends rate/10 messages from random clients,
    // does a few other things, and drops/reconnects a few clients
    const endAt = startedAt + durationMs;
    const tickMs = 100;
    const sendsPerTick = offeredRate / (1000 / tickMs);
    let sendCredit = 0;
    let burstDone = false;
    const pendingOps = new Set<Promise<void>>();
    const track = (p: Promise<void>) => {
      pendingOps.add(p);
      void p.finally(() => pendingOps.delete(p));
    };
    // each client reconnects about every 2 minutes on average: clients / 120 s
    const dropsPerTick = clientCount / 120 / (1000 / tickMs);
    let dropCredit = 0;
    const maxTicks = Math.ceil(durationMs / tickMs) + 10;
    for (let tick = 0; tick < maxTicks && Date.now() < endAt; tick++) {
      sendCredit += sendsPerTick;
      while (sendCredit >= 1) {
        sendCredit--;
        pick(clients).send();
      }
      for (let i = 0; i < Math.max(1, Math.round(sendsPerTick / 3)); i++) {
        if (pendingOps.size < 200) track(pick(clients).sprinkle());
      }
      dropCredit += dropsPerTick;
      while (dropCredit >= 1) {
        dropCredit--;
        const c = pick(clients);
        if (!c.connected) continue;
        c.drop(Math.random() < 0.2);
        stats.reconnects++;
        track(sleep(200 + rand(3000)).then(() => c.connect()));
      }
      // once, half way: a burst of 10% of the clients killed at once, reconnecting together
      if (!burstDone && Date.now() - startedAt > durationMs / 2) {
        burstDone = true;
        const victims = clients.filter((c) => c.connected && Math.random() < 0.1);
        for (const c of victims) c.drop(true);
        stats.reconnects += victims.length;
        for (const c of victims) track(c.connect());
        process.stdout.write(`burst: ${victims.length} clients killed and reconnecting at once\n`);
      }
      await sleep(tickMs);
    }
    clearInterval(sampler);
    samples.push(await sample(server, startedAt, dbPath));
    const loadEndedS = (Date.now() - startedAt) / 1000;

    // settle: everyone back, every outbox delivered, then a final catch-up for everyone
    process.stdout.write("load stopped; settling …\n");
    await Promise.race([Promise.all([...pendingOps]), sleep(60_000)]);
    for (let round = 0; round < 30; round++) {
      const waiting = clients.filter((c) => !c.connected || c.outbox.size > 0);
      if (waiting.length === 0) break;
      for (const c of waiting) {
        if (!c.connected) await c.connect().catch(() => {});
        else {
          // resend what is still unacknowledged (the same clientId: idempotent)
          const socket = c.socket;
          for (const out of c.outbox.values()) {
            stats.resent++;
            const ack = await c.request("message:send", {
              roomId: out.roomId,
              body: out.body,
              clientId: out.clientId,
            });
            if (ack) c.onAck(out, ack);
            if (c.socket !== socket) break;
          }
        }
      }
      await sleep(500);
    }
    await sleep(2000); // live deliveries still on the wire
    let catchUpIncomplete = 0;
    for (const c of clients) if (!(await c.catchUp())) catchUpIncomplete++;

    // the history of every room, in full, read by its first member
    let lost = 0;
    let historyDuplicates = 0;
    let gaps = 0;
    let missingAtMembers = 0;
    let stored = 0;
    const firstProblems: string[] = [];
    const problem = (text: string) => {
      if (firstProblems.length < 10) firstProblems.push(text);
    };
    const byId = new Map<string, Message>();
    for (const roomId of roomIds) {
      const reader = byUser.get(members.get(roomId)![0]!)!;
      const history: Message[] = [];
      let afterSeq = 0;
      for (let page = 0; page < 100_000; page++) {
        const ack = await reader.request("message:history", { roomId, afterSeq, limit: 100 });
        if (!ack?.ok)
          throw new Error(`history of room ${roomId} failed: ${JSON.stringify(ack?.error ?? ack)}`);
        const messages = ack.messages ?? [];
        history.push(...messages);
        if (!ack.hasMore || messages.length === 0) break;
        afterSeq = messages[messages.length - 1]!.seq;
      }
      stored += history.length;
      const clientIds = new Set<string>();
      history.forEach((m, i) => {
        if (m.seq !== i + 1) {
          gaps++;
          problem(`room ${roomId}: position ${i + 1} has seq ${m.seq}`);
        }
        if (m.clientId !== null) {
          if (clientIds.has(m.clientId)) {
            historyDuplicates++;
            problem(`room ${roomId}: clientId ${m.clientId} stored twice`);
          }
          clientIds.add(m.clientId);
        }
        if (byId.has(m.id)) historyDuplicates++;
        byId.set(m.id, m);
      });
      const lastSeq = history.length;
      for (const userId of members.get(roomId)!) {
        const seen = byUser.get(userId)!.seen.get(roomId)!;
        for (let seq = 1; seq <= lastSeq; seq++) {
          if (!seen.has(seq)) {
            missingAtMembers++;
            problem(`user ${userId} never got seq ${seq} of room ${roomId}`);
          }
        }
      }
    }
    for (const [clientId, a] of acked) {
      const m = byId.get(a.id);
      if (!m || m.seq !== a.seq || m.roomId !== a.roomId) {
        lost++;
        problem(`acknowledged ${clientId} (${a.id}, seq ${a.seq}) is not in history as acknowledged`);
      }
    }
    const unacked = clients.reduce((n, c) => n + c.outbox.size, 0);

    // memory: start, after warm-up, end, and the slope after warm-up
    const valid = samples.filter((s) => Number.isFinite(s.rssMb));
    const afterWarmup = valid.find((s) => s.atS * 1000 >= warmupMs) ?? valid[valid.length - 1]!;
    const steady = valid.filter((s) => s.atS * 1000 >= warmupMs);
    const rssSlope = slope(steady.map((s) => ({ x: s.atS / 60, y: s.rssMb })));
    // the heap after full collections, not the heap in use, which swings by 10 MB or more with GC
    const heapSlope = slope(
      steady
        .filter((s) => Number.isFinite(s.heapAfterGcMb))
        .map((s) => ({ x: s.atS / 60, y: s.heapAfterGcMb })),
    );
    const nativeSlope = slope(
      steady.filter((s) => Number.isFinite(nativeMb(s))).map((s) => ({ x: s.atS / 60, y: nativeMb(s) })),
    );
    const heapFlat = Number.isFinite(heapSlope) && heapSlope < HEAP_SLOPE_LIMIT_MB_PER_MIN;
    const first = valid[0]!;
    const last = valid[valid.length - 1]!;

    for (const c of clients) c.close();
    exitCode = await stopServer(server);

    const checksPassed =
      lost === 0 &&
      historyDuplicates === 0 &&
      gaps === 0 &&
      missingAtMembers === 0 &&
      stats.liveDuplicates === 0 &&
      stats.ackMismatch === 0 &&
      stats.ackFailures === 0 &&
      unacked === 0 &&
      catchUpIncomplete === 0 &&
      heapFlat &&
      exitCode === 0;
    const report = {
      startedAt: startedWall.toISOString(),
      node: process.version,
      options: { minutes, clients: clientCount, offeredRatePerS: offeredRate, sqliteCacheMb: cacheMb },
      rooms: roomIds.length,
      roomSizes: groups.map((g) => g.length),
      loadSeconds: loadEndedS,
      stats,
      stored,
      lost,
      historyDuplicates,
      gaps,
      missingAtMembers,
      unacked,
      catchUpIncomplete,
      serverExitCode: exitCode,
      memory: {
        warmupS: warmupMs / 1000,
        start: first,
        afterWarmup,
        end: last,
        rssSlopeMbPerMin: rssSlope,
        heapSlopeMbPerMin: heapSlope,
        heapFlat,
        nativeSlopeMbPerMin: nativeSlope,
      },
      samples,
      firstProblems,
      checksPassed,
      note: "the machine is shared: other processes' load makes these figures noisy",
    };
    const dir = join(REPO_DIR, "bench/results");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `soak-${startedWall.toISOString().replace(/[:.]/g, "-")}.json`);
    writeJson(file, report);
    writeJson(join(dir, "soak-latest.json"), report);

    const rows: [string, string][] = [
      ["duration (load)", `${fmt(loadEndedS / 60, 1)} min`],
      ["clients / rooms", `${clientCount} / ${roomIds.length}`],
      ["messages sent / acknowledged / stored", `${stats.sent} / ${stats.acked} / ${stored}`],
      ["resends (same clientId)", String(stats.resent)],
      ["live deliveries / catch-up messages", `${stats.liveDeliveries} / ${stats.catchUpMessages}`],
      ["reconnects (abrupt kills)", `${stats.reconnects} (${stats.abruptKills})`],
      [
        "edits / deletes / reactions / reads / typing / history / search",
        `${stats.edits} / ${stats.deletes} / ${stats.reactions} / ${stats.reads} / ${stats.typing} / ${stats.histories} / ${stats.searches}`,
      ],
      ["lost acknowledged", String(lost)],
      ["duplicated (history / live)", `${historyDuplicates} / ${stats.liveDuplicates}`],
      ["seq gaps", String(gaps)],
      ["messages a member never got", String(missingAtMembers)],
      ["still unacknowledged at the end", String(unacked)],
      [
        "ack failures / mismatches / other op failures",
        `${stats.ackFailures} / ${stats.ackMismatch} / ${stats.opFailures}`,
      ],
      [
        "RSS start / after warm-up / end (MB)",
        `${fmt(first.rssMb)} / ${fmt(afterWarmup.rssMb)} (t=${afterWarmup.atS}s) / ${fmt(last.rssMb)}`,
      ],
      ["RSS slope after warm-up", `${fmt(rssSlope, 2)} MB/min`],
      [
        "heap used start / after warm-up / end (MB)",
        `${fmt(first.heapUsedMb)} / ${fmt(afterWarmup.heapUsedMb)} / ${fmt(last.heapUsedMb)}`,
      ],
      [
        "heap after full GC, after warm-up / end (MB)",
        `${fmt(steady.find((s) => Number.isFinite(s.heapAfterGcMb))?.heapAfterGcMb ?? Number.NaN)} / ${fmt(last.heapAfterGcMb)}`,
      ],
      [
        "heap-after-full-GC slope after warm-up",
        `${fmt(heapSlope, 2)} MB/min (${heapFlat ? "flat" : "GROWING"}: limit ${HEAP_SLOPE_LIMIT_MB_PER_MIN})`,
      ],
      [
        "outside V8 (RSS − heap − Buffers) start / after warm-up / end (MB)",
        `${fmt(nativeMb(first))} / ${fmt(nativeMb(afterWarmup))} / ${fmt(nativeMb(last))}`,
      ],
      ["outside V8 slope after warm-up", `${fmt(nativeSlope, 2)} MB/min`],
      ["SQLITE_CACHE_MB (other connections share as much again)", String(cacheMb)],
      ["database + WAL start / end (MB)", `${fmt(first.dbMb)} / ${fmt(last.dbMb)}`],
      ["server exit code (SIGTERM)", String(exitCode)],
      ["checks", checksPassed ? "passed" : "FAILED"],
    ];
    process.stdout.write("\n| figure | value |\n| --- | --- |\n");
    for (const [k, v] of rows) process.stdout.write(`| ${k} | ${v} |\n`);
    if (firstProblems.length > 0) process.stdout.write(`\nfirst problems:\n${firstProblems.join("\n")}\n`);
    if (stats.firstAckFailure) process.stdout.write(`first ack failure: ${stats.firstAckFailure}\n`);
    if (stats.firstOpFailure) process.stdout.write(`first other failure: ${stats.firstOpFailure}\n`);
    process.stdout.write(
      "\nRSS includes SQLite's page caches, which fill as the database grows (up to twice SQLITE_CACHE_MB);" +
        " the heap after full GC is the leak signal." +
        `\n(shared machine: figures are noisy)\nwritten ${file}\n`,
    );
    return checksPassed ? 0 : 1;
  } finally {
    if (exitCode === null) await stopServer(server);
    tmp.remove();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`soak failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
