/**
 * Row locks on rooms: the only way a write takes a room's counters. A room's `last_seq` and
 * `rev` are read and raised under its row lock (SELECT ... FOR UPDATE), so two nodes writing to
 * one room take turns and its seq and rev have no gaps and no repeats; a write that touches
 * several rooms locks them in id order, so two such writes can never wait for each other.
 */
import type pg from "pg";
import { dbId } from "./ids.js";

export interface LockedRoom {
  id: string;
  lastSeq: number;
  rev: number;
}

/**
 * Locks the open rooms among `roomIds`, in ascending id order (the ORDER BY is applied before the
 * rows are locked), and returns their counters. Closed or unknown rooms are left out.
 */
export async function lockRooms(
  client: pg.PoolClient,
  roomIds: readonly string[],
): Promise<Map<string, LockedRoom>> {
  const ids = [...new Set(roomIds.map(dbId).filter((id) => id !== null))];
  const locked = new Map<string, LockedRoom>();
  if (ids.length === 0) return locked;
  const { rows } = await client.query<{ id: string; last_seq: string; rev: string }>(
    "SELECT id, last_seq, rev FROM rooms WHERE id = ANY($1::bigint[]) AND NOT closed ORDER BY id FOR UPDATE",
    [ids],
  );
  for (const row of rows) {
    locked.set(String(row.id), { id: String(row.id), lastSeq: Number(row.last_seq), rev: Number(row.rev) });
  }
  return locked;
}

/** Locks one open room; undefined when it is closed or unknown. */
export async function lockRoom(client: pg.PoolClient, roomId: string): Promise<LockedRoom | undefined> {
  return (await lockRooms(client, [roomId])).values().next().value;
}
