/**
 * (v2.4) Retention, erasure and the audit log in SQLite. Reads go straight to the database (they
 * only pick what a later delete, through the write queue, acts on); writes go through the queue.
 * The audit log has an insert and reads, and nothing else: it is append-only by construction.
 */
import { notFound } from "../../errors.js";
import type { Message } from "../../protocol/index.js";
import type { AuditEntry, AuditInput, AuditQuery, ExpiryQuery } from "../retention.js";
import type { SqliteDatabase } from "./open.js";
import { MESSAGE_COLUMNS, type MessageRow, toMessage } from "./rows.js";
import type { WriteQueue } from "./write-queue.js";

interface AuditRow {
  id: number;
  at: string;
  action: string;
  target: string;
  details: string;
}

export class RetentionRecords {
  private readonly roomExists;
  private readonly upsert;
  private readonly clear;
  private readonly all;
  private readonly inRoom;
  private readonly everywhereBut;
  private readonly bySender;
  private readonly insertAudit;
  private readonly audit;

  constructor(
    db: SqliteDatabase,
    private readonly queue: WriteQueue,
  ) {
    this.roomExists = db.prepare("SELECT 1 FROM rooms WHERE id = ?").pluck();
    this.upsert = db.prepare(
      "INSERT INTO room_retention (room_id, days) VALUES (?, ?) ON CONFLICT (room_id) DO UPDATE SET days = excluded.days",
    );
    this.clear = db.prepare("DELETE FROM room_retention WHERE room_id = ?");
    this.all = db.prepare("SELECT room_id, days FROM room_retention");
    // both use the partial indexes of migration 11, so deleted messages are never scanned again
    this.inRoom = db
      .prepare(
        "SELECT id FROM messages WHERE room_id = ? AND deleted = 0 AND created_at < ? ORDER BY created_at LIMIT ?",
      )
      .pluck();
    this.everywhereBut = db
      .prepare(
        `SELECT id FROM messages WHERE deleted = 0 AND created_at < ?
         AND room_id NOT IN (SELECT value FROM json_each(?)) ORDER BY created_at LIMIT ?`,
      )
      .pluck();
    this.bySender = db.prepare(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.sender_id = ? AND m.id > ? AND m.deleted = 0 ORDER BY m.id LIMIT ?`,
    );
    this.insertAudit = db.prepare("INSERT INTO audit_log (at, action, target, details) VALUES (?, ?, ?, ?)");
    this.audit = db.prepare(
      "SELECT id, at, action, target, details FROM audit_log WHERE at >= ? AND id > ? ORDER BY at, id LIMIT ?",
    );
  }

  setRoomRetention(roomId: string, days: number | null): Promise<void> {
    return this.queue.run(() => {
      const id = Number(roomId);
      if (!Number.isSafeInteger(id) || this.roomExists.get(id) === undefined) throw notFound();
      if (days === null) this.clear.run(id);
      else this.upsert.run(id, days);
      return { result: undefined };
    });
  }

  roomRetentions(): ReadonlyMap<string, number> {
    const rows = this.all.all() as { room_id: number; days: number }[];
    return new Map(rows.map((r) => [String(r.room_id), r.days]));
  }

  expiredMessageIds(query: ExpiryQuery, limit: number): string[] {
    const ids =
      query.roomId !== undefined
        ? this.inRoom.all(Number(query.roomId), query.before, limit)
        : this.everywhereBut.all(
            query.before,
            JSON.stringify((query.exceptRoomIds ?? []).map(Number)),
            limit,
          );
    return (ids as number[]).map(String);
  }

  messagesOfSender(userId: string, afterId: string | null, limit: number): Message[] {
    const rows = this.bySender.all(userId, afterId === null ? 0 : Number(afterId), limit) as MessageRow[];
    return rows.map(toMessage);
  }

  appendAudit(entry: AuditInput): Promise<void> {
    return this.queue.run(() => {
      this.insertAudit.run(entry.at, entry.action, entry.target, JSON.stringify(entry.details));
      return { result: undefined };
    });
  }

  auditEntries(query: AuditQuery): AuditEntry[] {
    const rows = this.audit.all(
      query.since ?? "",
      query.afterId === undefined ? 0 : Number(query.afterId),
      query.limit,
    ) as AuditRow[];
    return rows.map((r) => ({
      id: String(r.id),
      at: r.at,
      action: r.action,
      target: r.target,
      details: JSON.parse(r.details) as Record<string, unknown>,
    }));
  }
}
