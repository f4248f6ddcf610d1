/**
 * Full-text search over message bodies with PostgreSQL's own text search: the `simple`
 * configuration (no stemming, any language) over the unaccented body, kept in the messages
 * table's `search_vector` column and its GIN index (see migrations.ts). It is written in the same
 * transaction as the message, so search is never behind; ranking is ts_rank, newest first on ties.
 */
import type { Message } from "../../protocol/index.js";
import { dbId } from "./ids.js";
import { type Queryable, read } from "./pool.js";
import { MESSAGE_COLUMNS, type MessageRow, toMessage } from "./rows.js";

const SEARCH = `
  WITH q AS (SELECT to_tsquery('simple', twc_search_text($2)) AS query)
  SELECT ${MESSAGE_COLUMNS}
  FROM q, messages m JOIN rooms r ON r.id = m.room_id
  WHERE m.room_id = ANY($1::bigint[]) AND m.search_vector @@ q.query AND NOT m.deleted AND NOT r.closed
  ORDER BY ts_rank(m.search_vector, q.query) DESC, m.id DESC
  LIMIT $3`;

export async function searchMessages(
  db: Queryable,
  roomIds: readonly string[],
  text: string,
  limit: number,
): Promise<Message[]> {
  const query = toTsQuery(text);
  const ids = roomIds.map(dbId).filter((id) => id !== null);
  if (query === null || ids.length === 0) return [];
  const rows = await read<MessageRow>(db, SEARCH, [ids, query, limit]);
  return rows.map(toMessage);
}

/**
 * A person's words become a tsquery that cannot be a syntax error: every word is a quoted
 * lexeme (all must match; one with punctuation inside, such as "e-mail", matches as a phrase),
 * and the last one also matches as a prefix, for search-as-you-type. Words without a letter or
 * digit are left out, as the index holds none.
 */
export function toTsQuery(text: string): string | null {
  const words = text
    .replace(/[\u2066-\u2069]/g, " ")
    .split(/\s+/u)
    .filter((w) => /[\p{L}\p{N}]/u.test(w))
    // inside a quoted lexeme a quote is doubled and a backslash escapes the next character
    .map((w) => `'${w.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`);
  if (words.length === 0) return null;
  return words.map((w, i) => (i === words.length - 1 ? `${w}:*` : w)).join(" & ");
}
