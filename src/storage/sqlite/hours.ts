/**
 * (v2.4) Working hours, quiet hours and urgent messages in SQLite (see ../hours.ts). Reads go
 * straight to the database; writes go through the write queue. A user's row goes once they have
 * neither a schedule nor quiet hours, so `hoursOf` only finds users something applies to.
 */
import type { QuietHours, WorkSchedule } from "../../protocol/index.js";
import { parseHours, type UrgentEntry, type UrgentQuery, type UserHours } from "../hours.js";
import type { SqliteDatabase } from "./open.js";
import type { WriteQueue } from "./write-queue.js";

interface HoursRow {
  user_id: string;
  schedule: string | null;
  quiet_hours: string | null;
}

export class HoursRecords {
  private readonly upsertSchedule;
  private readonly upsertQuiet;
  private readonly dropEmpty;
  private readonly ofUsers;
  private readonly insertUrgent;
  private readonly urgent;

  constructor(
    db: SqliteDatabase,
    private readonly queue: WriteQueue,
  ) {
    this.upsertSchedule = db.prepare(
      `INSERT INTO user_hours (user_id, schedule, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET schedule = excluded.schedule, updated_at = excluded.updated_at`,
    );
    this.upsertQuiet = db.prepare(
      `INSERT INTO user_hours (user_id, quiet_hours, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET quiet_hours = excluded.quiet_hours, updated_at = excluded.updated_at`,
    );
    this.dropEmpty = db.prepare(
      "DELETE FROM user_hours WHERE user_id = ? AND schedule IS NULL AND quiet_hours IS NULL",
    );
    this.ofUsers = db.prepare(
      "SELECT user_id, schedule, quiet_hours FROM user_hours WHERE user_id IN (SELECT value FROM json_each(?))",
    );
    this.insertUrgent = db.prepare(
      "INSERT OR IGNORE INTO urgent_messages (message_id, room_id, sender_id, at) VALUES (?, ?, ?, ?)",
    );
    this.urgent = db.prepare(
      "SELECT message_id, room_id, sender_id, at FROM urgent_messages WHERE at >= ? ORDER BY at, message_id LIMIT ?",
    );
  }

  setSchedule(userId: string, schedule: WorkSchedule | null, at: string): Promise<void> {
    return this.queue.run(() => {
      this.upsertSchedule.run(userId, schedule === null ? null : JSON.stringify(schedule), at);
      this.dropEmpty.run(userId);
      return { result: undefined };
    });
  }

  setQuietHours(userId: string, quietHours: QuietHours | null, at: string): Promise<void> {
    return this.queue.run(() => {
      this.upsertQuiet.run(userId, quietHours === null ? null : JSON.stringify(quietHours), at);
      this.dropEmpty.run(userId);
      return { result: undefined };
    });
  }

  hoursOf(userIds: readonly string[]): ReadonlyMap<string, UserHours> {
    if (userIds.length === 0) return new Map();
    const rows = this.ofUsers.all(JSON.stringify(userIds)) as HoursRow[];
    return new Map(
      rows.map((r) => [
        r.user_id,
        { schedule: parseHours<WorkSchedule>(r.schedule), quietHours: parseHours<QuietHours>(r.quiet_hours) },
      ]),
    );
  }

  recordUrgent(entry: UrgentEntry): Promise<void> {
    return this.queue.run(() => {
      this.insertUrgent.run(Number(entry.messageId), Number(entry.roomId), entry.senderId, entry.at);
      return { result: undefined };
    });
  }

  urgentMessages(query: UrgentQuery): UrgentEntry[] {
    const rows = this.urgent.all(query.since ?? "", query.limit) as {
      message_id: number;
      room_id: number;
      sender_id: string;
      at: string;
    }[];
    return rows.map((r) => ({
      messageId: String(r.message_id),
      roomId: String(r.room_id),
      senderId: r.sender_id,
      at: r.at,
    }));
  }
}
