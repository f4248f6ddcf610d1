/**
 * The in-memory mirror of open rooms and their members. It is rebuilt from the database at
 * start-up and updated only after commits, so authorization and room lists never query SQLite.
 */
import type { Role, RoomType } from "../../protocol/index.js";
import type { MemberState, StoredRoom } from "../chat-store.js";
import { recordOf } from "../records.js";
import type { SqliteDatabase } from "./open.js";
import { MESSAGE_COLUMNS, type MessageRow, toMessage } from "./rows.js";

interface RoomRow {
  id: number;
  type: RoomType;
  name: string | null;
  created_at: string;
  external_key: string | null;
  record_url: string | null;
  last_seq: number;
  rev: number;
  last_activity_at: string;
}

interface MemberRow {
  room_id: number;
  user_id: string;
  role: Role;
  joined_at: string;
  join_order: number;
  read_seq: number;
  own_after_read: number;
}

const ROOM_COLUMNS = "id, type, name, created_at, external_key, record_url, last_seq, rev, last_activity_at";
const MEMBER_COLUMNS = "room_id, user_id, role, joined_at, join_order, read_seq, own_after_read";

/** The statements that re-read one room, on some connection. */
export function prepareMirrorReads(db: SqliteDatabase) {
  return {
    roomById: db.prepare(`SELECT ${ROOM_COLUMNS} FROM rooms WHERE id = ? AND closed = 0`),
    membersOf: db.prepare(`SELECT ${MEMBER_COLUMNS} FROM members WHERE room_id = ?`),
    lastMessageOf: db.prepare(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.room_id = ? AND m.seq = ?`),
  };
}

export type MirrorReads = ReturnType<typeof prepareMirrorReads>;

export class RoomMirror {
  readonly rooms = new Map<string, StoredRoom>();
  private readonly byUser = new Map<string, Set<string>>();

  /**
   * `reads` gives the statements to re-read a room with: the durable snapshot while a later batch
   * is committed but not yet durable (durable-reads.ts), so the mirror never holds such a batch.
   */
  constructor(
    db: SqliteDatabase,
    private readonly reads: () => MirrorReads = fixedReads(db),
  ) {
    const rooms = db.prepare(`SELECT ${ROOM_COLUMNS} FROM rooms WHERE closed = 0`).all() as RoomRow[];
    for (const row of rooms) this.rooms.set(String(row.id), toStoredRoom(row));
    const members = db
      .prepare(
        `SELECT ${MEMBER_COLUMNS} FROM members JOIN rooms ON rooms.id = members.room_id WHERE rooms.closed = 0`,
      )
      .all() as MemberRow[];
    for (const row of members) {
      const room = this.rooms.get(String(row.room_id));
      if (!room) continue;
      room.members.set(row.user_id, toMemberState(row));
      this.link(row.user_id, room.id);
    }
    const lastMessages = db
      .prepare(
        `SELECT ${MESSAGE_COLUMNS} FROM rooms r JOIN messages m ON m.room_id = r.id AND m.seq = r.last_seq WHERE r.closed = 0`,
      )
      .all() as MessageRow[];
    for (const row of lastMessages) {
      const room = this.rooms.get(String(row.room_id));
      if (room) room.lastMessage = toMessage(row);
    }
  }

  roomIdsOf(userId: string): ReadonlySet<string> {
    return this.byUser.get(userId) ?? EMPTY;
  }

  /** Re-reads one room after a commit that changed it (rare: room operations only). */
  reload(roomId: string): StoredRoom | undefined {
    const old = this.rooms.get(roomId);
    for (const userId of old?.members.keys() ?? []) this.unlink(userId, roomId);
    this.rooms.delete(roomId);
    const reads = this.reads();
    const row = reads.roomById.get(Number(roomId)) as RoomRow | undefined;
    if (!row) return undefined;
    const room = toStoredRoom(row);
    for (const m of reads.membersOf.all(Number(roomId)) as MemberRow[]) {
      room.members.set(m.user_id, toMemberState(m));
      this.link(m.user_id, roomId);
    }
    const last = reads.lastMessageOf.get(Number(roomId), row.last_seq) as MessageRow | undefined;
    room.lastMessage = last ? toMessage(last) : null;
    this.rooms.set(roomId, room);
    return room;
  }

  private link(userId: string, roomId: string): void {
    const set = this.byUser.get(userId);
    if (set) set.add(roomId);
    else this.byUser.set(userId, new Set([roomId]));
  }

  private unlink(userId: string, roomId: string): void {
    const set = this.byUser.get(userId);
    set?.delete(roomId);
    if (set?.size === 0) this.byUser.delete(userId);
  }
}

const EMPTY: ReadonlySet<string> = new Set();

function fixedReads(db: SqliteDatabase): () => MirrorReads {
  const reads = prepareMirrorReads(db);
  return () => reads;
}

function toStoredRoom(row: RoomRow): StoredRoom {
  return {
    id: String(row.id),
    type: row.type,
    name: row.name,
    createdAt: row.created_at,
    externalKey: row.external_key,
    record: recordOf(row.external_key, row.name, row.record_url),
    lastSeq: row.last_seq,
    rev: row.rev,
    lastActivityAt: row.last_activity_at,
    lastMessage: null,
    members: new Map<string, MemberState>(),
  };
}

function toMemberState(row: MemberRow): MemberState {
  return {
    userId: row.user_id,
    role: row.role,
    joinedAt: row.joined_at,
    joinOrder: row.join_order,
    readSeq: row.read_seq,
    ownAfterRead: row.own_after_read,
  };
}
