/**
 * Keeps the full-text index current. The index lives in its own SQLite file beside the chat
 * database (`<SQLITE_PATH>-search`), written by a worker thread (search-worker.ts), so indexing
 * never takes the chat database's write lock nor the event loop. The index is derived data: the
 * messages table stays the durable truth, and the index follows it the way a client catches up,
 * by room `rev`: every new message, edit, deletion or reaction raises its room's rev, and the
 * indexer re-reads each room's messages with a rev above the one it last indexed. Its progress is
 * committed in the same transaction as the index rows, so a crash at any point just resumes; a
 * missing or stale index file is rebuilt from the messages.
 */
import Database from "better-sqlite3";
import type { SqliteDatabase } from "./open.js";

/**
 * The index's schema. Each row is a message (rowid = message id): its body, and its room as a
 * token (`r42`) so a search over a user's rooms only touches those rooms' entries. Prefix indexes
 * make the last word's prefix match (search-as-you-type) cheap for words up to 6 characters.
 */
const SCHEMA = `
  CREATE VIRTUAL TABLE IF NOT EXISTS message_index USING fts5 (
    body, room, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4 5 6'
  );
  -- per room: the room rev indexed so far, and the largest message id ever indexed
  CREATE TABLE IF NOT EXISTS room_progress (
    room_id INTEGER PRIMARY KEY,
    rev INTEGER NOT NULL,
    max_id INTEGER NOT NULL
  );
`;

/** Rows read and indexed per transaction: big enough to amortize, small enough to stay responsive. */
const BATCH = 2000;

/** The index file of a chat database. */
export function searchPathOf(db: SqliteDatabase): string {
  return `${db.name}-search`;
}

/** Opens (creating it when needed) the index file, set up for a derived, rebuildable index. */
export function openSearchDatabase(path: string, cacheKib?: number): SqliteDatabase {
  const db = new Database(path, { timeout: 5000 });
  if (cacheKib !== undefined) db.pragma(`cache_size = ${-cacheKib}`);
  db.pragma("journal_mode = WAL");
  // NORMAL: a crash may lose the last index transactions, never corrupt them; progress rolls back
  // with them, so the lost rows are simply indexed again
  db.pragma("synchronous = NORMAL");
  db.exec(SCHEMA);
  return db;
}

interface Progress {
  rev: number;
  maxId: number;
}

interface ChangedRow {
  id: number;
  body: string;
  deleted: number;
  rev: number;
}

export class SearchIndexer {
  private readonly progress = new Map<number, Progress>();
  private readonly roomRevs;
  private readonly changed;
  private readonly insert;
  private readonly remove;
  private readonly saveProgress;
  private readonly progressOf;
  private readonly inTransaction: (work: () => number) => number;

  /**
   * @param chat a connection to the chat database (only read)
   * @param index a connection to the index file
   */
  constructor(
    chat: SqliteDatabase,
    private readonly index: SqliteDatabase,
  ) {
    this.roomRevs = chat.prepare("SELECT id, rev FROM rooms");
    this.changed = chat.prepare(
      "SELECT id, body, deleted, rev FROM messages WHERE room_id = ? AND rev > ? ORDER BY rev LIMIT ?",
    );
    this.insert = index.prepare("INSERT INTO message_index (rowid, body, room) VALUES (?, ?, ?)");
    this.remove = index.prepare("DELETE FROM message_index WHERE rowid = ?");
    this.saveProgress = index.prepare(
      "INSERT INTO room_progress (room_id, rev, max_id) VALUES (?, ?, ?) ON CONFLICT (room_id) DO UPDATE SET rev = excluded.rev, max_id = excluded.max_id",
    );
    this.progressOf = index.prepare("SELECT rev, max_id FROM room_progress WHERE room_id = ?");
    // IMMEDIATE: several nodes sharing one database each run an indexer on the same index file;
    // the write lock makes them take turns, and progress is re-read inside it (see indexRooms)
    const transaction = index.transaction((work: () => number) => work());
    this.inTransaction = (work) => transaction.immediate(work);
    for (const row of index.prepare("SELECT room_id, rev, max_id FROM room_progress").all() as {
      room_id: number;
      rev: number;
      max_id: number;
    }[]) {
      this.progress.set(row.room_id, { rev: row.rev, maxId: row.max_id });
    }
    if (this.isStale()) this.reset();
  }

  /**
   * Rooms whose rev is ahead of the index, as far as this indexer knows (all rooms are checked:
   * one small scan); `indexRooms` reads the true progress.
   */
  roomsBehind(): number[] {
    const behind: number[] = [];
    for (const room of this.roomRevs.all() as { id: number; rev: number }[]) {
      if (room.rev > (this.progress.get(room.id)?.rev ?? 0)) behind.push(room.id);
    }
    return behind;
  }

  /**
   * Indexes what changed in `roomIds` (at most about one batch of rows, in one transaction);
   * returns the rooms that still have more to index.
   */
  indexRooms(roomIds: Iterable<number>): number[] {
    const more: number[] = [];
    let budget = BATCH;
    this.inTransaction(() => {
      for (const roomId of roomIds) {
        if (budget <= 0) {
          more.push(roomId);
          continue;
        }
        // read inside the transaction: another node's indexer may have moved it since
        const row = this.progressOf.get(roomId) as { rev: number; max_id: number } | undefined;
        const progress = row ? { rev: row.rev, maxId: row.max_id } : { rev: 0, maxId: 0 };
        this.progress.set(roomId, progress);
        const rows = this.changed.all(roomId, progress.rev, budget + 1) as ChangedRow[];
        if (rows.length > budget) {
          rows.length = budget;
          more.push(roomId);
        }
        budget -= rows.length;
        if (rows.length === 0) continue;
        const next = this.apply(roomId, rows, progress);
        this.saveProgress.run(roomId, next.rev, next.maxId);
        this.progress.set(roomId, next);
      }
      return 0;
    });
    return more;
  }

  /** Indexes everything that is behind, now (start-up catch-up in the worker, and tools). */
  indexAll(): number {
    let rooms = this.roomsBehind();
    let passes = 0;
    while (rooms.length > 0) {
      rooms = this.indexRooms(rooms);
      passes++;
    }
    return passes;
  }

  private apply(roomId: number, rows: ChangedRow[], progress: Progress): Progress {
    const room = `r${roomId}`;
    let maxId = progress.maxId;
    for (const row of rows) {
      // ids grow within a room: an id up to max_id was indexed before (unless it was deleted
      // before the indexer saw it, and deleting an absent row does no harm)
      if (row.id <= progress.maxId) this.remove.run(row.id);
      if (!row.deleted) this.insert.run(row.id, searchableText(row.body), room);
      if (row.id > maxId) maxId = row.id;
    }
    return { rev: rows.at(-1)!.rev, maxId };
  }

  /** The chat database went back in time (restored, or replaced): the index is not its index. */
  private isStale(): boolean {
    const revs = new Map((this.roomRevs.all() as { id: number; rev: number }[]).map((r) => [r.id, r.rev]));
    for (const [roomId, p] of this.progress) if ((revs.get(roomId) ?? -1) < p.rev) return true;
    return false;
  }

  private reset(): void {
    this.index.exec("DELETE FROM message_index; DELETE FROM room_progress;");
    this.progress.clear();
  }
}

/**
 * The tokenizer does not split words at the bidi isolates (U+2066–U+2069), so a word wrapped in
 * them could never be found; they become spaces in the index (and in queries, see search.ts).
 */
export function searchableText(text: string): string {
  return text.replace(/[\u2066-\u2069]/g, " ");
}
