/**
 * Reads that never see a commit before it is durable. Between a batch's COMMIT and the end of its
 * WAL sync (durable-sync.ts) the database holds data nobody has been told about yet, and that a
 * power cut could still take back. For that moment, message reads (and the room mirror's re-reads)
 * are served by a read-only connection whose read transaction was opened just before the batch:
 * it sees the database as it was, all of it durable. The rest of the time they use the main
 * connection.
 *
 * The write queue may have MAX_IN_FLIGHT batches waiting for their sync, so there is one such
 * connection per batch in flight. Reads use the snapshot of the oldest batch in flight: once the
 * batch before it is durable, that is exactly the durable state.
 */
import Database from "better-sqlite3";
import { cacheKib, type SqliteDatabase } from "./open.js";
import { type MirrorReads, prepareMirrorReads } from "./room-mirror.js";
import { MESSAGE_COLUMNS } from "./rows.js";
import { type CommitListener, MAX_IN_FLIGHT } from "./write-queue.js";

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

/** A read-only connection that can hold one batch's snapshot. */
interface Snapshot {
  reader: SqliteDatabase;
  reads: MessageReads;
  mirror: MirrorReads;
  begin: Statement;
  /** the first read of a transaction fixes its snapshot */
  touch: Statement;
  end: Statement;
}

type Statement = Database.Statement<[]>;

function openSnapshot(db: SqliteDatabase): Snapshot {
  const reader = new Database(db.name, { readonly: true, fileMustExist: true });
  reader.pragma(`cache_size = ${-Math.ceil(cacheKib(db) / 4)}`);
  return {
    reader,
    reads: prepareReads(reader),
    mirror: prepareMirrorReads(reader),
    begin: reader.prepare<[]>("BEGIN"),
    touch: reader.prepare<[]>("SELECT 1 FROM rooms LIMIT 1"),
    end: reader.prepare<[]>("COMMIT"),
  };
}

export class DurableReads implements CommitListener {
  private readonly main: MessageReads;
  private readonly mainMirror: MirrorReads;
  /** one per batch that may be in flight; none for an in-memory database (its syncs are instant) */
  private readonly snapshots: Snapshot[];
  /** the snapshots in use, oldest batch first */
  private pinned: Snapshot[] = [];

  constructor(db: SqliteDatabase) {
    this.main = prepareReads(db);
    this.mainMirror = prepareMirrorReads(db);
    this.snapshots = db.memory ? [] : Array.from({ length: MAX_IN_FLIGHT }, () => openSnapshot(db));
  }

  /** The statements to read messages with now. */
  get reads(): MessageReads {
    return this.pinned[0]?.reads ?? this.main;
  }

  /** The statements the room mirror re-reads a room with now. */
  get mirrorReads(): MirrorReads {
    return this.pinned[0]?.mirror ?? this.mainMirror;
  }

  beforeCommit(): void {
    const free = this.snapshots.find((s) => !this.pinned.includes(s));
    if (!free) return;
    free.begin.run();
    free.touch.get();
    this.pinned.push(free);
  }

  afterSync(): void {
    this.pinned.shift()?.end.run();
  }

  commitFailed(): void {
    this.pinned.pop()?.end.run();
  }

  close(): void {
    while (this.pinned.length > 0) this.afterSync();
    for (const s of this.snapshots) s.reader.close();
  }
}
