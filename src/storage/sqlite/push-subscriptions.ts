/**
 * (v2.3) Web Push subscriptions (../push.ts) on SQLite. Read straight from the database; written
 * through the store's write queue like every other write, so the count and the insert of one
 * save happen in one transaction.
 */
import type { PushSubscriptionRecord, SubscribeOutcome } from "../push.js";
import type { SqliteDatabase } from "./open.js";
import type { WriteQueue } from "./write-queue.js";

interface Row {
  user_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  created_at: string;
}

const toRecord = (r: Row): PushSubscriptionRecord => ({
  userId: r.user_id,
  endpoint: r.endpoint,
  p256dh: r.p256dh,
  auth: r.auth,
  createdAt: r.created_at,
});

export class PushSubscriptions {
  private readonly exists;
  private readonly countOthers;
  private readonly upsert;
  private readonly removeOwn;
  private readonly removeAny;
  private readonly ofUsers;

  constructor(
    db: SqliteDatabase,
    private readonly queue: WriteQueue,
  ) {
    this.exists = db.prepare("SELECT 1 FROM push_subscriptions WHERE endpoint = ?").pluck();
    this.countOthers = db
      .prepare("SELECT COUNT(*) FROM push_subscriptions WHERE user_id = ? AND endpoint <> ?")
      .pluck();
    this.upsert = db.prepare(
      `INSERT INTO push_subscriptions (endpoint, user_id, p256dh, auth, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth`,
    );
    this.removeOwn = db.prepare("DELETE FROM push_subscriptions WHERE endpoint = ? AND user_id = ?");
    this.removeAny = db.prepare("DELETE FROM push_subscriptions WHERE endpoint = ?");
    this.ofUsers = db.prepare(
      `SELECT user_id, endpoint, p256dh, auth, created_at FROM push_subscriptions
       WHERE user_id IN (SELECT value FROM json_each(?)) ORDER BY user_id, created_at, endpoint`,
    );
  }

  save(sub: PushSubscriptionRecord, maxPerUser: number): Promise<SubscribeOutcome> {
    return this.queue.run(() => {
      if (Number(this.countOthers.get(sub.userId, sub.endpoint)) >= maxPerUser) return { result: "full" };
      const known = this.exists.get(sub.endpoint) !== undefined;
      this.upsert.run(sub.endpoint, sub.userId, sub.p256dh, sub.auth, sub.createdAt);
      return { result: known ? "renewed" : "added" };
    });
  }

  remove(userId: string, endpoint: string): Promise<boolean> {
    return this.queue.run(() => ({ result: this.removeOwn.run(endpoint, userId).changes > 0 }));
  }

  forget(endpoint: string): Promise<void> {
    return this.queue.run(() => {
      this.removeAny.run(endpoint);
      return { result: undefined };
    });
  }

  of(userIds: readonly string[]): PushSubscriptionRecord[] {
    if (userIds.length === 0) return [];
    return (this.ofUsers.all(JSON.stringify(userIds)) as Row[]).map(toRecord);
  }
}
