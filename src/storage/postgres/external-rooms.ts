/**
 * Group rooms mirrored from the PHP app (teams, departments, projects) by an external key such as
 * `team:42`. One sync makes the room match what the PHP app says, with the same rules as the
 * SQLite store (../sqlite/external-rooms.ts). Two nodes may sync the same key at once: an
 * advisory lock on the key makes them take turns, so a key never gets two rooms.
 */
import type pg from "pg";
import type { Role } from "../../protocol/index.js";
import type { GroupSync, GroupSyncResult, StoredRoom } from "../chat-store.js";
import { planRoles } from "../group-roles.js";
import { lockRoom } from "./locks.js";
import { transaction } from "./pool.js";
import { INSERT_MEMBER, mustRoom, roomEvent } from "./room-writes.js";

export function syncGroup(pool: pg.Pool, input: GroupSync): Promise<GroupSyncResult & { room: StoredRoom }> {
  return transaction(pool, async (db) => {
    await db.query("SELECT pg_advisory_xact_lock(hashtext('timewise_chat:external:' || $1))", [
      input.externalKey,
    ]);
    const existing = await db.query<{
      id: string;
      name: string;
      closed: boolean;
      last_seq: string;
      record_url: string | null;
    }>(
      "SELECT id, name, closed, last_seq, record_url FROM rooms WHERE external_key = $1 AND type = 'group' FOR UPDATE",
      [input.externalKey],
    );
    const found = existing.rows[0];
    const url = input.recordUrl ?? null;
    let changed = false;
    let roomId: string;
    let readSeq = 0;
    if (found) {
      roomId = String(found.id);
      readSeq = Number(found.last_seq);
      if (found.closed) {
        await db.query("UPDATE rooms SET closed = FALSE WHERE id = $1", [roomId]);
        changed = true;
      }
      if (found.name !== input.name) {
        await db.query("UPDATE rooms SET name = $1 WHERE id = $2", [input.name, roomId]);
        changed = true;
      }
      if (found.record_url !== url) {
        await db.query("UPDATE rooms SET record_url = $1 WHERE id = $2", [url, roomId]);
        changed = true;
      }
    } else {
      const { rows } = await db.query<{ id: string }>(
        `INSERT INTO rooms (type, name, external_key, record_url, created_at, last_activity_at)
         VALUES ('group', $1, $2, $3, $4, $4) RETURNING id`,
        [input.name, input.externalKey, url, input.at],
      );
      roomId = String(rows[0]!.id);
      changed = true;
    }
    // held from here on like every room write (the row is already locked when it existed)
    await lockRoom(db, roomId);

    const membersNow = async () =>
      (
        await db.query<{ user_id: string; role: Role }>(
          "SELECT user_id, role FROM members WHERE room_id = $1 ORDER BY join_order",
          [roomId],
        )
      ).rows;
    const before = new Map((await membersNow()).map((m) => [m.user_id, m.role]));
    const wanted = new Set(input.memberIds);
    const removed = [...before.keys()].filter((id) => !wanted.has(id));
    for (const id of removed)
      await db.query("DELETE FROM members WHERE room_id = $1 AND user_id = $2", [roomId, id]);
    // newcomers start with the history read, as with room:addMembers
    const added = [...wanted].filter((id) => !before.has(id));
    for (const id of added) await db.query(INSERT_MEMBER, [roomId, id, "member", input.at, readSeq]);

    const order = (await membersNow()).map((m) => m.user_id);
    const changes = planRoles(input, before, order);
    for (const { userId, role } of changes) {
      await db.query("UPDATE members SET role = $1 WHERE room_id = $2 AND user_id = $3", [
        role,
        roomId,
        userId,
      ]);
    }
    const roleChanges = changes.filter((c) => c.existing).length;
    changed = changed || added.length > 0 || removed.length > 0 || roleChanges > 0;
    const room = await mustRoom(db, roomId);
    return {
      result: { roomId, created: !found, changed, added, removed, room },
      events: changed ? [roomEvent(room)] : [],
    };
  });
}
