/**
 * (v2.3) Web Push subscriptions (../push.ts) on PostgreSQL, with the SQLite store's rules
 * (../sqlite/push-subscriptions.ts). A save counts and inserts under a per-user advisory lock, so
 * two nodes saving for one user at once cannot both pass the limit.
 */
import type pg from "pg";
import type { PushSubscriptionRecord, SubscribeOutcome } from "../push.js";
import { type Queryable, read, statement, transaction } from "./pool.js";

const LOCK = "SELECT pg_advisory_xact_lock(hashtext('timewise_chat:push:' || $1))";
const COUNT_OTHERS =
  "SELECT COUNT(*)::int AS n FROM push_subscriptions WHERE user_id = $1 AND endpoint <> $2";
// xmax = 0 only on a row this statement inserted: it tells a new endpoint from a renewed one
const UPSERT = `
  INSERT INTO push_subscriptions (endpoint, user_id, p256dh, auth, created_at) VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth
  RETURNING (xmax = 0) AS inserted`;
const OF_USERS = `
  SELECT user_id, endpoint, p256dh, auth, created_at FROM push_subscriptions
  WHERE user_id = ANY($1::text[]) ORDER BY user_id, created_at, endpoint`;

interface Row {
  user_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  created_at: string;
}

export function savePushSubscription(
  pool: pg.Pool,
  sub: PushSubscriptionRecord,
  maxPerUser: number,
): Promise<SubscribeOutcome> {
  return transaction(pool, async (client) => {
    await client.query(LOCK, [sub.userId]);
    const { rows } = await client.query<{ n: number }>(COUNT_OTHERS, [sub.userId, sub.endpoint]);
    if ((rows[0]?.n ?? 0) >= maxPerUser) return { result: "full" as const };
    const saved = await client.query<{ inserted: boolean }>(UPSERT, [
      sub.endpoint,
      sub.userId,
      sub.p256dh,
      sub.auth,
      sub.createdAt,
    ]);
    return { result: saved.rows[0]?.inserted ? ("added" as const) : ("renewed" as const) };
  });
}

export async function removePushSubscription(
  pool: pg.Pool,
  userId: string,
  endpoint: string,
): Promise<boolean> {
  const rows = await statement(
    pool,
    "DELETE FROM push_subscriptions WHERE endpoint = $1 AND user_id = $2 RETURNING 1 AS gone",
    [endpoint, userId],
  );
  return rows.length > 0;
}

export async function forgetPushSubscription(pool: pg.Pool, endpoint: string): Promise<void> {
  await statement(pool, "DELETE FROM push_subscriptions WHERE endpoint = $1", [endpoint]);
}

export async function pushSubscriptionsOf(
  db: Queryable,
  userIds: readonly string[],
): Promise<PushSubscriptionRecord[]> {
  if (userIds.length === 0) return [];
  const rows = await read<Row>(db, OF_USERS, [userIds]);
  return rows.map((r) => ({
    userId: r.user_id,
    endpoint: r.endpoint,
    p256dh: r.p256dh,
    auth: r.auth,
    createdAt: r.created_at,
  }));
}
