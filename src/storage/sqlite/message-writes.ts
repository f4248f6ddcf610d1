/**
 * Message writes: sending, editing, deleting and reactions (read markers: read-writes.ts). Each runs as one write
 * of the group-commit queue and is mirrored into the open rooms once it is durable.
 */
import { AppError, badRequest, notFound } from "../../errors.js";
import { LIMITS, type Message } from "../../protocol/index.js";
import type { DeletedMessage, SendInput } from "../chat-store.js";
import { attachedFilesJson, parseAttachedFiles } from "../files.js";
import { type MentionSet, mentionsJson } from "../mentions.js";
import type { FileRecords } from "./file-records.js";
import type { RoomMirror } from "./room-mirror.js";
import { type MessageRow, toMessage } from "./rows.js";
import type { Statements } from "./statements.js";
import type { WriteQueue } from "./write-queue.js";

export class MessageWrites {
  constructor(
    private readonly s: Statements,
    private readonly queue: WriteQueue,
    private readonly mirror: RoomMirror,
    private readonly files: FileRecords,
    /** tells the background worker that a room's messages changed (search indexes them) */
    private readonly roomChanged: (roomId: string) => void,
  ) {}

  sendMessage(input: SendInput): Promise<{ message: Message; created: boolean }> {
    return this.queue.run<{ message: Message; created: boolean }>(() => {
      if (input.requireMember && !this.mirror.rooms.get(input.roomId)?.members.has(input.senderId)) {
        throw notFound();
      }
      if (input.clientId !== null) {
        const existing = this.s.messageByClientId.get(input.senderId, input.clientId) as
          | MessageRow
          | undefined;
        if (existing) {
          if (String(existing.room_id) !== input.roomId) {
            throw new AppError("CONFLICT", "This clientId was already used for a message in another room.");
          }
          return { result: { message: toMessage(existing), created: false } };
        }
      }
      if (input.replyToId !== null) {
        const target = this.s.roomOfMessage.get(Number(input.replyToId)) as { room_id: number } | undefined;
        if (String(target?.room_id) !== input.roomId)
          throw badRequest("replyToId must be a message of the same room.");
      }
      const files = this.files.attachable(input.fileIds ?? [], input.senderId);
      const counters = this.s.nextSeq.get(input.at, Number(input.roomId)) as
        | { last_seq: number; rev: number }
        | undefined;
      if (!counters) throw notFound();
      const filesJson = attachedFilesJson(files);
      const info = this.s.insertMessage.run(
        Number(input.roomId),
        counters.last_seq,
        counters.rev,
        input.senderId,
        input.body,
        input.clientId,
        input.replyToId === null ? null : Number(input.replyToId),
        input.at,
        filesJson,
        mentionsJson(input.mentions),
        input.mentions?.all ? 1 : 0,
      );
      const messageId = String(info.lastInsertRowid);
      this.files.attachTo(files, messageId, input.roomId);
      this.s.countOwnMessage.run(Number(input.roomId), input.senderId);
      const message: Message = {
        id: messageId,
        roomId: input.roomId,
        seq: counters.last_seq,
        rev: counters.rev,
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
        apply: () => {
          const room = this.mirror.rooms.get(input.roomId);
          if (room) {
            room.lastSeq = message.seq;
            room.rev = message.rev;
            room.lastActivityAt = message.createdAt;
            room.lastMessage = message;
            const member = room.members.get(input.senderId);
            if (member) member.ownAfterRead += 1;
          }
          this.roomChanged(input.roomId);
        },
      };
    });
  }

  editMessage(messageId: string, body: string, at: string, mentions?: MentionSet): Promise<Message> {
    return this.changeMessage(messageId, (row, rev) => {
      if (row.deleted) throw badRequest("A deleted message can't be edited.");
      const json = mentionsJson(mentions);
      const all = mentions?.all ? 1 : 0;
      this.s.editMessage.run(body, at, rev, json, all, row.id);
      return { ...row, body, edited_at: at, rev, mentions: json, mentions_all: all };
    }).then((r) => r.message);
  }

  /** Deletes the message and its files' records; `fileKeys` are the bytes to remove once durable. */
  deleteMessage(messageId: string, at: string): Promise<DeletedMessage> {
    let fileKeys: string[] = [];
    return this.changeMessage(messageId, (row, rev) => {
      if (row.deleted) return null;
      this.s.deleteMessage.run(rev, row.id);
      fileKeys = this.files.removeFilesOf(String(row.id), at);
      return {
        ...row,
        body: "",
        deleted: 1,
        reactions: "{}",
        files: "[]",
        mentions: "[]",
        mentions_all: 0,
        rev,
      };
    }).then((outcome) => ({ ...outcome, fileKeys }));
  }

  react(
    messageId: string,
    userId: string,
    emoji: string,
    on: boolean,
  ): Promise<{ message: Message; changed: boolean }> {
    return this.changeMessage(messageId, (row, rev) => {
      if (row.deleted) throw badRequest("You can't react to a deleted message.");
      // a Map, so emoji such as "__proto__" are plain keys and never touch a prototype
      const reactions = new Map(Object.entries(JSON.parse(row.reactions) as Record<string, string[]>));
      const users = reactions.get(emoji) ?? [];
      if (on === users.includes(userId)) return null;
      if (on) {
        if (users.length === 0 && reactions.size >= LIMITS.distinctEmojiPerMessage) {
          throw badRequest(
            `A message can have at most ${LIMITS.distinctEmojiPerMessage} different reactions.`,
          );
        }
        reactions.set(emoji, [...users, userId]);
      } else {
        const rest = users.filter((u) => u !== userId);
        if (rest.length > 0) reactions.set(emoji, rest);
        else reactions.delete(emoji);
      }
      const json = JSON.stringify(Object.fromEntries(reactions));
      this.s.setReactions.run(json, rev, row.id);
      return { ...row, reactions: json, rev };
    });
  }

  /**
   * The shape of every message change: take the room's next rev, rewrite the row, mirror it.
   * `change` returns null when nothing changes (no rev is then taken).
   */
  private changeMessage(
    messageId: string,
    change: (row: MessageRow, rev: number) => MessageRow | null,
  ): Promise<{ message: Message; changed: boolean }> {
    return this.queue.run<{ message: Message; changed: boolean }>(() => {
      const row = this.s.messageById.get(Number(messageId)) as MessageRow | undefined;
      if (!row) throw notFound("message");
      const counters = this.s.roomCounters.get(row.room_id) as { rev: number } | undefined;
      if (!counters) throw notFound("message");
      const updated = change(row, counters.rev + 1);
      if (!updated) return { result: { message: toMessage(row), changed: false } };
      this.s.nextRev.run(row.room_id);
      const message = toMessage(updated);
      return {
        result: { message, changed: true },
        apply: () => {
          this.roomChanged(message.roomId); // edits and deletions change what search finds
          const room = this.mirror.rooms.get(message.roomId);
          if (!room) return;
          room.rev = message.rev;
          if (room.lastMessage?.id === message.id) room.lastMessage = message;
        },
      };
    });
  }
}
