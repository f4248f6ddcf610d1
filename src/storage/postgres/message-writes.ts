/**
 * Message writes: sending, editing, deleting and reactions (read markers: read-writes.ts), each
 * one transaction. The same rules as the SQLite store (../sqlite/message-writes.ts); what differs
 * is how nodes share a room: its counters are taken under its row lock (locks.ts), and each
 * committed change is announced on the commit feed (feed.ts).
 */
import type pg from "pg";
import { AppError, badRequest, notFound } from "../../errors.js";
import { LIMITS, type Message } from "../../protocol/index.js";
import type { SendInput } from "../chat-store.js";
import { attachedFilesJson, parseAttachedFiles } from "../files.js";
import { attachTo, lockAttachable } from "./file-records.js";
import { dbId } from "./ids.js";
import { lockRoom } from "./locks.js";
import { isUniqueViolation, transaction } from "./pool.js";
import { MESSAGE_COLUMNS, type MessageRow, toMessage } from "./rows.js";

const BY_CLIENT_ID = `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.sender_id = $1 AND m.client_id = $2`;
const BY_ID = `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.id = $1`;
const INSERT = `
  INSERT INTO messages (room_id, seq, rev, sender_id, body, client_id, reply_to_id, created_at, files)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`;

/** The stored message for a retried client id, or CONFLICT when that id was used in another room. */
async function earlierSend(
  db: pg.PoolClient,
  input: SendInput,
): Promise<{ message: Message; created: boolean } | null> {
  if (input.clientId === null) return null;
  const { rows } = await db.query<MessageRow>(BY_CLIENT_ID, [input.senderId, input.clientId]);
  if (!rows[0]) return null;
  if (String(rows[0].room_id) !== input.roomId) {
    throw new AppError("CONFLICT", "This clientId was already used for a message in another room.");
  }
  return { message: toMessage(rows[0]), created: false };
}

export function sendMessage(
  pool: pg.Pool,
  input: SendInput,
): Promise<{ message: Message; created: boolean }> {
  const attempt = () =>
    transaction<{ message: Message; created: boolean }>(pool, async (db) => {
      // a retry (same sender and client id) gets the stored message, even in a room since closed
      const before = await earlierSend(db, input);
      if (before) return { result: before };
      const room = await lockRoom(db, input.roomId);
      if (!room) throw notFound();
      // under the room's lock: a retry of the same send on another node has committed by now
      const retried = await earlierSend(db, input);
      if (retried) return { result: retried };
      if (input.replyToId !== null) {
        const target = dbId(input.replyToId);
        const { rows } = target
          ? await db.query<{ room_id: string }>("SELECT room_id FROM messages WHERE id = $1", [target])
          : { rows: [] };
        if (String(rows[0]?.room_id) !== room.id)
          throw badRequest("replyToId must be a message of the same room.");
      }
      const files = await lockAttachable(db, input.fileIds ?? [], input.senderId);
      const filesJson = attachedFilesJson(files);
      const seq = room.lastSeq + 1;
      const rev = room.rev + 1;
      await db.query("UPDATE rooms SET last_seq = $1, rev = $2, last_activity_at = $3 WHERE id = $4", [
        seq,
        rev,
        input.at,
        room.id,
      ]);
      const { rows } = await db.query<{ id: string }>(INSERT, [
        room.id,
        seq,
        rev,
        input.senderId,
        input.body,
        input.clientId,
        input.replyToId,
        input.at,
        filesJson,
      ]);
      const messageId = String(rows[0]!.id);
      await attachTo(db, files, messageId, room.id);
      await db.query(
        "UPDATE members SET own_after_read = own_after_read + 1 WHERE room_id = $1 AND user_id = $2",
        [room.id, input.senderId],
      );
      const message: Message = {
        id: messageId,
        roomId: room.id,
        seq,
        rev,
        senderId: input.senderId,
        body: input.body,
        clientId: input.clientId,
        replyToId: input.replyToId,
        createdAt: input.at,
        editedAt: null,
        deleted: false,
        reactions: {},
        files: parseAttachedFiles(filesJson),
      };
      return { result: { message, created: true }, events: [{ kind: "message", roomId: room.id, rev }] };
    });
  return attempt().catch((error: unknown) => {
    // the same client id sent into another room at the same moment: the unique index refused
    // this one, and running it again finds the other (CONFLICT)
    if (isUniqueViolation(error, "messages_by_client_id")) return attempt();
    throw error;
  });
}

/**
 * The shape of every message change: lock the message's room, take its next rev, rewrite the
 * row. `change` returns the new column values, or null when nothing changes (no rev is taken).
 */
function changeMessage(
  pool: pg.Pool,
  messageId: string,
  change: (row: MessageRow, rev: number) => { sql: string; params: unknown[]; row: MessageRow } | null,
): Promise<{ message: Message; changed: boolean }> {
  return transaction<{ message: Message; changed: boolean }>(pool, async (db) => {
    const id = dbId(messageId);
    if (id === null) throw notFound("message");
    const found = await db.query<{ room_id: string }>("SELECT room_id FROM messages WHERE id = $1", [id]);
    if (!found.rows[0]) throw notFound("message");
    const room = await lockRoom(db, String(found.rows[0].room_id));
    if (!room) throw notFound("message");
    // read again under the lock: every change of a message holds its room's lock
    const { rows } = await db.query<MessageRow>(BY_ID, [id]);
    const row = rows[0]!;
    const rev = room.rev + 1;
    const update = change(row, rev);
    if (!update) return { result: { message: toMessage(row), changed: false } };
    await db.query(update.sql, update.params);
    await db.query("UPDATE rooms SET rev = $1 WHERE id = $2", [rev, room.id]);
    return {
      result: { message: toMessage(update.row), changed: true },
      events: [{ kind: "message", roomId: room.id, rev }],
    };
  });
}

export async function editMessage(
  pool: pg.Pool,
  messageId: string,
  body: string,
  at: string,
): Promise<Message> {
  const { message } = await changeMessage(pool, messageId, (row, rev) => {
    if (row.deleted) throw badRequest("A deleted message can't be edited.");
    return {
      sql: "UPDATE messages SET body = $1, edited_at = $2, rev = $3 WHERE id = $4",
      params: [body, at, rev, row.id],
      row: { ...row, body, edited_at: at, rev },
    };
  });
  return message;
}

export function deleteMessage(
  pool: pg.Pool,
  messageId: string,
): Promise<{ message: Message; changed: boolean }> {
  return changeMessage(pool, messageId, (row, rev) => {
    if (row.deleted) return null;
    return {
      sql: "UPDATE messages SET body = '', deleted = TRUE, reactions = '{}', files = '[]', rev = $1 WHERE id = $2",
      params: [rev, row.id],
      row: { ...row, body: "", deleted: true, reactions: "{}", files: "[]", rev },
    };
  });
}

export function react(
  pool: pg.Pool,
  messageId: string,
  userId: string,
  emoji: string,
  on: boolean,
): Promise<{ message: Message; changed: boolean }> {
  return changeMessage(pool, messageId, (row, rev) => {
    if (row.deleted) throw badRequest("You can't react to a deleted message.");
    // a Map, so emoji such as "__proto__" are plain keys and never touch a prototype
    const reactions = new Map(Object.entries(JSON.parse(row.reactions) as Record<string, string[]>));
    const users = reactions.get(emoji) ?? [];
    if (on === users.includes(userId)) return null;
    if (on) {
      if (users.length === 0 && reactions.size >= LIMITS.distinctEmojiPerMessage) {
        throw badRequest(`A message can have at most ${LIMITS.distinctEmojiPerMessage} different reactions.`);
      }
      reactions.set(emoji, [...users, userId]);
    } else {
      const rest = users.filter((u) => u !== userId);
      if (rest.length > 0) reactions.set(emoji, rest);
      else reactions.delete(emoji);
    }
    const json = JSON.stringify(Object.fromEntries(reactions));
    return {
      sql: "UPDATE messages SET reactions = $1, rev = $2 WHERE id = $3",
      params: [json, rev, row.id],
      row: { ...row, reactions: json, rev },
    };
  });
}
