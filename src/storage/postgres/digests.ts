/**
 * (v2.3) The email digest job's tables in PostgreSQL: the same rules as the SQLite store
 * (../sqlite/digests.ts, ../digests.ts). Nothing here goes on the commit feed: only the job reads it.
 * `claimDigests` takes its rows with `FOR UPDATE SKIP LOCKED`, so two nodes running the job at the
 * same moment (around a takeover) never take the same digest.
 */
import type pg from "pg";
import type { NotifyLevel, RoomType } from "../../protocol/index.js";
import type {
  ClaimedDigest,
  DigestEntry,
  DigestMark,
  DigestOutcome,
  DueMessage,
  NewDigest,
} from "../digests.js";
import { parseMentions } from "../mentions.js";
import { dbId } from "./ids.js";
import { type Queryable, read, statement, transaction } from "./pool.js";

const DUE = `
  SELECT mb.user_id, mb.room_id::text AS room_id, m.id::text AS message_id, m.seq::int AS seq, m.sender_id,
    m.body, m.created_at, m.mentions, m.mentions_all, mb.notify, p.email, p.email_delay_min,
    (SELECT MAX(d.created_at) FROM digests d WHERE d.user_id = mb.user_id) AS last_digest_at
  FROM members mb
  JOIN rooms r ON r.id = mb.room_id AND NOT r.closed
  LEFT JOIN digest_marks dm ON dm.room_id = mb.room_id AND dm.user_id = mb.user_id
  LEFT JOIN user_prefs p ON p.user_id = mb.user_id
  JOIN messages m ON m.room_id = mb.room_id AND m.seq > GREATEST(mb.read_seq, COALESCE(dm.seq, 0))
  WHERE mb.notify <> 'none' AND r.last_seq > GREATEST(mb.read_seq, COALESCE(dm.seq, 0))
    AND m.sender_id <> mb.user_id AND NOT m.deleted AND m.created_at <= $1
    AND NOT EXISTS (SELECT 1 FROM urgent_messages u WHERE u.message_id = m.id)
  ORDER BY mb.user_id, mb.room_id, m.seq
  LIMIT $2`;

const ENTRIES = `
  SELECT di.digest_id::text AS digest_id, m.room_id::text AS room_id, r.type AS room_type, r.name AS room_name,
    m.id::text AS message_id, m.seq::int AS seq, m.sender_id, m.body, m.created_at
  FROM digest_items di
  JOIN digests d ON d.id = di.digest_id
  JOIN messages m ON m.id = di.message_id AND NOT m.deleted
  JOIN rooms r ON r.id = m.room_id AND NOT r.closed
  JOIN members mb ON mb.room_id = m.room_id AND mb.user_id = d.user_id AND mb.read_seq < m.seq
  WHERE di.digest_id = ANY($1::bigint[])
  ORDER BY di.digest_id, m.room_id, m.seq`;

// marks, digests and items each in one statement, whatever the number of users
const UPSERT_MARKS = `
  INSERT INTO digest_marks (room_id, user_id, seq)
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[])
  ON CONFLICT (room_id, user_id) DO UPDATE SET seq = GREATEST(digest_marks.seq, excluded.seq)`;

const INSERT_DIGESTS = `
  INSERT INTO digests (user_id, created_at, next_try_at)
  SELECT u, $2, $2 FROM unnest($1::text[]) WITH ORDINALITY AS t (u, n) ORDER BY n
  RETURNING id::text AS id, user_id`;

const INSERT_ITEMS = `
  INSERT INTO digest_items (digest_id, message_id)
  SELECT * FROM unnest($1::bigint[], $2::bigint[]) ON CONFLICT DO NOTHING`;

const CLAIM = `
  UPDATE digests SET next_try_at = $1, attempts = attempts + 1
  WHERE id IN (
    SELECT id FROM digests WHERE sent_at IS NULL AND next_try_at <= $2
    ORDER BY next_try_at LIMIT $3 FOR UPDATE SKIP LOCKED
  )
  RETURNING id::text AS id, user_id, attempts`;

interface DueRow {
  user_id: string;
  room_id: string;
  message_id: string;
  seq: number;
  sender_id: string;
  body: string;
  created_at: string;
  mentions: string;
  mentions_all: boolean;
  notify: NotifyLevel;
  email: "off" | "digest" | null;
  email_delay_min: number | null;
  last_digest_at: string | null;
}

interface EntryRow {
  digest_id: string;
  room_id: string;
  room_type: RoomType;
  room_name: string | null;
  message_id: string;
  seq: number;
  sender_id: string;
  body: string;
  created_at: string;
}

export async function dueMessages(db: Queryable, before: string, limit: number): Promise<DueMessage[]> {
  const rows = await read<DueRow>(db, DUE, [before, limit]);
  return rows.map((row) => ({
    userId: row.user_id,
    roomId: row.room_id,
    messageId: row.message_id,
    seq: row.seq,
    senderId: row.sender_id,
    body: row.body,
    createdAt: row.created_at,
    mentions: parseMentions(row.mentions),
    mentionsAll: row.mentions_all,
    notify: row.notify,
    email: row.email,
    emailDelayMin: row.email_delay_min,
    lastDigestAt: row.last_digest_at,
  }));
}

export function queueDigests(
  pool: pg.Pool,
  marks: readonly DigestMark[],
  digests: readonly NewDigest[],
  at: string,
): Promise<void> {
  const withMessages = digests.filter((d) => d.messageIds.length > 0);
  return transaction(pool, async (client) => {
    if (marks.length > 0) {
      await client.query(UPSERT_MARKS, [
        marks.map((m) => dbId(m.roomId)),
        marks.map((m) => m.userId),
        marks.map((m) => m.seq),
      ]);
    }
    if (withMessages.length > 0) {
      const { rows } = await client.query<{ id: string; user_id: string }>(INSERT_DIGESTS, [
        withMessages.map((d) => d.userId),
        at,
      ]);
      // one digest per user per run, so the user id finds its row
      const idOf = new Map(rows.map((row) => [row.user_id, row.id]));
      const digestIds: string[] = [];
      const messageIds: (string | null)[] = [];
      for (const digest of withMessages) {
        for (const messageId of digest.messageIds) {
          digestIds.push(idOf.get(digest.userId)!);
          messageIds.push(dbId(messageId));
        }
      }
      await client.query(INSERT_ITEMS, [digestIds, messageIds]);
    }
    return { result: undefined };
  });
}

export async function claimDigests(
  pool: pg.Pool,
  now: string,
  holdUntil: string,
  limit: number,
): Promise<ClaimedDigest[]> {
  const rows = await statement<{ id: string; user_id: string; attempts: number }>(pool, CLAIM, [
    holdUntil,
    now,
    limit,
  ]);
  return rows.map((row) => ({ id: row.id, userId: row.user_id, attempts: row.attempts }));
}

export async function digestEntries(db: Queryable, digestIds: readonly string[]): Promise<DigestEntry[]> {
  if (digestIds.length === 0) return [];
  const rows = await read<EntryRow>(db, ENTRIES, [digestIds.map(dbId)]);
  return rows.map((row) => ({
    digestId: row.digest_id,
    roomId: row.room_id,
    roomType: row.room_type,
    roomName: row.room_name,
    messageId: row.message_id,
    seq: row.seq,
    senderId: row.sender_id,
    body: row.body,
    createdAt: row.created_at,
  }));
}

export async function finishDigest(
  pool: pg.Pool,
  digestId: string,
  at: string,
  outcome: DigestOutcome,
): Promise<void> {
  await statement(pool, "UPDATE digests SET sent_at = $1, outcome = $2 WHERE id = $3 AND sent_at IS NULL", [
    at,
    outcome,
    dbId(digestId),
  ]);
}

export async function retryDigest(pool: pg.Pool, digestId: string, nextTryAt: string): Promise<void> {
  await statement(pool, "UPDATE digests SET next_try_at = $1 WHERE id = $2 AND sent_at IS NULL", [
    nextTryAt,
    dbId(digestId),
  ]);
}
