/**
 * The retention scenario (`--only=retention`): the daily retention run over the storage
 * scenario's 1,000,000-message database (100,000 with --quick), deleting its oldest fifth, while
 * S3's traffic (500 clients, 1,000 messages/s offered) goes on. S3 is measured first with nothing
 * else running (idle), then again with the retention run started just before it, and the two
 * p99s are compared: the run deletes in batches and yields between them, so live traffic should
 * barely notice. The server runs in this process (createApp, as the tests build it) so the
 * scenario can fire the retention job's turn by hand; the clients are the usual worker processes.
 */
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { createApp } from "../../src/app.js";
import { RETENTION_EVERY_MS } from "../../src/chat/retention/service.js";
import type { JobTimers } from "../../src/cluster/jobs/index.js";
import { loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/logger.js";
import { openDatabase } from "../../src/storage/sqlite/open.js";
import { builtinDirectory } from "../../src/users/create-directory.js";
import { bigDatabase } from "./bigdb.js";
import type { WorkerPool } from "./pool.js";
import { createRooms, signToken } from "./setup.js";
import { clockMs } from "./stats.js";
import { BENCH_SECRET, type Target, tempDir } from "./targets.js";
import { type Prepared, runTraffic, type TrafficResult, trafficScenarios } from "./traffic.js";

const DAY_MS = 24 * 60 * 60 * 1000;
/** bigdb.ts: message `id` was made at 2024-01-01 + id × 30 s */
const FIRST_AT = Date.parse("2024-01-01T00:00:00Z");
const SPACING_MS = 30_000;

export interface RetentionResult {
  run: number;
  messages: number;
  /** RETENTION_DAYS for the run */
  days: number;
  deleted: number;
  /** how long the retention run took, and its rate */
  runS: number;
  deletedPerS: number;
  /** the S3 traffic run that went on beside it, from connect to verified (s) */
  trafficS: number;
  idle: TrafficResult;
  during: TrafficResult;
}

/** The app's job timers, held so the scenario fires the retention job's turn when it chooses. */
class HeldTimers implements JobTimers {
  readonly ticks: { ms: number; tick: () => Promise<void> }[] = [];
  every(ms: number, tick: () => Promise<void>): () => void {
    this.ticks.push({ ms, tick });
    return () => {};
  }
  /** The retention job's turn: the one job that runs daily. */
  retention(): Promise<void> {
    const found = this.ticks.filter((t) => t.ms === RETENTION_EVERY_MS);
    if (found.length !== 1) throw new Error(`expected one daily job, found ${found.length}`);
    return found[0]!.tick();
  }
}

export async function runRetentionBench(options: {
  quick: boolean;
  runs: number;
  pool: WorkerPool;
  cores: number;
  log: (line: string) => void;
}): Promise<RetentionResult[]> {
  const messages = options.quick ? 100_000 : 1_000_000;
  const big = bigDatabase(messages, options.log);
  const s3 = trafficScenarios(options.quick).find((s) => s.name === "S3")!;
  const results: RetentionResult[] = [];
  for (let run = 1; run <= options.runs; run++) {
    const tmp = tempDir("twc-bench-retention-");
    try {
      const path = join(tmp.dir, "chat.db");
      copyFileSync(big.path, path);
      copyFileSync(`${big.path}-search`, `${path}-search`);
      // the oldest fifth is past the retention period: whole days, so about that many
      const cutoff = FIRST_AT + Math.floor(messages / 5) * SPACING_MS;
      const days = Math.ceil((Date.now() - cutoff) / DAY_MS);
      const timers = new HeldTimers();
      const config = loadConfig({
        NODE_ENV: "production",
        CHAT_HOST: "127.0.0.1",
        CHAT_PORT: "0",
        SQLITE_PATH: path,
        AUTH_JWT_SECRET: BENCH_SECRET,
        LOG_LEVEL: "warn",
        RETENTION_DAYS: String(days),
        RATE_LIMIT_MESSAGES: "1000000",
        RATE_LIMIT_ROOM_OPS: "1000000",
        RATE_LIMIT_READS: "1000000",
        MAX_SOCKETS_PER_USER: "100",
      });
      const db = openDatabase(path);
      const chat = { kind: "sqlite" as const, db };
      const app = await createApp({
        config,
        logger: createLogger("warn"),
        chat,
        directory: builtinDirectory(chat),
        options: { jobTimers: timers },
      });
      try {
        const { port } = await app.listen();
        const url = `http://127.0.0.1:${port}`;
        const given = await s3Clients(url, s3.clients, s3.roomSize);
        options.log(`  retention run ${run}/${options.runs}: S3 idle …`);
        const idle = await runTraffic(s3, "server", run, options.pool, options.cores, undefined, given);
        const before = countLive(path);
        options.log(
          `  retention run ${run}/${options.runs}: S3 while retention deletes (RETENTION_DAYS=${days}) …`,
        );
        const started = clockMs();
        let finished = 0;
        const retention = timers.retention().then(() => {
          finished = clockMs();
        });
        const during = await runTraffic(s3, "server", run, options.pool, options.cores, undefined, given);
        const trafficS = (clockMs() - started) / 1000;
        await retention;
        const runS = (finished - started) / 1000;
        const deleted = before - countLive(path);
        results.push({
          run,
          messages,
          days,
          deleted,
          runS,
          deletedPerS: deleted / runS,
          trafficS,
          idle,
          during,
        });
        options.log(
          `  deleted ${deleted.toLocaleString("en")} messages in ${runS.toFixed(1)} s (${(deleted / runS).toFixed(0)}/s) beside ${trafficS.toFixed(1)} s of S3; delivery p99 ${idle.deliveryLatency.p99.toFixed(1)} ms idle, ${during.deliveryLatency.p99.toFixed(1)} ms during`,
        );
      } finally {
        await app.close();
      }
    } finally {
      tmp.remove();
    }
  }
  return results;
}

/** Live messages in the file, read on a connection of its own. */
function countLive(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare("SELECT count(*) FROM messages WHERE deleted = 0").pluck().get() as number;
  } finally {
    db.close();
  }
}

/**
 * S3's clients on the in-process server: the database's users 1…N (bigdb.ts made them), in new
 * rooms of `roomSize`, every member sending. They are also members of the database's old rooms,
 * so they receive the deletions as `message:deleted`, as people would.
 */
async function s3Clients(url: string, count: number, roomSize: number): Promise<Prepared> {
  const userIds = Array.from({ length: count }, (_, i) => String(i + 1));
  const tokens = new Map(await Promise.all(userIds.map(async (id) => [id, await signToken(id)] as const)));
  const groups = Array.from({ length: Math.ceil(count / roomSize) }, (_, r) =>
    userIds.slice(r * roomSize, (r + 1) * roomSize),
  );
  const roomIds = await createRooms(url, tokens, groups);
  const target: Target = {
    kind: "server",
    url,
    pid: process.pid,
    startupMs: 0,
    rssKb: () => Math.round(process.memoryUsage().rss / 1024),
    cpuS: () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1e6;
    },
    stop: async () => {},
    kill: async () => {},
  };
  const clients = userIds.map((userId, i) => ({
    id: i,
    auth: { token: tokens.get(userId)! },
    rooms: [roomIds[Math.floor(i / roomSize)]!],
    sendsTo: roomIds[Math.floor(i / roomSize)]!,
    localAddress: `127.0.0.${2 + (i % 16)}`,
  }));
  return { targets: [target], clients, cleanup: async () => {}, database: null };
}
