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
import { aboveMarks } from "../digests.js";
import { parseMentions } from "../mentions.js";
import { dbId } from "./ids.js";
import { JOB_LOCK_SPACE } from "./job-locks.js";
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

/**
 * Two runs of the job at the same moment (around a takeover) queue one after the other: the key is
 * in the job locks' space (job-locks.ts), apart from the job lock itself, which is session-level.
 */
const QUEUE_LOCK = "SELECT pg_advisory_xact_lock($1, hashtext('email-digests:queue'))";

const MARKS_NOW = `
  SELECT dm.room_id::text AS room_id, dm.user_id, dm.seq::int AS seq
  FROM digest_marks dm JOIN unnest($1::bigint[], $2::text[]) AS t (room_id, user_id)
    ON dm.room_id = t.room_id AND dm.user_id = t.user_id`;

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
): Promise<NewDigest[]> {
  return transaction(pool, async (client) => {
    await client.query(QUEUE_LOCK, [JOB_LOCK_SPACE]);
    const roomIds = marks.map((m) => dbId(m.roomId));
    const userIds = marks.map((m) => m.userId);
    // read after the lock: a run that queued first has committed its marks by now
    const { rows: now } = await client.query<{ room_id: string; user_id: string; seq: number }>(MARKS_NOW, [
      roomIds,
      userIds,
    ]);
    const taken = aboveMarks(digests, new Map(now.map((r) => [`${r.user_id} ${r.room_id}`, r.seq])));
    const withMessages = taken.filter((d) => d.mail);
    if (marks.length > 0) {
      await client.query(UPSERT_MARKS, [roomIds, userIds, marks.map((m) => m.seq)]);
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
        for (const m of digest.messages) {
          digestIds.push(idOf.get(digest.userId)!);
          messageIds.push(dbId(m.messageId));
        }
      }
      await client.query(INSERT_ITEMS, [digestIds, messageIds]);
    }
    return { result: taken };
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

const FINISH = `
  UPDATE digests d SET sent_at = t.at, outcome = t.outcome
  FROM unnest($1::bigint[], $2::text[], $3::text[]) AS t (id, at, outcome)
  WHERE d.id = t.id AND d.sent_at IS NULL`;

interface Finishing {
  id: string | null;
  at: string;
  outcome: DigestOutcome;
  done: (error?: unknown) => void;
}

/**
 * Marks digests finished; the calls of one moment (the job writes each outcome as soon as it knows
 * it, without waiting) share one statement, so a run of 10,000 mails is not 10,000 round trips.
 */
export class DigestFinisher {
  private pending: Finishing[] = [];

  constructor(private readonly pool: pg.Pool) {}

  finish(digestId: string, at: string, outcome: DigestOutcome): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (error?: unknown) => (error === undefined ? resolve() : reject(error));
      if (this.pending.push({ id: dbId(digestId), at, outcome, done }) === 1) {
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      await statement(this.pool, FINISH, [
        batch.map((f) => f.id),
        batch.map((f) => f.at),
        batch.map((f) => f.outcome),
      ]);
    } catch (error) {
      for (const f of batch) f.done(error);
      return;
    }
    for (const f of batch) f.done();
  }
}

export async function retryDigest(pool: pg.Pool, digestId: string, nextTryAt: string): Promise<void> {
  await statement(pool, "UPDATE digests SET next_try_at = $1 WHERE id = $2 AND sent_at IS NULL", [
    nextTryAt,
    dbId(digestId),
  ]);
}

export async function pruneDigests(pool: pg.Pool, before: string): Promise<number> {
  return transaction(pool, async (client) => {
    await client.query(
      "DELETE FROM digest_items WHERE digest_id IN (SELECT id FROM digests WHERE sent_at < $1)",
      [before],
    );
    const { rowCount } = await client.query("DELETE FROM digests WHERE sent_at < $1", [before]);
    return { result: rowCount ?? 0 };
  });
}
