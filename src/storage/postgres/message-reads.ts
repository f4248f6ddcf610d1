/**
 * Message reads: one message, a room's history and its changes since a rev. PostgreSQL shows a
 * read only committed rows, and commits are durable before they are acknowledged, so nothing
 * here can be taken back.
 */
import type { Message } from "../../protocol/index.js";
import type { HistoryQuery } from "../chat-store.js";
import { dbId } from "./ids.js";
import { type Queryable, read } from "./pool.js";
import { MESSAGE_COLUMNS, type MessageRow, toMessage } from "./rows.js";

export async function loadMessage(db: Queryable, messageId: string): Promise<Message | undefined> {
  const id = dbId(messageId);
  if (id === null) return undefined;
  const rows = await read<MessageRow>(db, `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.id = $1`, [id]);
  return rows[0] ? toMessage(rows[0]) : undefined;
}

export async function loadHistory(
  db: Queryable,
  roomId: string,
  q: HistoryQuery,
): Promise<{ messages: Message[]; hasMore: boolean }> {
  const id = dbId(roomId);
  if (id === null) return { messages: [], hasMore: false };
  const base = `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.room_id = $1`;
  const rows =
    q.afterSeq !== undefined
      ? await read<MessageRow>(db, `${base} AND m.seq > $2 ORDER BY m.seq ASC LIMIT $3`, [
          id,
          q.afterSeq,
          q.limit + 1,
        ])
      : q.beforeSeq !== undefined
        ? await read<MessageRow>(db, `${base} AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3`, [
            id,
            q.beforeSeq,
            q.limit + 1,
          ])
        : await read<MessageRow>(db, `${base} ORDER BY m.seq DESC LIMIT $2`, [id, q.limit + 1]);
  const hasMore = rows.length > q.limit;
  if (hasMore) rows.pop();
  if (q.afterSeq === undefined) rows.reverse();
  return { messages: rows.map(toMessage), hasMore };
}

/**
 * The changes after `sinceRev` and the cursor to continue from, from ONE statement: the room's
 * rev and the rows come from the same snapshot, so the cursor never runs ahead of a row that
 * was committed but not read (or behind one that was).
 */
const CHANGES = `
  SELECT CASE WHEN r.closed THEN NULL ELSE r.rev END AS room_rev, c.*
  FROM (SELECT 1) one
  LEFT JOIN rooms r ON r.id = $1
  LEFT JOIN LATERAL (
    SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.room_id = $1 AND m.rev > $2 ORDER BY m.rev ASC LIMIT $3
  ) c ON TRUE
  ORDER BY c.rev`;

export async function loadChanges(
  db: Queryable,
  roomId: string,
  sinceRev: number,
  limit: number,
): Promise<{ messages: Message[]; rev: number; hasMore: boolean }> {
  const id = dbId(roomId);
  if (id === null) return { messages: [], rev: sinceRev, hasMore: false };
  const rows = await read<MessageRow & { room_rev: string | null }>(db, CHANGES, [id, sinceRev, limit + 1]);
  const roomRev = rows[0]?.room_rev ?? null;
  // with no change, the LEFT JOIN still gives one row, all of its message columns null
  const found = rows.filter((r) => r.id !== null);
  const hasMore = found.length > limit;
  if (hasMore) found.pop();
  const messages = found.map(toMessage);
  // a closed or unknown room has no rev of its own: the cursor stays where the caller was
  const rev = hasMore
    ? messages.at(-1)!.rev
    : Math.max(roomRev === null ? sinceRev : Number(roomRev), sinceRev);
  return { messages, rev, hasMore };
}
