/**
 * (v2.4) Working hours, quiet hours and urgent messages in PostgreSQL: the same rules as the
 * SQLite store (../sqlite/hours.ts, ../hours.ts). Each write is one statement; nothing here goes
 * on the commit feed, as every read asks the database.
 */
import type pg from "pg";
import type { QuietHours, WorkSchedule } from "../../protocol/index.js";
import { parseHours, type UrgentEntry, type UrgentQuery, type UserHours } from "../hours.js";
import { dbId } from "./ids.js";
import { type Queryable, read, statement, transaction } from "./pool.js";

const SET = (column: "schedule" | "quiet_hours") => `
  INSERT INTO user_hours (user_id, ${column}, updated_at) VALUES ($1, $2, $3)
  ON CONFLICT (user_id) DO UPDATE SET ${column} = excluded.${column}, updated_at = excluded.updated_at`;
const SET_SCHEDULE = SET("schedule");
const SET_QUIET = SET("quiet_hours");
/** A user with neither has no row, so `hoursOf` only finds users something applies to. */
const DROP_EMPTY = "DELETE FROM user_hours WHERE user_id = $1 AND schedule IS NULL AND quiet_hours IS NULL";

export function setSchedule(pool: pg.Pool, userId: string, schedule: WorkSchedule | null, at: string) {
  return setColumn(pool, SET_SCHEDULE, userId, schedule, at);
}

export function setQuietHours(pool: pg.Pool, userId: string, quietHours: QuietHours | null, at: string) {
  return setColumn(pool, SET_QUIET, userId, quietHours, at);
}

function setColumn(
  pool: pg.Pool,
  sql: string,
  userId: string,
  value: object | null,
  at: string,
): Promise<void> {
  return transaction(pool, async (client) => {
    await client.query(sql, [userId, value === null ? null : JSON.stringify(value), at]);
    await client.query(DROP_EMPTY, [userId]);
    return { result: undefined };
  });
}

export async function hoursOf(
  db: Queryable,
  userIds: readonly string[],
): Promise<ReadonlyMap<string, UserHours>> {
  if (userIds.length === 0) return new Map();
  const rows = await read<{ user_id: string; schedule: string | null; quiet_hours: string | null }>(
    db,
    "SELECT user_id, schedule, quiet_hours FROM user_hours WHERE user_id = ANY($1::text[])",
    [userIds],
  );
  return new Map(
    rows.map((r) => [
      r.user_id,
      { schedule: parseHours<WorkSchedule>(r.schedule), quietHours: parseHours<QuietHours>(r.quiet_hours) },
    ]),
  );
}

export async function recordUrgent(pool: pg.Pool, entry: UrgentEntry): Promise<void> {
  await statement(
    pool,
    "INSERT INTO urgent_messages (message_id, room_id, sender_id, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    [dbId(entry.messageId), dbId(entry.roomId), entry.senderId, entry.at],
  );
}

export async function urgentMessages(db: Queryable, query: UrgentQuery): Promise<UrgentEntry[]> {
  const rows = await read<{ message_id: string; room_id: string; sender_id: string; at: string }>(
    db,
    `SELECT message_id::text AS message_id, room_id::text AS room_id, sender_id, at
     FROM urgent_messages WHERE at >= $1 ORDER BY at, message_id LIMIT $2`,
    [query.since ?? "", query.limit],
  );
  return rows.map((r) => ({ messageId: r.message_id, roomId: r.room_id, senderId: r.sender_id, at: r.at }));
}
