/**
 * Message writes: sending, editing, deleting and reactions (read markers: read-writes.ts), each
 * one transaction. The same rules as the SQLite store (../sqlite/message-writes.ts); what differs
 * is how nodes share a room: its counters are taken under its row lock (locks.ts), and each
 * committed change is announced on the commit feed (feed.ts).
 */
import type pg from "pg";
import { z } from "zod";
import { AppError, badRequest, notFound } from "../../errors.js";
import { LIMITS, type Message } from "../../protocol/index.js";
import type { DeletedMessage, SendInput } from "../chat-store.js";
import { attachedFilesJson, parseAttachedFiles } from "../files.js";
import { type MentionSet, mentionsJson } from "../mentions.js";
import { type FeedEvent, FeedMessageSchema } from "./feed.js";
import { attachTo, lockAttachable, removeFilesOf } from "./file-records.js";
import { dbId } from "./ids.js";
import { lockRoom } from "./locks.js";
import { commitHookOf, isUniqueViolation, statement, toStoreError, transaction } from "./pool.js";
import { MESSAGE_COLUMNS, type MessageRow, toMessage } from "./rows.js";

const BY_ID = `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.id = $1`;
/** All the sends of a call in one piece (migration 7); when one of them raises, nothing is kept. */
const SEND_MANY = "SELECT chat_send_many($1::json) AS sent";
/** The same sends, each in its own subtransaction: each one's error is its own (migrations 5, 7). */
const SEND_BATCH = "SELECT chat_send_batch($1::json) AS sent";
const BY_CLIENT_ID = `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.sender_id = $1 AND m.client_id = $2`;
const INSERT = `
  INSERT INTO messages (room_id, seq, rev, sender_id, body, client_id, reply_to_id, created_at, files, mentions, mentions_all)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`;

/** What chat_send (migration 4) returns: the message in its wire shape, and whether it is new. */
const SentSchema = z.object({ created: z.boolean(), message: FeedMessageSchema });
/** One send's outcome in chat_send_batch's answer (migration 5): the above, or its error. */
const BatchResultSchema = z.array(
  z.union([SentSchema, z.object({ error: z.string(), constraint: z.string().nullable() })]),
);

type Sent = z.infer<typeof SentSchema>;

/** chat_send's own SQLSTATEs back to the errors the SQLite store gives; others keep code and constraint. */
function sendError(code: string, constraint: string | null): unknown {
  switch (code) {
    case "TW404":
      return notFound();
    case "TW409":
      return new AppError("CONFLICT", "This clientId was already used for a message in another room.");
    case "TW400":
      return badRequest("replyToId must be a message of the same room.");
    default:
      return Object.assign(new Error(`send failed in the database (SQLSTATE ${code})`), { code, constraint });
  }
}

interface WaitingSend {
  item: Record<string, unknown>;
  done: (result: Sent) => void;
  failed: (error: unknown) => void;
}

/** Most sends in one call: each NOTIFY is one event, and one call should not hold rooms for long. */
const BATCH_MAX = 200;
/** Calls in flight at once per node; the sends arriving meanwhile wait and go together in the next. */
const IN_FLIGHT = 2;

/**
 * Groups the sends of one node: while IN_FLIGHT calls are running, new sends wait, and the next
 * call stores all of them (chat_send_batch), committing once. Alone, a send goes out at once.
 */
class SendBatcher {
  private readonly queue: WaitingSend[] = [];
  private running = 0;

  constructor(private readonly pool: pg.Pool) {}

  send(item: Record<string, unknown>): Promise<Sent> {
    return new Promise<Sent>((done, failed) => {
      this.queue.push({ item, done, failed });
      this.next();
    });
  }

  private next(): void {
    while (this.running < IN_FLIGHT && this.queue.length > 0) {
      const batch = this.queue.splice(0, BATCH_MAX);
      this.running++;
      void this.run(batch).finally(() => {
        this.running--;
        this.next();
      });
    }
  }

  private async run(batch: WaitingSend[]): Promise<void> {
    let results: z.infer<typeof BatchResultSchema>;
    try {
      const items = JSON.stringify(batch.map((w) => w.item));
      let rows: { sent: unknown }[];
      try {
        rows = await statement<{ sent: unknown }>(this.pool, SEND_MANY, [items]);
      } catch (error) {
        // the database is away: the same sends would fail again
        if (toStoreError(error) !== error) throw error;
        // one send raised (a clientId used in another room, a bad reply, a race on a clientId)
        // and the whole call was rolled back: again, with each send's error its own
        rows = await statement<{ sent: unknown }>(this.pool, SEND_BATCH, [items]);
      }
      results = BatchResultSchema.parse(rows[0]?.sent);
      if (results.length !== batch.length)
        throw new Error("chat_send_batch answered for a different number of sends");
    } catch (error) {
      for (const w of batch) w.failed(error);
      return;
    }
    batch.forEach((w, i) => {
      const result = results[i]!;
      if ("error" in result) w.failed(sendError(result.error, result.constraint));
      else w.done(result);
    });
  }
}

const batchers = new WeakMap<pg.Pool, SendBatcher>();

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

/** Whether the user is a member of the (locked, open) room. */
async function isMember(db: pg.PoolClient, roomId: string, userId: string): Promise<boolean> {
  const { rows } = await db.query("SELECT 1 FROM members WHERE room_id = $1 AND user_id = $2", [
    roomId,
    userId,
  ]);
  return rows.length > 0;
}

/**
 * A send with files: one transaction, as the files must be locked and attached with the message
 * (chat_send, the fast path, stores messages without files).
 */
function sendWithFiles(pool: pg.Pool, input: SendInput): Promise<{ message: Message; created: boolean }> {
  const attempt = () =>
    transaction<{ message: Message; created: boolean }>(pool, async (db) => {
      // a retry (same sender and client id) gets the stored message, even in a room since closed,
      // unless the sender must be a member: that is checked first, under the room's lock
      const before = input.requireMember ? null : await earlierSend(db, input);
      if (before) return { result: before };
      const room = await lockRoom(db, input.roomId);
      if (!room) throw notFound();
      if (input.requireMember && !(await isMember(db, room.id, input.senderId))) throw notFound();
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
        mentionsJson(input.mentions),
        input.mentions?.all ?? false,
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
        mentions: [...(input.mentions?.userIds ?? [])],
        mentionsAll: input.mentions?.all ?? false,
      };
      return {
        result: { message, created: true },
        events: [{ kind: "message", roomId: room.id, rev, change: "new", message }],
      };
    });
  return attempt().catch((error: unknown) => {
    // the same client id sent into another room at the same moment: the unique index refused
    // this one, and running it again finds the other (CONFLICT)
    if (isUniqueViolation(error, "messages_by_client_id")) return attempt();
    throw error;
  });
}

/**
 * A send goes to the database as part of one call (chat_send_batch, which runs chat_send for
 * each): it checks the client id, locks the room's row, checks the reply, takes seq and rev,
 * stores the message and NOTIFYs it, so the room's lock is held only while PostgreSQL itself works.
 */
export function sendMessage(
  pool: pg.Pool,
  input: SendInput,
): Promise<{ message: Message; created: boolean }> {
  if ((input.fileIds ?? []).length > 0) return sendWithFiles(pool, input);
  let batcher = batchers.get(pool);
  if (!batcher) {
    batcher = new SendBatcher(pool);
    batchers.set(pool, batcher);
  }
  const sender = batcher;
  const attempt = async (): Promise<{ message: Message; created: boolean }> => {
    const hook = commitHookOf(pool);
    // The tag must be in the NOTIFY, so it is taken before we know whether this send is new; a
    // retry's unused tag is let go by the hook's own time limit.
    const tag = hook?.tag({ kind: "message", roomId: input.roomId, rev: null }).tag ?? null;
    const sent = await sender.send({
      room: dbId(input.roomId),
      roomText: input.roomId,
      sender: input.senderId,
      body: input.body,
      clientId: input.clientId,
      hasReply: input.replyToId !== null,
      replyTo: input.replyToId === null ? null : dbId(input.replyToId),
      at: input.at,
      tag,
      member: input.requireMember === true,
      // v2.3 (chat_send of migration 8)
      mentions: mentionsJson(input.mentions),
      mentionsAll: input.mentions?.all ?? false,
    });
    if (hook && sent.created) {
      const event: FeedEvent = {
        kind: "message",
        roomId: sent.message.roomId,
        rev: sent.message.rev,
        change: "new",
        message: sent.message,
        ...(tag === null ? {} : { tag }),
      };
      await hook.committed([event]);
    }
    return sent;
  };
  return attempt().catch((error: unknown) => {
    // the same client id sent into another room at the same moment: the unique index refused
    // this one, and running it again finds the other (CONFLICT)
    if (isUniqueViolation(error, "messages_by_client_id")) return attempt();
    throw toStoreError(error);
  });
}

/** The new column values of a changed message, and any other writes of the same transaction. */
interface MessageChange {
  sql: string;
  params: unknown[];
  row: MessageRow;
  also?: (db: pg.PoolClient) => Promise<void>;
}

/**
 * The shape of every message change: lock the message's room, take its next rev, rewrite the
 * row. `change` returns the new column values, or null when nothing changes (no rev is taken).
 */
function changeMessage(
  pool: pg.Pool,
  messageId: string,
  kind: "updated" | "deleted",
  change: (row: MessageRow, rev: number) => MessageChange | null,
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
    await update.also?.(db);
    await db.query("UPDATE rooms SET rev = $1 WHERE id = $2", [rev, room.id]);
    const message = toMessage(update.row);
    return {
      result: { message, changed: true },
      events: [{ kind: "message", roomId: room.id, rev, change: kind, message }],
    };
  });
}

export async function editMessage(
  pool: pg.Pool,
  messageId: string,
  body: string,
  at: string,
  mentions?: MentionSet,
): Promise<Message> {
  const { message } = await changeMessage(pool, messageId, "updated", (row, rev) => {
    if (row.deleted) throw badRequest("A deleted message can't be edited.");
    const json = mentionsJson(mentions);
    const all = mentions?.all ?? false;
    return {
      sql: "UPDATE messages SET body = $1, edited_at = $2, rev = $3, mentions = $4, mentions_all = $5 WHERE id = $6",
      params: [body, at, rev, json, all, row.id],
      row: { ...row, body, edited_at: at, rev, mentions: json, mentions_all: all },
    };
  });
  return message;
}

/** Deletes the message and its files' records; `fileKeys` are the bytes to remove after COMMIT. */
export async function deleteMessage(pool: pg.Pool, messageId: string, at: string): Promise<DeletedMessage> {
  let fileKeys: string[] = [];
  const outcome = await changeMessage(pool, messageId, "deleted", (row, rev) => {
    if (row.deleted) return null;
    return {
      sql: "UPDATE messages SET body = '', deleted = TRUE, reactions = '{}', files = '[]', mentions = '[]', mentions_all = FALSE, rev = $1 WHERE id = $2",
      params: [rev, row.id],
      row: {
        ...row,
        body: "",
        deleted: true,
        reactions: "{}",
        files: "[]",
        mentions: "[]",
        mentions_all: false,
        rev,
      },
      also: async (db) => {
        fileKeys = await removeFilesOf(db, row.id, at);
      },
    };
  });
  return { ...outcome, fileKeys };
}

export function react(
  pool: pg.Pool,
  messageId: string,
  userId: string,
  emoji: string,
  on: boolean,
): Promise<{ message: Message; changed: boolean }> {
  return changeMessage(pool, messageId, "updated", (row, rev) => {
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
