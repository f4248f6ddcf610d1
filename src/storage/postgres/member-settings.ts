/**
 * (v2.3) What each member decides for themselves, and counts only for them: a room's notification
 * setting, unread mentions, and a user's notification preferences. The same rules as the SQLite
 * store (../sqlite/member-settings.ts). Nothing here is announced on the commit feed: only the
 * user concerned reads it, and reads go to the database.
 */
import type pg from "pg";
import { notFound } from "../../errors.js";
import type { NotifyLevel, RoomType } from "../../protocol/index.js";
import type { MemberView, StoredPrefs } from "../mentions.js";
import { dbId } from "./ids.js";
import { type Queryable, read, statement } from "./pool.js";

/**
 * The member's unread mentions: messages after their marker that mention them or everyone, not
 * their own. The repeated `mentions_all OR mentions <> '[]'` is the predicate of the partial index
 * `messages_mentioning`, so only messages that mention someone are read.
 */
const VIEWS = `
  SELECT mb.room_id::text AS room_id, mb.notify, (
    SELECT COUNT(*) FROM messages m
    WHERE m.room_id = mb.room_id AND m.seq > mb.read_seq AND (m.mentions_all OR m.mentions <> '[]')
      AND m.sender_id <> mb.user_id AND (m.mentions_all OR m.mentions::jsonb ? mb.user_id)
  )::int AS mentions
  FROM members mb JOIN rooms r ON r.id = mb.room_id AND NOT r.closed
  WHERE mb.user_id = $1 AND mb.room_id = ANY($2::bigint[])`;

const TARGETS = `
  SELECT r.type, COALESCE(array_agg(mb.user_id) FILTER (WHERE mb.user_id IS NOT NULL), '{}') AS member_ids
  FROM rooms r LEFT JOIN members mb ON mb.room_id = r.id
  WHERE r.id = $1 AND NOT r.closed GROUP BY r.id`;

const SET_NOTIFY = `
  UPDATE members SET notify = $1
  WHERE room_id = $2 AND user_id = $3 AND room_id IN (SELECT id FROM rooms WHERE NOT closed)
  RETURNING 1 AS done`;

const PREFS = "SELECT email, email_delay_min, push FROM user_prefs WHERE user_id = $1";

// a field given as NULL keeps its stored value
const UPSERT_PREFS = `
  INSERT INTO user_prefs AS p (user_id, email, email_delay_min, push) VALUES ($1, $2, $3, $4)
  ON CONFLICT (user_id) DO UPDATE SET
    email = COALESCE(excluded.email, p.email),
    email_delay_min = COALESCE(excluded.email_delay_min, p.email_delay_min),
    push = COALESCE(excluded.push, p.push)
  RETURNING email, email_delay_min, push`;

interface PrefsRow {
  email: "off" | "digest" | null;
  email_delay_min: number | null;
  push: boolean | null;
}

export async function mentionTargets(
  db: Queryable,
  roomId: string,
): Promise<{ type: RoomType; memberIds: string[] } | undefined> {
  const id = dbId(roomId);
  if (id === null) return undefined;
  const rows = await read<{ type: RoomType; member_ids: string[] }>(db, TARGETS, [id]);
  return rows[0] && { type: rows[0].type, memberIds: rows[0].member_ids };
}

export async function memberViews(
  db: Queryable,
  userId: string,
  roomIds: readonly string[],
): Promise<ReadonlyMap<string, MemberView>> {
  const ids = roomIds.map(dbId).filter((id) => id !== null);
  const views = new Map<string, MemberView>();
  if (ids.length === 0) return views;
  const rows = await read<{ room_id: string; notify: NotifyLevel; mentions: number }>(db, VIEWS, [
    userId,
    ids,
  ]);
  for (const row of rows) views.set(row.room_id, { notify: row.notify, mentions: row.mentions });
  return views;
}

export async function setNotify(
  pool: pg.Pool,
  roomId: string,
  userId: string,
  notify: NotifyLevel,
): Promise<void> {
  const id = dbId(roomId);
  const rows = id === null ? [] : await statement(pool, SET_NOTIFY, [notify, id, userId]);
  if (rows.length === 0) throw notFound();
}

export async function userPrefs(db: Queryable, userId: string): Promise<StoredPrefs> {
  const rows = await read<PrefsRow>(db, PREFS, [userId]);
  return rows[0] ? fromRow(rows[0]) : {};
}

export async function setUserPrefs(pool: pg.Pool, userId: string, prefs: StoredPrefs): Promise<StoredPrefs> {
  const rows = await statement<PrefsRow>(pool, UPSERT_PREFS, [
    userId,
    prefs.email ?? null,
    prefs.emailDelayMin ?? null,
    prefs.push ?? null,
  ]);
  return fromRow(rows[0]!);
}

function fromRow(row: PrefsRow): StoredPrefs {
  const prefs: StoredPrefs = {};
  if (row.email !== null) prefs.email = row.email;
  if (row.email_delay_min !== null) prefs.emailDelayMin = row.email_delay_min;
  if (row.push !== null) prefs.push = row.push;
  return prefs;
}
