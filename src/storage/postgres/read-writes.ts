/**
 * Read-marker writes, one transaction each, kept apart from message writes so everything about
 * read markers in the store sits in one file. The same rules as the SQLite store
 * (../sqlite/read-writes.ts); the change is announced on the commit feed like any other.
 */
import type pg from "pg";
import { notFound } from "../../errors.js";
import { dbId } from "./ids.js";
import { transaction } from "./pool.js";

/**
 * Moves a member's read marker forward (never back, never past the last message). The member's
 * row lock is enough: a send in the room updates that row too, so the two take turns, and the
 * count of own messages is always taken against committed sends.
 */
export function markRead(pool: pg.Pool, roomId: string, userId: string, seq: number): Promise<number> {
  return transaction(pool, async (db) => {
    const id = dbId(roomId);
    if (id === null) throw notFound();
    const member = await db.query<{ read_seq: string }>(
      "SELECT read_seq FROM members WHERE room_id = $1 AND user_id = $2 FOR UPDATE",
      [id, userId],
    );
    const room = await db.query<{ last_seq: string }>(
      "SELECT last_seq FROM rooms WHERE id = $1 AND NOT closed",
      [id],
    );
    if (!member.rows[0] || !room.rows[0]) throw notFound();
    const readSeq = Number(member.rows[0].read_seq);
    const target = Math.min(seq, Number(room.rows[0].last_seq));
    if (target <= readSeq) return { result: readSeq };
    const own = await db.query<{ count: string }>(
      "SELECT COUNT(*) AS count FROM messages WHERE room_id = $1 AND sender_id = $2 AND seq > $3",
      [id, userId, target],
    );
    await db.query(
      "UPDATE members SET read_seq = $1, own_after_read = $2 WHERE room_id = $3 AND user_id = $4",
      [target, Number(own.rows[0]!.count), id, userId],
    );
    return { result: target, events: [{ kind: "read", roomId: id, rev: null, userId, seq: target }] };
  });
}
