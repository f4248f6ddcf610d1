/**
 * The services the PostgreSQL section of the benchmark needs: a PostgreSQL server where it may
 * create and drop databases, and Redis for runs of several nodes. Each run gets a fresh database
 * (dropped afterwards, connections and all) and a Redis key prefix of its own, so runs never see
 * each other's data.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";

export interface Services {
  /** a database on the server to connect to for CREATE/DROP DATABASE, e.g. postgres://root@127.0.0.1:5432/postgres */
  pgAdminUrl: string;
  redisUrl: string;
}

export const DEFAULT_SERVICES: Services = {
  pgAdminUrl: "postgres://root@127.0.0.1:5432/postgres",
  redisUrl: "redis://127.0.0.1:6379",
};

/** Why the PostgreSQL section can't run here, or null when both services answer. */
export async function unreachable(services: Services): Promise<string | null> {
  const client = new pg.Client({ connectionString: services.pgAdminUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (error) {
    return `PostgreSQL at ${redact(services.pgAdminUrl)} did not answer (${(error as Error).message})`;
  } finally {
    await client.end().catch(() => {});
  }
  const redis = new Redis(services.redisUrl, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // ioredis rejects with "Connection is closed"; the error event has the reason (ECONNREFUSED…)
  let reason: string | null = null;
  redis.on("error", (error: Error) => {
    reason ??= error.message;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    return `Redis at ${redact(services.redisUrl)} did not answer (${reason ?? (error as Error).message})`;
  } finally {
    redis.disconnect();
  }
  return null;
}

/** A URL without its password, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(a malformed URL)";
  }
}

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A new, empty database on the admin URL's server; the nodes run their migrations into it. */
export async function createDatabase(services: Services): Promise<BenchDatabase> {
  const name = `timewise_bench_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: services.pgAdminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (error) {
    await admin.end();
    throw error;
  }
  const url = new URL(services.pgAdminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** A Redis key prefix no other run uses (REDIS_PREFIX allows letters, digits, :, _ and -). */
export function redisPrefix(): string {
  return `twc-bench-${randomBytes(4).toString("hex")}`;
}

/**
 * What the nodes' database connections are doing, sampled every `everyMs` from pg_stat_activity:
 * the share of samples in each state ("active: IO/WALSync", "active: Lock/transactionid",
 * "idle in transaction: Client/ClientRead", "idle"…). It shows where a write's time goes: the
 * commit's disk flush, waiting for another transaction's room lock, or waiting for the node.
 */
export function sampleActivity(
  services: Services,
  database: string,
  everyMs = 50,
): { stop(): Promise<Record<string, number>> } {
  const counts = new Map<string, number>();
  let samples = 0;
  let stopped = false;
  const client = new pg.Client({ connectionString: services.pgAdminUrl });
  const done = (async () => {
    await client.connect();
    while (!stopped) {
      const { rows } = await client.query<{
        state: string | null;
        type: string | null;
        event: string | null;
      }>(
        `SELECT state, wait_event_type AS type, wait_event AS event FROM pg_stat_activity
         WHERE datname = $1 AND application_name = 'timewise-chat' AND backend_type = 'client backend'`,
        [database],
      );
      for (const r of rows) {
        const key = `${r.state ?? "?"}${r.type ? `: ${r.type}/${r.event}` : ""}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        samples++;
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done.catch(() => {});
      await client.end().catch(() => {});
      const shares: Record<string, number> = {};
      for (const [key, n] of [...counts].sort((a, b) => b[1] - a[1])) shares[key] = n / Math.max(1, samples);
      return shares;
    },
  };
}
