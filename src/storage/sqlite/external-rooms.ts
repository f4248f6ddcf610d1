/**
 * Group rooms mirrored from the PHP app (teams, departments, projects) by an external key such as
 * `team:42`. One sync makes the room match what the PHP app says: it is created or reopened,
 * renamed, and its member list and roles set. Runs inside one write of the group-commit queue, so
 * two syncs of the same key can never create two rooms.
 */
import type { Role } from "../../protocol/index.js";
import { planRoles } from "../group-roles.js";
import type { SqliteDatabase } from "./open.js";

/** What the PHP app says a mirrored room should be. */
export interface GroupSync {
  externalKey: string;
  name: string;
  /** everyone in the room, in the order they should join (the first is the owner by default) */
  memberIds: readonly string[];
  /** null: keep the current owner while they stay, else the longest-standing admin or member */
  ownerId: string | null;
  /** null: keep the roles members have */
  adminIds: readonly string[] | null;
  /** a record's room (src/storage/records.ts): its link back to the record; absent for a team */
  recordUrl?: string | undefined;
  at: string;
}

export interface GroupSyncResult {
  roomId: string;
  created: boolean;
  /** anything at all changed (nothing does when the same sync is repeated) */
  changed: boolean;
  added: string[];
  removed: string[];
}

export function prepareExternalRooms(db: SqliteDatabase) {
  const p = (sql: string) => db.prepare(sql);
  const s = {
    byKey: p(
      "SELECT id, name, closed, last_seq, record_url FROM rooms WHERE external_key = ? AND type = 'group'",
    ),
    openByKey: p("SELECT id FROM rooms WHERE external_key = ? AND closed = 0").pluck(),
    insertRoom: p(
      `INSERT INTO rooms (type, name, external_key, record_url, created_at, last_activity_at) VALUES ('group', ?, ?, ?, ?, ?)`,
    ),
    setUrl: p("UPDATE rooms SET record_url = ? WHERE id = ?"),
    reopen: p("UPDATE rooms SET closed = 0 WHERE id = ?"),
    rename: p("UPDATE rooms SET name = ? WHERE id = ?"),
    members: p("SELECT user_id, role FROM members WHERE room_id = ? ORDER BY join_order"),
    insertMember: p(
      `INSERT INTO members (room_id, user_id, role, joined_at, join_order, read_seq)
       VALUES (?, ?, 'member', ?, (SELECT COALESCE(MAX(join_order), 0) + 1 FROM members WHERE room_id = ?), ?)
       ON CONFLICT (room_id, user_id) DO NOTHING`,
    ),
    deleteMember: p("DELETE FROM members WHERE room_id = ? AND user_id = ?"),
    setRole: p("UPDATE members SET role = ? WHERE room_id = ? AND user_id = ?"),
  };

  return {
    /** The open room with this key, if any. */
    openRoomId(externalKey: string): string | null {
      const id = s.openByKey.get(externalKey) as number | undefined;
      return id === undefined ? null : String(id);
    },

    /** Makes the room match `input`; call inside a write-queue operation. */
    sync(input: GroupSync): GroupSyncResult {
      const existing = s.byKey.get(input.externalKey) as
        | { id: number; name: string; closed: number; last_seq: number; record_url: string | null }
        | undefined;
      const url = input.recordUrl ?? null;
      let changed = false;
      let roomId: number;
      let readSeq = 0;
      if (existing) {
        roomId = existing.id;
        readSeq = existing.last_seq;
        if (existing.closed) changed = s.reopen.run(roomId).changes > 0;
        if (existing.name !== input.name) changed = s.rename.run(input.name, roomId).changes > 0 || changed;
        if (existing.record_url !== url) changed = s.setUrl.run(url, roomId).changes > 0 || changed;
      } else {
        roomId = Number(
          s.insertRoom.run(input.name, input.externalKey, url, input.at, input.at).lastInsertRowid,
        );
        changed = true;
      }

      const before = new Map(
        (s.members.all(roomId) as { user_id: string; role: Role }[]).map((m) => [m.user_id, m.role]),
      );
      const wanted = new Set(input.memberIds);
      const removed = [...before.keys()].filter((id) => !wanted.has(id));
      for (const id of removed) s.deleteMember.run(roomId, id);
      // newcomers start with the history read, as with room:addMembers
      const added = [...wanted].filter((id) => !before.has(id));
      for (const id of added) s.insertMember.run(roomId, id, input.at, roomId, readSeq);

      const order = (s.members.all(roomId) as { user_id: string; role: Role }[]).map((m) => m.user_id);
      const changes = planRoles(input, before, order);
      for (const { userId, role } of changes) s.setRole.run(role, roomId, userId);
      const roleChanges = changes.filter((c) => c.existing).length;
      changed = changed || added.length > 0 || removed.length > 0 || roleChanges > 0;
      return { roomId: String(roomId), created: !existing, changed, added, removed };
    },
  };
}

export type ExternalRooms = ReturnType<typeof prepareExternalRooms>;
