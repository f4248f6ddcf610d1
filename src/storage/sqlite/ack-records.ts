/**
 * (v2.4) The recipients of notices that must be acknowledged (../acks.ts), on SQLite. Read straight
 * from the database; written through the store's write queue like every other write.
 */
import type { AckRecord } from "../acks.js";
import type { SqliteDatabase } from "./open.js";
import type { WriteQueue } from "./write-queue.js";

export class AckRecords {
  private readonly insert;
  private readonly ack;
  private readonly one;
  private readonly ofMessages;

  constructor(
    db: SqliteDatabase,
    private readonly queue: WriteQueue,
  ) {
    this.insert = db.prepare(
      "INSERT OR IGNORE INTO message_acks (message_id, user_id) SELECT ?, value FROM json_each(?)",
    );
    // only a pending row changes: a second acknowledgement keeps the first time
    this.ack = db.prepare(
      "UPDATE message_acks SET acked_at = ? WHERE message_id = ? AND user_id = ? AND acked_at IS NULL",
    );
    this.one = db.prepare("SELECT acked_at FROM message_acks WHERE message_id = ? AND user_id = ?");
    this.ofMessages = db.prepare(
      `SELECT message_id, user_id, acked_at FROM message_acks
       WHERE message_id IN (SELECT value FROM json_each(?)) ORDER BY message_id, user_id`,
    );
  }

  requestAcks(messageId: string, userIds: readonly string[]): Promise<void> {
    return this.queue.run(() => {
      this.insert.run(Number(messageId), JSON.stringify(userIds));
      return { result: undefined };
    });
  }

  acknowledge(
    messageId: string,
    userId: string,
    at: string,
  ): Promise<{ at: string; changed: boolean } | undefined> {
    return this.queue.run(() => {
      const changed = this.ack.run(at, Number(messageId), userId).changes > 0;
      const row = this.one.get(Number(messageId), userId) as { acked_at: string | null } | undefined;
      return { result: row?.acked_at ? { at: row.acked_at, changed } : undefined };
    });
  }

  acksOf(messageIds: readonly string[]): ReadonlyMap<string, AckRecord[]> {
    const acks = new Map<string, AckRecord[]>();
    if (messageIds.length === 0) return acks;
    const rows = this.ofMessages.all(JSON.stringify(messageIds.map(Number))) as {
      message_id: number;
      user_id: string;
      acked_at: string | null;
    }[];
    for (const row of rows) {
      const id = String(row.message_id);
      const list = acks.get(id) ?? [];
      list.push({ userId: row.user_id, at: row.acked_at });
      acks.set(id, list);
    }
    return acks;
  }
}
