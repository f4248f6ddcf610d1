/**
 * User bookkeeping shared by all nodes: the name last seen for each user, when they were last
 * online, and token revocations. Read from the database each time, so a revocation made on one
 * node holds on every node at once.
 */
import { randomBytes } from "node:crypto";
import type pg from "pg";
import { type Queryable, read, transaction } from "./pool.js";

export async function userName(db: Queryable, userId: string): Promise<string> {
  // an empty name is a user only seen online (setLastSeen) before their name was known
  const rows = await read<{ name: string }>(db, "SELECT name FROM known_users WHERE id = $1 AND name <> ''", [
    userId,
  ]);
  return rows[0]?.name ?? `User ${userId}`;
}

/** The names of several users in one query; an unknown user gets the same stand-in as `userName`. */
export async function userNames(
  db: Queryable,
  userIds: readonly string[],
): Promise<ReadonlyMap<string, string>> {
  const names = new Map<string, string>();
  if (userIds.length === 0) return names;
  const rows = await read<{ id: string; name: string }>(
    db,
    "SELECT id, name FROM known_users WHERE id = ANY($1::text[]) AND name <> ''",
    [[...userIds]],
  );
  const known = new Map(rows.map((r) => [r.id, r.name]));
  for (const id of userIds) names.set(id, known.get(id) ?? `User ${id}`);
  return names;
}

export async function lastSeenAt(db: Queryable, userId: string): Promise<string | null> {
  const rows = await read<{ last_seen_at: string | null }>(
    db,
    "SELECT last_seen_at FROM known_users WHERE id = $1",
    [userId],
  );
  return rows[0]?.last_seen_at ?? null;
}

export function rememberUsers(pool: pg.Pool, users: readonly { id: string; name: string }[]): Promise<void> {
  if (users.length === 0) return Promise.resolve();
  return transaction(pool, async (db) => {
    // one statement for all; a name that didn't change is not rewritten
    await db.query(
      `INSERT INTO known_users (id, name) SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT (id) DO UPDATE SET name = excluded.name WHERE known_users.name IS DISTINCT FROM excluded.name`,
      [users.map((u) => u.id), users.map((u) => u.name)],
    );
    return { result: undefined };
  });
}

export function setLastSeen(pool: pg.Pool, userId: string, at: string): Promise<void> {
  return transaction(pool, async (db) => {
    await db.query(
      `INSERT INTO known_users (id, name, last_seen_at) VALUES ($1, '', $2)
       ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at`,
      [userId, at],
    );
    return { result: undefined };
  });
}

/** Refuses the user's tokens issued at or before `beforeS`; never moves backwards. */
export function revokeTokens(pool: pg.Pool, userId: string, beforeS: number): Promise<number> {
  return transaction(pool, async (db) => {
    const { rows } = await db.query<{ revoked_before: string }>(
      `INSERT INTO token_revocations (user_id, revoked_before) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE SET revoked_before = GREATEST(token_revocations.revoked_before, excluded.revoked_before)
       RETURNING revoked_before`,
      [userId, beforeS],
    );
    const now = Number(rows[0]!.revoked_before);
    return { result: now, events: [{ kind: "revocation", roomId: null, rev: null, userId }] };
  });
}

export async function tokensRevokedBefore(db: Queryable, userId: string): Promise<number | null> {
  const rows = await read<{ revoked_before: string }>(
    db,
    "SELECT revoked_before FROM token_revocations WHERE user_id = $1",
    [userId],
  );
  return rows[0] ? Number(rows[0].revoked_before) : null;
}

/**
 * The secret called `name`, made on first use: 32 random bytes as base64url. Nodes starting
 * together agree, since only the first insert wins and everyone reads the row back.
 */
export async function serverSecret(db: Queryable, name: string): Promise<string> {
  // two statements: the SELECT's snapshot is taken after the INSERT, so it also sees a row that a
  // node racing with this one committed while the INSERT waited for it
  await read(
    db,
    "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
    [name, randomBytes(32).toString("base64url"), new Date().toISOString()],
  );
  const rows = await read<{ value: string }>(db, "SELECT value FROM server_secrets WHERE name = $1", [name]);
  return rows[0]!.value;
}
