/**
 * Room writes: opening direct rooms, creating groups, renaming, members and their roles. Each is
 * one transaction that locks the room's row first (locks.ts), so membership changes on two nodes
 * take turns; the room is read back inside the same transaction, so the answer is exactly what
 * this write committed. Same rules as the SQLite store (../sqlite/room-writes.ts).
 */
import type pg from "pg";
import { notFound } from "../../errors.js";
import type { Role } from "../../protocol/index.js";
import type { ChatStore, RemovalResult, StoredRoom } from "../chat-store.js";
import type { FeedEvent } from "./feed.js";
import { type LockedRoom, lockRoom } from "./locks.js";
import { transaction, type WriteOutcome } from "./pool.js";
import { loadRoom } from "./room-reads.js";

/** Adds a member at the end of the joining order; a member already there is left as they are. */
export const INSERT_MEMBER = `
  INSERT INTO members (room_id, user_id, role, joined_at, join_order, read_seq)
  VALUES ($1, $2, $3, $4, (SELECT COALESCE(MAX(join_order), 0) + 1 FROM members WHERE room_id = $1), $5)
  ON CONFLICT (room_id, user_id) DO NOTHING`;

const INSERT_ROOM = `
  INSERT INTO rooms (type, name, direct_key, external_key, created_at, last_activity_at)
  VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING RETURNING id`;

/** The room as this transaction sees it; it exists, since the transaction holds its lock. */
export async function mustRoom(db: pg.PoolClient, roomId: string): Promise<StoredRoom> {
  const room = await loadRoom(db, roomId);
  if (!room) throw notFound();
  return room;
}

export const roomEvent = (room: { id: string; rev: number }, userId?: string): FeedEvent =>
  userId === undefined
    ? { kind: "room", roomId: room.id, rev: room.rev }
    : { kind: "room", roomId: room.id, rev: room.rev, userId };

export function openDirect(
  pool: pg.Pool,
  a: string,
  b: string,
  at: string,
): Promise<{ room: StoredRoom; created: boolean }> {
  const key = [a, b].sort((x, y) => Number(x) - Number(y)).join(":");
  return transaction<{ room: StoredRoom; created: boolean }>(pool, async (db) => {
    // ON CONFLICT: when two nodes open the same pair at once, the second waits for the first's
    // commit and then finds its room
    const inserted = await db.query<{ id: string }>(INSERT_ROOM, ["direct", null, key, null, at]);
    if (inserted.rows[0]) {
      const roomId = String(inserted.rows[0].id);
      for (const userId of [a, b]) await db.query(INSERT_MEMBER, [roomId, userId, "member", at, 0]);
      const room = await mustRoom(db, roomId);
      return { result: { room, created: true }, events: [roomEvent(room)] };
    }
    const { rows } = await db.query<{ id: string }>("SELECT id FROM rooms WHERE direct_key = $1", [key]);
    // a direct room is never closed (its members can't leave it), so it is always found
    return { result: { room: await mustRoom(db, String(rows[0]!.id)), created: false } };
  });
}

/** A group to create: `ChatStore.createGroup`'s input. */
type NewGroup = Parameters<ChatStore["createGroup"]>[0];

export function createGroup(pool: pg.Pool, input: NewGroup): Promise<StoredRoom> {
  return transaction(pool, async (db) => {
    const { name, ownerId, at } = input;
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO rooms (type, name, direct_key, external_key, created_at, last_activity_at)
       VALUES ('group', $1, NULL, $2, $3, $3) RETURNING id`,
      [name, input.externalKey ?? null, at],
    );
    const roomId = String(rows[0]!.id);
    await db.query(INSERT_MEMBER, [roomId, ownerId, "owner", at, 0]);
    for (const userId of input.memberIds) {
      if (userId !== ownerId) await db.query(INSERT_MEMBER, [roomId, userId, "member", at, 0]);
    }
    const room = await mustRoom(db, roomId);
    return { result: room, events: [roomEvent(room)] };
  });
}

/** A room operation: locks the room (NOT_FOUND when closed), writes, reads the room back. */
function roomWrite<T>(
  pool: pg.Pool,
  roomId: string,
  write: (db: pg.PoolClient, room: LockedRoom) => Promise<WriteOutcome<T>>,
): Promise<T> {
  return transaction(pool, async (db) => {
    const room = await lockRoom(db, roomId);
    if (!room) throw notFound();
    return write(db, room);
  });
}

export function rename(pool: pg.Pool, roomId: string, name: string): Promise<StoredRoom> {
  return roomWrite(pool, roomId, async (db, locked) => {
    await db.query("UPDATE rooms SET name = $1 WHERE id = $2", [name, locked.id]);
    const room = await mustRoom(db, locked.id);
    return { result: room, events: [roomEvent(room)] };
  });
}

export function addMembers(
  pool: pg.Pool,
  roomId: string,
  userIds: readonly string[],
  at: string,
): Promise<{ room: StoredRoom; added: string[] }> {
  return roomWrite(pool, roomId, async (db, locked) => {
    const added: string[] = [];
    // newcomers start with the history read
    for (const userId of userIds) {
      const r = await db.query(INSERT_MEMBER, [locked.id, userId, "member", at, locked.lastSeq]);
      if ((r.rowCount ?? 0) > 0) added.push(userId);
    }
    const room = await mustRoom(db, locked.id);
    return { result: { room, added }, events: added.length > 0 ? [roomEvent(room)] : [] };
  });
}

export function setRole(pool: pg.Pool, roomId: string, userId: string, role: Role): Promise<StoredRoom> {
  return roomWrite(pool, roomId, async (db, locked) => {
    await db.query("UPDATE members SET role = $1 WHERE room_id = $2 AND user_id = $3", [
      role,
      locked.id,
      userId,
    ]);
    const room = await mustRoom(db, locked.id);
    return { result: room, events: [roomEvent(room, userId)] };
  });
}

/** Removes a member; an owner leaving hands ownership on; the last one out closes the room. */
export function removeMember(pool: pg.Pool, roomId: string, userId: string): Promise<RemovalResult> {
  return roomWrite<RemovalResult>(pool, roomId, async (db, locked) => {
    const member = await db.query<{ role: Role }>(
      "DELETE FROM members WHERE room_id = $1 AND user_id = $2 RETURNING role",
      [locked.id, userId],
    );
    if (!member.rows[0]) throw notFound();
    // the longest-standing admin, else the longest-standing member
    const next = await db.query<{ user_id: string }>(
      "SELECT user_id FROM members WHERE room_id = $1 ORDER BY CASE role WHEN 'admin' THEN 0 ELSE 1 END, join_order LIMIT 1",
      [locked.id],
    );
    const event = roomEvent(locked, userId);
    if (!next.rows[0]) {
      await db.query("UPDATE rooms SET closed = TRUE WHERE id = $1", [locked.id]);
      return { result: { room: null, closed: true }, events: [event] };
    }
    if (member.rows[0].role === "owner") {
      await db.query("UPDATE members SET role = 'owner' WHERE room_id = $1 AND user_id = $2", [
        locked.id,
        next.rows[0].user_id,
      ]);
    }
    return { result: { room: await mustRoom(db, locked.id), closed: false }, events: [event] };
  });
}
