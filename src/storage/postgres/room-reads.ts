/**
 * Room reads, straight from the shared database: every node answers as of the latest commit on
 * any node, so access decided from them (membership, roles) is never stale.
 */
import type { Role } from "../../protocol/index.js";
import type { StoredRoom } from "../chat-store.js";
import { dbId } from "./ids.js";
import { type Queryable, read } from "./pool.js";
import { ROOM_QUERY, type RoomRow, toStoredRoom } from "./rows.js";

/** An open room, or undefined. */
export async function loadRoom(db: Queryable, roomId: string): Promise<StoredRoom | undefined> {
  const id = dbId(roomId);
  if (id === null) return undefined;
  const rows = await read<RoomRow>(db, `${ROOM_QUERY} WHERE r.id = $1 AND NOT r.closed`, [id]);
  return rows[0] ? toStoredRoom(rows[0]) : undefined;
}

/** The user's role in an open room, or undefined: one narrow read, for access checks on every send. */
export async function loadMembership(
  db: Queryable,
  roomId: string,
  userId: string,
): Promise<Role | undefined> {
  const id = dbId(roomId);
  if (id === null) return undefined;
  const rows = await read<{ role: Role }>(
    db,
    "SELECT mb.role FROM members mb JOIN rooms r ON r.id = mb.room_id WHERE mb.room_id = $1 AND mb.user_id = $2 AND NOT r.closed",
    [id, userId],
  );
  return rows[0]?.role;
}

/** The open rooms a user is a member of, in id order. */
export async function loadRoomsOf(db: Queryable, userId: string): Promise<StoredRoom[]> {
  const rows = await read<RoomRow>(
    db,
    `${ROOM_QUERY} WHERE NOT r.closed AND r.id IN (SELECT room_id FROM members WHERE user_id = $1) ORDER BY r.id`,
    [userId],
  );
  return rows.map(toStoredRoom);
}

/** The ids of the open rooms a user is a member of. */
export async function loadRoomIdsOf(db: Queryable, userId: string): Promise<ReadonlySet<string>> {
  const rows = await read<{ id: string }>(
    db,
    "SELECT r.id FROM members mb JOIN rooms r ON r.id = mb.room_id WHERE mb.user_id = $1 AND NOT r.closed",
    [userId],
  );
  return new Set(rows.map((r) => String(r.id)));
}

/** The open room mirrored under an external key, or undefined. */
export async function loadRoomByExternalKey(
  db: Queryable,
  externalKey: string,
): Promise<StoredRoom | undefined> {
  const rows = await read<RoomRow>(db, `${ROOM_QUERY} WHERE r.external_key = $1 AND NOT r.closed`, [
    externalKey,
  ]);
  return rows[0] ? toStoredRoom(rows[0]) : undefined;
}
