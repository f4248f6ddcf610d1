/**
 * Opens the chat database with the settings durability depends on.
 */
import Database from "better-sqlite3";
import { migrate } from "./migrations.js";

export type SqliteDatabase = Database.Database;

export class DatabaseOpenError extends Error {}

/** SQLITE_CACHE_MB's default: the page cache of the chat database's main connection. */
const DEFAULT_CACHE_MB = 64;

/**
 * The page cache a connection may fill, in KiB (SQLite takes a negative `cache_size` as KiB and a
 * positive one as pages). The other connections (snapshot reads, search, the background worker)
 * size theirs from the main connection's, a share each, so that together they use as much again.
 */
export function cacheKib(db: SqliteDatabase): number {
  const size = Number(db.pragma("cache_size", { simple: true }));
  return size < 0 ? -size : (size * Number(db.pragma("page_size", { simple: true }))) / 1024;
}

/**
 * WAL lets readers run beside the writer; synchronous=FULL makes every commit durable before the
 * ack (group commit keeps that affordable); foreign keys guard the schema's references.
 *
 * Two things are left to the store's background worker (background.ts) so they stall neither
 * start-up nor the event loop: the integrity check (`quick_check` reads the whole file: most of a
 * second per million messages; a failure makes `/ready` say so), and WAL checkpoints (the worker
 * runs them every second; the automatic checkpoint on commit stays only as a backstop, should the
 * worker fall behind). A file that is not a SQLite database still fails here, at the first pragma.
 */
export function openDatabase(path: string, options: { cacheMb?: number } = {}): SqliteDatabase {
  let db: SqliteDatabase;
  try {
    db = new Database(path, { timeout: 1000 });
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.pragma("foreign_keys = ON");
    db.pragma("busy_timeout = 1000");
    db.pragma(`cache_size = ${-Math.round((options.cacheMb ?? DEFAULT_CACHE_MB) * 1024)}`);
    db.pragma("wal_autocheckpoint = 10000");
    migrate(db);
    assertWritable(db);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DatabaseOpenError(`Cannot open the chat database at ${path}: ${reason}`);
  }
  return db;
}

/**
 * SQLite quietly opens a file it may not write (an immutable file, a read-only mount, another
 * owner's file) read-only, and the server would then start and fail every write. Changing a page
 * inside a transaction that is rolled back raises SQLITE_READONLY without writing anything. A lock
 * held by another process (SQLITE_BUSY) is not a reason to refuse to start: sends report it.
 */
function assertWritable(db: SqliteDatabase): void {
  const version = db.pragma("user_version", { simple: true });
  try {
    db.exec("BEGIN IMMEDIATE");
  } catch (error) {
    if ((error as { code?: unknown }).code === "SQLITE_BUSY") return;
    throw error;
  }
  try {
    db.pragma(`user_version = ${Number(version)}`);
  } catch (error) {
    if ((error as { code?: unknown }).code === "SQLITE_READONLY") {
      throw new Error("the file is read-only (SQLITE_READONLY): the server needs to write to it");
    }
    throw error;
  } finally {
    if (db.inTransaction) db.exec("ROLLBACK");
  }
}
