/**
 * How message rows become contract `Message` objects.
 */
import type { Message } from "../../protocol/index.js";
import { parseAttachedFiles } from "../files.js";
import { parseMentions } from "../mentions.js";

/** The columns every message query selects, in this order. */
export const MESSAGE_COLUMNS =
  "m.id, m.room_id, m.seq, m.rev, m.sender_id, m.body, m.client_id, m.reply_to_id, m.created_at, m.edited_at, m.deleted, m.reactions, m.files, m.mentions, m.mentions_all";

export interface MessageRow {
  id: number;
  room_id: number;
  seq: number;
  rev: number;
  sender_id: string;
  body: string;
  client_id: string | null;
  reply_to_id: number | null;
  created_at: string;
  edited_at: string | null;
  deleted: number;
  reactions: string;
  /** JSON of the attached files (storage/files.ts) */
  files: string;
  /** JSON array of the mentioned user ids (storage/mentions.ts) */
  mentions: string;
  mentions_all: number;
}

export function toMessage(row: MessageRow): Message {
  return {
    id: String(row.id),
    roomId: String(row.room_id),
    seq: row.seq,
    rev: row.rev,
    senderId: row.sender_id,
    body: row.body,
    clientId: row.client_id,
    replyToId: row.reply_to_id === null ? null : String(row.reply_to_id),
    createdAt: row.created_at,
    editedAt: row.edited_at,
    deleted: row.deleted === 1,
    reactions: JSON.parse(row.reactions) as Record<string, string[]>,
    files: parseAttachedFiles(row.files),
    mentions: parseMentions(row.mentions),
    mentionsAll: row.mentions_all === 1,
  };
}
