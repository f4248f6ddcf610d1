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
    const check = db.pragma("quick_check", { simple: true });
    if (check !== "ok") throw new Error(`integrity check failed: ${String(check)}`);
    migrate(db);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DatabaseOpenError(`Cannot open the chat database at ${path}: ${reason}`);
  }
  return db;
}
