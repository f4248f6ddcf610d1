/**
 * (v2.4) The recipients of notices that must be acknowledged (../acks.ts), on PostgreSQL. The same
 * rules as the SQLite store (../sqlite/ack-records.ts); reads go to the database, so every node
 * sees the latest acknowledgement.
 */
import type pg from "pg";
import type { AckRecord } from "../acks.js";
import { dbId } from "./ids.js";
import { type Queryable, read, statement } from "./pool.js";

const INSERT = `
  INSERT INTO message_acks (message_id, user_id) SELECT $1, unnest($2::text[])
  ON CONFLICT DO NOTHING`;
// only a pending row changes: a second acknowledgement keeps the first time
const ACK = `
  WITH done AS (
    UPDATE message_acks SET acked_at = $3 WHERE message_id = $1 AND user_id = $2 AND acked_at IS NULL
    RETURNING acked_at
  )
  SELECT acked_at, TRUE AS changed FROM done
  UNION ALL
  SELECT acked_at, FALSE AS changed FROM message_acks
  WHERE message_id = $1 AND user_id = $2 AND NOT EXISTS (SELECT 1 FROM done)`;
const OF_MESSAGES = `
  SELECT message_id::text AS message_id, user_id, acked_at FROM message_acks
  WHERE message_id = ANY($1::bigint[]) ORDER BY message_id, user_id`;

export async function requestAcks(
  pool: pg.Pool,
  messageId: string,
  userIds: readonly string[],
): Promise<void> {
  const id = dbId(messageId);
  if (id === null || userIds.length === 0) return;
  await statement(pool, INSERT, [id, userIds]);
}

export async function acknowledge(
  pool: pg.Pool,
  messageId: string,
  userId: string,
  at: string,
): Promise<{ at: string; changed: boolean } | undefined> {
  const id = dbId(messageId);
  if (id === null) return undefined;
  const rows = await statement<{ acked_at: string | null; changed: boolean }>(pool, ACK, [id, userId, at]);
  const row = rows[0];
  return row?.acked_at ? { at: row.acked_at, changed: row.changed } : undefined;
}

export async function acksOf(
  db: Queryable,
  messageIds: readonly string[],
): Promise<ReadonlyMap<string, AckRecord[]>> {
  const ids = messageIds.map(dbId).filter((id) => id !== null);
  const acks = new Map<string, AckRecord[]>();
  if (ids.length === 0) return acks;
  const rows = await read<{ message_id: string; user_id: string; acked_at: string | null }>(db, OF_MESSAGES, [
    ids,
  ]);
  for (const row of rows) {
    const list = acks.get(row.message_id) ?? [];
    list.push({ userId: row.user_id, at: row.acked_at });
    acks.set(row.message_id, list);
  }
  return acks;
}
