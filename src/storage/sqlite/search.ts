/**
 * Full-text search over message bodies, on the index that the background worker keeps beside the
 * chat database (see search-indexer.ts). Queries run on their own read-only connection, which sees
 * committed data only and never waits for the writer. A search names the rooms it may look in, and
 * the index holds each message's room as a token, so the work is proportional to the matches in
 * those rooms, not in the whole database.
 */
import Database from "better-sqlite3";
import type { Message } from "../../protocol/index.js";
import { cacheKib, type SqliteDatabase } from "./open.js";
import { MESSAGE_COLUMNS, type MessageRow, toMessage } from "./rows.js";
import { openSearchDatabase, SearchIndexer, searchableText, searchPathOf } from "./search-indexer.js";

export class SearchQueries {
  private readonly reader: SqliteDatabase;
  private readonly query;

  constructor(db: SqliteDatabase) {
    if (db.memory) throw new Error("The chat database must be a file: its search index is kept beside it.");
    const searchPath = searchPathOf(db);
    openSearchDatabase(searchPath).close(); // the worker may not have created it yet
    this.reader = new Database(db.name, { readonly: true, fileMustExist: true });
    // the chat database's messages and the index each get a quarter of its cache
    const quarter = Math.ceil(cacheKib(db) / 4);
    this.reader.pragma(`cache_size = ${-quarter}`);
    this.reader.prepare("ATTACH DATABASE ? AS search").run(searchPath);
    this.reader.pragma(`search.cache_size = ${-quarter}`);
    // rank by the body only (the room column's weight is 0); the best `limit` are joined to their rows
    this.query = this.reader.prepare(
      `SELECT ${MESSAGE_COLUMNS} FROM (
         SELECT rowid AS id, bm25(message_index, 1.0, 0.0) AS score FROM search.message_index
         WHERE message_index MATCH ? ORDER BY score LIMIT ?
       ) s JOIN messages m ON m.id = s.id WHERE m.deleted = 0 ORDER BY s.score`,
    );
  }

  search(roomIds: readonly string[], text: string, limit: number): Message[] {
    const words = toMatchExpression(text);
    if (!words || roomIds.length === 0) return [];
    // room ids are the store's own decimal ids, so `r<id>` is always a plain token
    const rooms = roomIds.length === 1 ? `r${roomIds[0]}` : `(${roomIds.map((id) => `r${id}`).join(" OR ")})`;
    const rows = this.query.all(`{room} : ${rooms} AND {body} : (${words})`, limit) as MessageRow[];
    return rows.map(toMessage);
  }

  close(): void {
    this.reader.close();
  }
}

/**
 * A person's words become an FTS5 query that cannot be a syntax error: every word is a quoted
 * phrase (all must match), and the last one also matches as a prefix, for search-as-you-type.
 */
export function toMatchExpression(text: string): string | null {
  const words = searchableText(text)
    .split(/\s+/u)
    .map((w) => w.replace(/"/g, '""'))
    .filter((w) => /[\p{L}\p{N}]/u.test(w));
  if (words.length === 0) return null;
  return words.map((w, i) => (i === words.length - 1 ? `"${w}"*` : `"${w}"`)).join(" ");
}

/**
 * Indexes every message not yet in the index, now, in this thread (for tools such as the
 * benchmark's database generator; the server itself indexes in its background worker).
 */
export function indexAllForSearch(db: SqliteDatabase): void {
  const index = openSearchDatabase(searchPathOf(db));
  try {
    new SearchIndexer(db, index).indexAll();
  } finally {
    index.close();
  }
}
