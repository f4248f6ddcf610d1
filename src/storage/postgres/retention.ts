/**
 * (v2.4) Retention, erasure and the audit log in PostgreSQL. The reads only pick what a later
 * delete acts on (each delete is its own short transaction). The audit log has an insert and
 * reads, and nothing else: it is append-only by construction.
 */
import type pg from "pg";
import { notFound } from "../../errors.js";
import type { Message } from "../../protocol/index.js";
import type { AuditEntry, AuditInput, AuditQuery, ExpiryQuery } from "../retention.js";
import { dbId } from "./ids.js";
import { type Queryable, read, statement } from "./pool.js";
import { MESSAGE_COLUMNS, type MessageRow, toMessage } from "./rows.js";

export async function setRoomRetention(pool: pg.Pool, roomId: string, days: number | null): Promise<void> {
  const id = dbId(roomId);
  const found = id === null ? [] : await read(pool, "SELECT 1 FROM rooms WHERE id = $1", [id]);
  if (found.length === 0) throw notFound();
  if (days === null) await statement(pool, "DELETE FROM room_retention WHERE room_id = $1", [id]);
  else {
    await statement(
      pool,
      "INSERT INTO room_retention (room_id, days) VALUES ($1, $2) ON CONFLICT (room_id) DO UPDATE SET days = excluded.days",
      [id, days],
    );
  }
}

export async function roomRetentions(db: Queryable): Promise<ReadonlyMap<string, number>> {
  const rows = await read<{ room_id: string; days: number }>(db, "SELECT room_id, days FROM room_retention");
  return new Map(rows.map((r) => [String(r.room_id), r.days]));
}

export async function expiredMessageIds(db: Queryable, query: ExpiryQuery, limit: number): Promise<string[]> {
  // both use the partial indexes of migration 12, so deleted messages are never scanned again
  const rows =
    query.roomId !== undefined
      ? await read<{ id: string }>(
          db,
          "SELECT id FROM messages WHERE room_id = $1 AND NOT deleted AND created_at < $2 ORDER BY created_at LIMIT $3",
          [dbId(query.roomId) ?? "0", query.before, limit],
        )
      : await read<{ id: string }>(
          db,
          "SELECT id FROM messages WHERE NOT deleted AND created_at < $1 AND NOT (room_id = ANY($2::bigint[])) ORDER BY created_at LIMIT $3",
          [query.before, (query.exceptRoomIds ?? []).map((r) => dbId(r) ?? "0"), limit],
        );
  return rows.map((r) => String(r.id));
}

export async function messagesOfSender(
  db: Queryable,
  userId: string,
  afterId: string | null,
  limit: number,
): Promise<Message[]> {
  const rows = await read<MessageRow>(
    db,
    `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.sender_id = $1 AND m.id > $2 AND NOT m.deleted ORDER BY m.id LIMIT $3`,
    [userId, afterId === null ? "0" : (dbId(afterId) ?? "0"), limit],
  );
  return rows.map(toMessage);
}

export async function appendAudit(pool: pg.Pool, entry: AuditInput): Promise<void> {
  await statement(pool, "INSERT INTO audit_log (at, action, target, details) VALUES ($1, $2, $3, $4)", [
    entry.at,
    entry.action,
    entry.target,
    JSON.stringify(entry.details),
  ]);
}

export async function auditEntries(db: Queryable, query: AuditQuery): Promise<AuditEntry[]> {
  const rows = await read<{ id: string; at: string; action: string; target: string; details: string }>(
    db,
    "SELECT id, at, action, target, details FROM audit_log WHERE at >= $1 AND id > $2 ORDER BY at, id LIMIT $3",
    [query.since ?? "", query.afterId === undefined ? "0" : (dbId(query.afterId) ?? "0"), query.limit],
  );
  return rows.map((r) => ({
    id: String(r.id),
    at: r.at,
    action: r.action,
    target: r.target,
    details: JSON.parse(r.details) as Record<string, unknown>,
  }));
}
