/**
 * The connection pool to the PostgreSQL chat database, and the one way writes run: a transaction
 * that is retried when PostgreSQL asks for it, and whose commit-feed events are sent inside it.
 * Problems of the connection itself (database down, restarting, too many clients) become the
 * retryable UNAVAILABLE error, so a client is told to try again instead of seeing INTERNAL.
 */
import pg from "pg";
import { AppError, unavailable } from "../../errors.js";
import { encodeEvent, type FeedEvent, notifyStatement } from "./feed.js";

export type Queryable = pg.Pool | pg.PoolClient;

/** How the store connects. */
export interface PoolOptions {
  /** `postgres://user:password@host:port/database` */
  url: string;
  /** connections per node (default 10) */
  max?: number;
  /** how long to wait for a connection before answering UNAVAILABLE (default 5000 ms) */
  connectTimeoutMs?: number;
  /** PostgreSQL's lock_timeout: the longest wait for a lock another connection holds (default 5000 ms; 0: none) */
  lockTimeoutMs?: number;
  /**
   * statement_timeout, and idle_in_transaction_session_timeout so a node frozen mid-transaction
   * can't keep its room locked for ever (default 30000 ms; 0: none, for the store copy)
   */
  statementTimeoutMs?: number;
  /** an idle connection broke (the database restarted); the pool replaces it by itself */
  onProblem?: (message: string) => void;
}

/** Opens a pool; no connection is made until the first query. */
export function openPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    application_name: "timewise-chat",
    // sent with the connection's start-up message: no extra round trip per connection
    lock_timeout: options.lockTimeoutMs ?? 5000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    idle_in_transaction_session_timeout: options.statementTimeoutMs ?? 30_000,
  });
  // without a listener, an idle connection dropped by the server would crash the process
  pool.on("error", (error) => options.onProblem?.(`chat database connection lost: ${error.message}`));
  return pool;
}

/** SQLSTATE classes and codes that say "the database can't answer now; the same request may work soon". */
const UNAVAILABLE_CODES = new Set([
  "53300", // too_many_connections
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up or in recovery)
  "55P03", // lock_not_available (lock_timeout)
  "57014", // query_canceled (statement_timeout); the transaction was rolled back, so nothing was half-done
  "25P03", // idle_in_transaction_session_timeout ended this connection
  "53100", // disk_full
  "53200", // out_of_memory
]);
/** Worth running the whole transaction again at once: PostgreSQL rolled it back for a conflict. */
const RETRY_CODES = new Set(["40001", "40P01"]); // serialization_failure, deadlock_detected
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EPIPE",
  "EHOSTUNREACH",
]);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** True for a unique-index violation of the named constraint. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  return codeOf(error) === "23505" && (error as { constraint?: unknown }).constraint === constraint;
}

/** Turns a lost or refused connection into UNAVAILABLE; every other error is returned as it is. */
export function toStoreError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : "";
  if (
    (code !== undefined &&
      (UNAVAILABLE_CODES.has(code) ||
        RETRY_CODES.has(code) ||
        code.startsWith("08") ||
        NETWORK_CODES.has(code))) ||
    // pg's own words for a connection that ended or never came within connectTimeoutMs
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
      message,
    )
  ) {
    return unavailable("The chat database is not reachable right now. Please try again in a moment.");
  }
  return error;
}

/** Runs a read, with connection problems as UNAVAILABLE. */
export async function read<R extends pg.QueryResultRow>(
  db: Queryable,
  sql: string,
  params: readonly unknown[] = [],
): Promise<R[]> {
  try {
    return (await db.query<R>(sql, params as unknown[])).rows;
  } catch (error) {
    throw toStoreError(error);
  }
}

/** What a write's body returns: its result and the commit-feed events to send on commit. */
export interface WriteOutcome<T> {
  result: T;
  events?: readonly FeedEvent[];
}

/**
 * Who hears of each committed write, per pool: the store-write metric. Kept beside the pool, not
 * in it, because the store is opened (in main.ts) before the app that owns the metrics exists.
 */
const commitListeners = new WeakMap<pg.Pool, (seconds: number) => void>();

/** Calls `listener` after each committed write transaction of `pool`, with how long it took. */
export function onCommit(pool: pg.Pool, listener: (seconds: number) => void): void {
  commitListeners.set(pool, listener);
}

/**
 * What the node's fan-out asks of every write of one pool (fan-out from the commit feed): a tag on
 * each event, and a promise the write waits for after COMMIT, so a write is answered only once this
 * node's own sockets were told, as they were when the writing node emitted them itself.
 */
export interface CommitHook {
  tag(event: FeedEvent): FeedEvent;
  committed(events: readonly FeedEvent[]): Promise<void>;
}

/** Kept beside the pool rather than passed through every write function, which all take the pool. */
const commitHooks = new WeakMap<pg.Pool, CommitHook>();

/** Sets (or with null, clears) the hook every write of `pool` runs around its events. */
export function setCommitHook(pool: pg.Pool, hook: CommitHook | null): void {
  if (hook) commitHooks.set(pool, hook);
  else commitHooks.delete(pool);
}

/** Attempts of one write when PostgreSQL reports a deadlock or serialization failure. */
const ATTEMPTS = 3;

/**
 * Runs `body` in one READ COMMITTED transaction on one connection. Its events are NOTIFYed just
 * before COMMIT, so listeners hear of them exactly when, and only if, the write is committed.
 * A deadlock or serialization failure runs the whole body again (it must have no other effects).
 */
export async function transaction<T>(
  pool: pg.Pool,
  body: (client: pg.PoolClient) => Promise<WriteOutcome<T>>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw toStoreError(error);
    }
    let broken = false;
    let committed: { result: T; events: readonly FeedEvent[]; hook: CommitHook | undefined } | null = null;
    // The pool listens for errors of idle connections only. A connection lost while checked out
    // (between two queries of this transaction) emits "error" with no listener, which would end the
    // whole process; here it only marks the connection broken, and the next query fails as UNAVAILABLE.
    const onLost = () => {
      broken = true;
    };
    client.on("error", onLost);
    try {
      const started = performance.now();
      await client.query("BEGIN");
      const outcome = await body(client);
      const hook = commitHooks.get(pool);
      const events = (outcome.events ?? []).map((event) => (hook ? hook.tag(event) : event));
      for (const event of events) await client.query(notifyStatement, [encodeEvent(event)]);
      await client.query("COMMIT");
      commitListeners.get(pool)?.((performance.now() - started) / 1000);
      committed = { result: outcome.result, events, hook };
    } catch (error) {
      try {
        await client.query("ROLLBACK");
      } catch {
        broken = true; // the connection is gone: don't give it back to the pool
      }
      if (attempt < ATTEMPTS && RETRY_CODES.has(codeOf(error) ?? "")) continue;
      throw toStoreError(error);
    } finally {
      client.off("error", onLost);
      client.release(broken);
    }
    // after the connection went back to the pool: waiting here must not hold a connection
    if (committed) {
      if (committed.hook && committed.events.length > 0) await committed.hook.committed(committed.events);
      return committed.result;
    }
  }
}

/** The hook the node set on `pool`, for writes that NOTIFY from inside one statement (a PL/pgSQL function). */
export function commitHookOf(pool: pg.Pool): CommitHook | undefined {
  return commitHooks.get(pool);
}

/**
 * Runs one statement as its own transaction (autocommit): a write done by a database function in
 * one round trip, which NOTIFYs its own events (delivered, as always, only once it committed).
 * Retried as `transaction` is; connection problems become UNAVAILABLE.
 */
export async function statement<R extends pg.QueryResultRow>(
  pool: pg.Pool,
  sql: string,
  params: readonly unknown[],
): Promise<R[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      // pool.query listens for the connection's errors while it is checked out
      const started = performance.now();
      const { rows } = await pool.query<R>(sql, params as unknown[]);
      commitListeners.get(pool)?.((performance.now() - started) / 1000);
      return rows;
    } catch (error) {
      if (attempt < ATTEMPTS && RETRY_CODES.has(codeOf(error) ?? "")) continue;
      throw toStoreError(error);
    }
  }
}
