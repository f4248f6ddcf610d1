/**
 * Full-text search over message bodies. New messages are indexed shortly after they commit, in
 * batches, so indexing never sits on the send path; the messages table stays the durable truth and
 * `search_progress` records how far the index has got, so a restart simply resumes.
 */
import type { Message } from "../../protocol/index.js";
import type { SqliteDatabase } from "./open.js";
import { MESSAGE_COLUMNS, type MessageRow, toMessage } from "./rows.js";

const BATCH = 2000;

export class SearchIndex {
  /** Messages with an id up to this one are in the index (edits and deletions keep it current). */
  indexedUpto: number;
  private timer: NodeJS.Timeout | null = null;
  private readonly pendingRows;
  private readonly insert;
  private readonly remove;
  private readonly saveProgress;
  private readonly query;
  private readonly queryInRoom;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly delayMs = 50,
  ) {
    this.indexedUpto = db
      .prepare("SELECT indexed_upto FROM search_progress WHERE id = 1")
      .pluck()
      .get() as number;
    this.pendingRows = db.prepare(
      "SELECT id, body FROM messages WHERE id > ? AND deleted = 0 ORDER BY id LIMIT ?",
    );
    this.insert = db.prepare("INSERT INTO message_search (rowid, body) VALUES (?, ?)");
    this.remove = db.prepare("DELETE FROM message_search WHERE rowid = ?");
    this.saveProgress = db.prepare("UPDATE search_progress SET indexed_upto = ? WHERE id = 1");
    const select = `SELECT ${MESSAGE_COLUMNS} FROM message_search s JOIN messages m ON m.id = s.rowid
      WHERE message_search MATCH ? AND m.deleted = 0`;
    this.query = db.prepare(
      `${select} AND m.room_id IN (SELECT value FROM json_each(?)) ORDER BY s.rank LIMIT ?`,
    );
    this.queryInRoom = db.prepare(`${select} AND m.room_id = ? ORDER BY s.rank LIMIT ?`);
  }

  /** Asks for the newest messages to be indexed soon. */
  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.indexPending() === BATCH) this.schedule();
    }, this.delayMs);
    this.timer.unref();
  }

  /** Indexes one batch of not-yet-indexed messages; returns how many. */
  indexPending(): number {
    const rows = this.pendingRows.all(this.indexedUpto, BATCH) as { id: number; body: string }[];
    if (rows.length === 0) return 0;
    const last = rows.at(-1)!.id;
    this.db.transaction(() => {
      for (const row of rows) this.insert.run(row.id, row.body);
      this.saveProgress.run(last);
    })();
    this.indexedUpto = last;
    return rows.length;
  }

  /** Keeps an indexed message current; call inside the edit's transaction. */
  replace(messageId: number, body: string | null): void {
    if (messageId > this.indexedUpto) return; // the indexer will read the latest body itself
    this.remove.run(messageId);
    if (body !== null) this.insert.run(messageId, body);
  }

  search(roomIds: readonly string[], text: string, limit: number): Message[] {
    const match = toMatchExpression(text);
    if (!match || roomIds.length === 0) return [];
    const rows =
      roomIds.length === 1
        ? (this.queryInRoom.all(match, Number(roomIds[0]), limit) as MessageRow[])
        : (this.query.all(match, JSON.stringify(roomIds.map(Number)), limit) as MessageRow[]);
    return rows.map(toMessage);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/**
 * A person's words become an FTS5 query that cannot be a syntax error: every word is a quoted
 * phrase (all must match), and the last one also matches as a prefix, for search-as-you-type.
 */
export function toMatchExpression(text: string): string | null {
  const words = text
    .split(/\s+/u)
    .map((w) => w.replace(/"/g, '""'))
    .filter((w) => /[\p{L}\p{N}]/u.test(w));
  if (words.length === 0) return null;
  return words.map((w, i) => (i === words.length - 1 ? `"${w}"*` : `"${w}"`)).join(" ");
}
