/**
 * How PostgreSQL rows become contract objects. BIGINT columns arrive as strings (pg keeps their
 * full range): ids stay strings, as on the wire; counters become numbers (safe below 2^53).
 */
import type { Message, Role, RoomType } from "../../protocol/index.js";
import type { MemberState, StoredRoom } from "../chat-store.js";
import { parseAttachedFiles } from "../files.js";
import { parseMentions } from "../mentions.js";
import { recordOf } from "../records.js";

/** The columns every message query selects, for the table aliased `m`. */
export const MESSAGE_COLUMNS =
  "m.id, m.room_id, m.seq, m.rev, m.sender_id, m.body, m.client_id, m.reply_to_id, m.created_at, m.edited_at, m.deleted, m.reactions, m.files, m.mentions, m.mentions_all";

export interface MessageRow {
  id: string;
  room_id: string;
  seq: string | number;
  rev: string | number;
  sender_id: string;
  body: string;
  client_id: string | null;
  reply_to_id: string | number | null;
  created_at: string;
  edited_at: string | null;
  deleted: boolean;
  reactions: string;
  /** JSON of the attached files (storage/files.ts) */
  files: string;
  /** JSON array of the mentioned user ids (storage/mentions.ts) */
  mentions: string;
  mentions_all: boolean;
}

export function toMessage(row: MessageRow): Message {
  return {
    id: String(row.id),
    roomId: String(row.room_id),
    seq: Number(row.seq),
    rev: Number(row.rev),
    senderId: row.sender_id,
    body: row.body,
    clientId: row.client_id,
    replyToId: row.reply_to_id === null ? null : String(row.reply_to_id),
    createdAt: row.created_at,
    editedAt: row.edited_at,
    deleted: row.deleted,
    reactions: JSON.parse(row.reactions) as Record<string, string[]>,
    files: parseAttachedFiles(row.files),
    mentions: parseMentions(row.mentions),
    mentionsAll: row.mentions_all,
  };
}

/**
 * One room with its members and last message, read by one statement (one snapshot, so the
 * members and counters always belong together). Members come as JSON arrays in joining order.
 */
export const ROOM_QUERY = `
  SELECT r.id, r.type, r.name, r.created_at, r.external_key, r.record_url, r.last_seq, r.rev, r.last_activity_at,
    COALESCE((
      SELECT json_agg(json_build_array(mb.user_id, mb.role, mb.joined_at, mb.join_order, mb.read_seq::text, mb.own_after_read::text) ORDER BY mb.join_order)
      FROM members mb WHERE mb.room_id = r.id
    ), '[]'::json) AS members,
    (SELECT row_to_json(last) FROM (
      SELECT m.id::text AS id, m.room_id::text AS room_id, m.seq::text AS seq, m.rev::text AS rev, m.sender_id, m.body,
        m.client_id, m.reply_to_id::text AS reply_to_id, m.created_at, m.edited_at, m.deleted, m.reactions, m.files,
        m.mentions, m.mentions_all
      FROM messages m WHERE m.room_id = r.id AND m.seq = r.last_seq
    ) last) AS last_message
  FROM rooms r`;

export interface RoomRow {
  id: string;
  type: RoomType;
  name: string | null;
  created_at: string;
  external_key: string | null;
  record_url: string | null;
  last_seq: string;
  rev: string;
  last_activity_at: string;
  members: [string, Role, string, number, string, string][];
  last_message: MessageRow | null;
}

export function toStoredRoom(row: RoomRow): StoredRoom {
  const members = new Map<string, MemberState>();
  for (const [userId, role, joinedAt, joinOrder, readSeq, ownAfterRead] of row.members) {
    members.set(userId, {
      userId,
      role,
      joinedAt,
      joinOrder,
      readSeq: Number(readSeq),
      ownAfterRead: Number(ownAfterRead),
    });
  }
  return {
    id: String(row.id),
    type: row.type,
    name: row.name,
    createdAt: row.created_at,
    externalKey: row.external_key,
    record: recordOf(row.external_key, row.name, row.record_url),
    lastSeq: Number(row.last_seq),
    rev: Number(row.rev),
    lastActivityAt: row.last_activity_at,
    lastMessage: row.last_message ? toMessage(row.last_message) : null,
    members,
  };
}
