/**
 * `copyStore`: everything a SQLite chat file holds, copied into a PostgreSQL chat database with
 * the same ids, seq, rev and times, and checked room by room. The target's schema is brought up
 * to date first. Safe to run again: rows already there are skipped, and everything is checked
 * again, so a second run copies nothing and passes.
 */
import type pg from "pg";
import { migrate } from "../postgres/migrations.js";
import { copyRoom, RoomSource } from "./rooms.js";
import { copySmallTables, copyTableAfterRooms, type TableResult } from "./small-tables.js";
import { closeSource, openSource } from "./source.js";
import { AFTER_ROOMS, IDENTITY_TABLES } from "./tables.js";

/** Connections copying rooms side by side (the pool needs at least this many). */
const WORKERS = 2;

/**
 * For the copy's own connections only. Commits need not wait for the disk: a copy cut short by a
 * crash is simply run again, and each room is checked before it counts. A larger pending list
 * lets the search index take whole batches before merging them in.
 */
const SESSION_SETTINGS = "SET synchronous_commit = off; SET gin_pending_list_limit = '64MB'";

export interface CopyReport {
  rooms: number;
  members: number;
  messages: number;
  /** messages this run inserted (0 on a run after a complete one) */
  addedMessages: number;
  tables: TableResult[];
  /** one line per room or table that differs; empty when everything checked equal */
  problems: string[];
  seconds: number;
}

export interface CopyOptions {
  /** the SQLite chat file (opened read-only) */
  sqlitePath: string;
  /** the target database */
  pool: pg.Pool;
  /** called after each room, for progress output */
  onRoom?: (done: number, total: number) => void;
}

export async function copyStore(options: CopyOptions): Promise<CopyReport> {
  const started = performance.now();
  const source = openSource(options.sqlitePath);
  try {
    await migrate(options.pool);
    const tables = await copySmallTables(options.pool, source);
    const report: CopyReport = {
      rooms: 0,
      members: 0,
      messages: 0,
      addedMessages: 0,
      tables,
      problems: tables.flatMap((t) => (t.problem ? [t.problem] : [])),
      seconds: 0,
    };
    const rooms = new RoomSource(source);
    const all = rooms.rooms();
    // rooms are copied on two connections at once: the work is mostly PostgreSQL's (search
    // vectors and indexes), and two backends keep both cores busy while this process waits
    let next = 0;
    const worker = async () => {
      const client = await options.pool.connect();
      try {
        await client.query(SESSION_SETTINGS);
        while (next < all.length) {
          const result = await copyRoom(client, rooms, all[next++]!);
          report.rooms++;
          report.members += result.members;
          report.messages += result.messages;
          report.addedMessages += result.addedMessages;
          if (result.problem) report.problems.push(result.problem);
          options.onRoom?.(report.rooms, all.length);
        }
      } finally {
        client.release();
      }
    };
    // on a failure the other worker stops after its current room, before the file is closed
    const outcomes = await Promise.allSettled(
      Array.from({ length: WORKERS }, () =>
        worker().catch((error: unknown) => {
          next = all.length;
          throw error;
        }),
      ),
    );
    for (const outcome of outcomes) if (outcome.status === "rejected") throw outcome.reason;
    // file records, notice recipients and rooms' retention point at rooms and messages, all there now
    for (const spec of AFTER_ROOMS) {
      const result = await copyTableAfterRooms(options.pool, source, spec);
      report.tables.push(result);
      if (result.problem) report.problems.push(result.problem);
    }
    const client = await options.pool.connect();
    try {
      await continueIdentities(client);
    } finally {
      client.release();
    }
    report.seconds = (performance.now() - started) / 1000;
    return report;
  } finally {
    closeSource(source);
  }
}

/**
 * Rooms, messages and directory users get their ids from PostgreSQL once the server runs on it:
 * the counters must start after the copied ids, or the first new room would collide with one.
 */
async function continueIdentities(client: pg.PoolClient): Promise<void> {
  for (const table of IDENTITY_TABLES) {
    await client.query(
      `SELECT setval(pg_get_serial_sequence('${table}', 'id'), max(id)) FROM ${table} HAVING max(id) IS NOT NULL`,
    );
  }
}
