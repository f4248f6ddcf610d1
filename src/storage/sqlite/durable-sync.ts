/**
 * Makes each group commit durable without blocking the event loop: `fdatasync` of the WAL file on
 * libuv's thread pool, instead of inside COMMIT. In WAL mode a commit is durable once the WAL's new
 * frames are on disk; synchronous=FULL would sync that same file, the same way (fdatasync), inside
 * the COMMIT call, holding the event loop for the whole disk flush. Here COMMIT runs with
 * synchronous=NORMAL (SQLite still syncs around checkpoints and WAL restarts itself), and the queue
 * waits for this sync before it acknowledges anything or commits again.
 *
 * When the database is not in WAL mode or its WAL file can't be opened, the connection stays at
 * synchronous=FULL and the sync is immediate.
 */
import { closeSync, fdatasync, openSync } from "node:fs";
import type { SqliteDatabase } from "./open.js";

export class DurableSync {
  /** the WAL file, opened read-only: fdatasync flushes the file whichever descriptor wrote it */
  private fd: number | null = null;

  constructor(db: SqliteDatabase) {
    if (db.memory || db.pragma("journal_mode", { simple: true }) !== "wal") return;
    try {
      this.fd = openSync(`${db.name}-wal`, "r");
    } catch {
      return; // keep synchronous=FULL
    }
    db.pragma("synchronous = NORMAL");
  }

  /** Calls `done` once what was just committed is on disk. */
  afterCommit(done: (error: Error | null) => void): void {
    if (this.fd === null) {
      setImmediate(done, null); // FULL: COMMIT already synced
      return;
    }
    fdatasync(this.fd, (error) => done(error));
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
