/**
 * Reads that never see a commit before it is durable. Between a batch's COMMIT and the end of its
 * WAL sync (durable-sync.ts) the database holds data nobody has been told about yet, and that a
 * power cut could still take back. For that moment, message reads are served by a second,
 * read-only connection whose read transaction was opened just before the COMMIT: it sees the
 * database as it was, all of it durable. The rest of the time they use the main connection.
 */
import Database from "better-sqlite3";
import { cacheKib, type SqliteDatabase } from "./open.js";
import { MESSAGE_COLUMNS } from "./rows.js";
import type { CommitListener } from "./write-queue.js";

function prepareReads(db: SqliteDatabase) {
  const p = (sql: string) => db.prepare(sql);
  return {
    messageById: p(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.id = ?`),
    latest: p(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.room_id = ? ORDER BY m.seq DESC LIMIT ?`),
    before: p(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.room_id = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?`,
    ),
    after: p(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.room_id = ? AND m.seq > ? ORDER BY m.seq ASC LIMIT ?`,
    ),
    // the room's rev and the rows in ONE statement, so both come from the same snapshot (another
    // node writing to the same file may commit between two statements); a closed or unknown room
    // gives room_rev null, and with no change the LEFT JOIN still gives one row of nulls
    changes: p(
      `SELECT CASE WHEN r.closed THEN NULL ELSE r.rev END AS room_rev, c.*
       FROM (SELECT 1) one
       LEFT JOIN rooms r ON r.id = @room
       LEFT JOIN (
         SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.room_id = @room AND m.rev > @since ORDER BY m.rev ASC LIMIT @limit
       ) c ON 1
       ORDER BY c.rev`,
    ),
  };
}

export type MessageReads = ReturnType<typeof prepareReads>;

export class DurableReads implements CommitListener {
  private readonly main: MessageReads;
  private readonly snapshot: MessageReads | null;
  private readonly reader: SqliteDatabase | null;
  private readonly begin;
  private readonly touch;
  private readonly end;
  private pinned = false;

  constructor(db: SqliteDatabase) {
    this.main = prepareReads(db);
    this.reader = db.memory ? null : new Database(db.name, { readonly: true, fileMustExist: true });
    this.reader?.pragma(`cache_size = ${-Math.ceil(cacheKib(db) / 4)}`);
    this.snapshot = this.reader ? prepareReads(this.reader) : null;
    this.begin = this.reader?.prepare("BEGIN");
    // the first read of a transaction fixes its snapshot
    this.touch = this.reader?.prepare("SELECT 1 FROM rooms LIMIT 1");
    this.end = this.reader?.prepare("COMMIT");
  }

  /** The statements to read with now. */
  get reads(): MessageReads {
    return this.pinned && this.snapshot ? this.snapshot : this.main;
  }

  beforeCommit(): void {
    if (!this.begin || this.pinned) return;
    this.begin.run();
    this.touch?.get();
    this.pinned = true;
  }

  afterSync(): void {
    if (!this.pinned) return;
    this.end?.run();
    this.pinned = false;
  }

  close(): void {
    this.afterSync();
    this.reader?.close();
  }
}
