/**
 * Opens the chat database with the settings durability depends on.
 */
import Database from "better-sqlite3";
import { migrate } from "./migrations.js";

export type SqliteDatabase = Database.Database;

export class DatabaseOpenError extends Error {}

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
export function openDatabase(path: string): SqliteDatabase {
  let db: SqliteDatabase;
  try {
    db = new Database(path, { timeout: 1000 });
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.pragma("foreign_keys = ON");
    db.pragma("busy_timeout = 1000");
    db.pragma("cache_size = -65536");
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
