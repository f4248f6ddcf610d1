/**
 * User bookkeeping: the name last seen for each user and when they were last online. Both are kept
 * in memory (loaded when the store opens) and written through the group-commit queue.
 */
import type { Statements } from "./statements.js";
import type { WriteQueue } from "./write-queue.js";

export class KnownUsers {
  private readonly names = new Map<string, string>();
  private readonly lastSeen = new Map<string, string>();

  constructor(
    private readonly s: Statements,
    private readonly queue: WriteQueue,
  ) {
    for (const row of this.s.knownUsers.all() as {
      id: string;
      name: string;
      last_seen_at: string | null;
    }[]) {
      if (row.name) this.names.set(row.id, row.name);
      if (row.last_seen_at) this.lastSeen.set(row.id, row.last_seen_at);
    }
  }

  userName(userId: string): string {
    return this.names.get(userId) ?? `User ${userId}`;
  }

  lastSeenAt(userId: string): string | null {
    return this.lastSeen.get(userId) ?? null;
  }

  async rememberUsers(users: readonly { id: string; name: string }[]): Promise<void> {
    const changed = users.filter((u) => this.names.get(u.id) !== u.name);
    if (changed.length === 0) return;
    // names are shown at once (callers such as the handshake don't wait for this write); a
    // failed write puts the old ones back, so the next call writes again
    const previous = changed.map((u) => this.names.get(u.id));
    for (const u of changed) this.names.set(u.id, u.name);
    try {
      await this.queue.run(() => {
        for (const u of changed) this.s.upsertName.run(u.id, u.name);
        return { result: undefined };
      });
    } catch (error) {
      changed.forEach((u, i) => {
        const old = previous[i];
        if (this.names.get(u.id) !== u.name) return;
        if (old === undefined) this.names.delete(u.id);
        else this.names.set(u.id, old);
      });
      throw error;
    }
  }

  async setLastSeen(userId: string, at: string): Promise<void> {
    // known at once, not only once durable: the "offline" presence event carrying this time is
    // already on its way, and a `presence:get` right after it must give the same time
    this.lastSeen.set(userId, at);
    await this.queue.run(() => {
      this.s.upsertLastSeen.run(userId, at);
      return { result: undefined };
    });
  }

  /** Reads a user's stored name when none is known here yet (a member of a room re-read from disk). */
  loadName(userId: string): void {
    if (this.names.has(userId)) return;
    const name = this.s.knownName.get(userId) as string | undefined;
    if (name) this.names.set(userId, name);
  }
}
