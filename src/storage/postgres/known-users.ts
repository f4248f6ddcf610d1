/**
 * User bookkeeping shared by all nodes: the name last seen for each user, when they were last
 * online, and token revocations. Read from the database each time, so a revocation made on one
 * node holds on every node at once.
 */
import { randomBytes } from "node:crypto";
import type pg from "pg";
import { type Queryable, read, statement, transaction } from "./pool.js";

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

/**
 * Names this node wrote lately, so a reconnect storm (every socket of every user at once) does not
 * write each user's unchanged name again per socket: without it each handshake queued a write on
 * the pool, and 2,000 of them waited past the pool's connection timeout. Entries expire, so a
 * name another node changed meanwhile is written again within WRITTEN_FOR_MS.
 */
export class RecentNames {
  private readonly written = new Map<string, { name: string; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The users whose name this node has not written within WRITTEN_FOR_MS. */
  unwritten(users: readonly { id: string; name: string }[]): { id: string; name: string }[] {
    const now = this.now();
    return users.filter((u) => {
      const seen = this.written.get(u.id);
      return !seen || seen.name !== u.name || now - seen.at > WRITTEN_FOR_MS;
    });
  }

  /** Marks the names as written (before the write, so handshakes of the same moment skip it too). */
  wrote(users: readonly { id: string; name: string }[]): void {
    const at = this.now();
    for (const u of users) {
      this.written.delete(u.id); // re-inserted last: the Map's order is the eviction order
      this.written.set(u.id, { name: u.name, at });
    }
    for (const id of this.written.keys()) {
      if (this.written.size <= MAX_RECENT_NAMES) break;
      this.written.delete(id);
    }
  }

  /** The write failed: the next call writes them again. */
  failed(users: readonly { id: string; name: string }[]): void {
    for (const u of users) if (this.written.get(u.id)?.name === u.name) this.written.delete(u.id);
  }
}
const WRITTEN_FOR_MS = 5 * 60_000;
const MAX_RECENT_NAMES = 50_000;

export async function rememberUsers(
  pool: pg.Pool,
  users: readonly { id: string; name: string }[],
  recent: RecentNames,
): Promise<void> {
  const changed = recent.unwritten(users);
  if (changed.length === 0) return;
  recent.wrote(changed);
  try {
    // one autocommit statement for all (one round trip); a name that didn't change is not rewritten
    await statement(
      pool,
      `INSERT INTO known_users (id, name) SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT (id) DO UPDATE SET name = excluded.name WHERE known_users.name IS DISTINCT FROM excluded.name`,
      [changed.map((u) => u.id), changed.map((u) => u.name)],
    );
  } catch (error) {
    recent.failed(changed);
    throw error;
  }
}

export async function setLastSeen(pool: pg.Pool, userId: string, at: string): Promise<void> {
  // one autocommit statement: every user going offline at once (a node stopping) writes one each
  await statement(
    pool,
    `INSERT INTO known_users (id, name, last_seen_at) VALUES ($1, '', $2)
     ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at`,
    [userId, at],
  );
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
