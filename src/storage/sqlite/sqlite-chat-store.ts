/**
 * The SQLite chat store (better-sqlite3). Reads of rooms come from the in-memory mirror, message
 * reads from prepared statements, and every write goes through the group-commit queue.
 */
import { AppError, badRequest, notFound } from "../../errors.js";
import { LIMITS, type Message, type Role } from "../../protocol/index.js";
import type { ChatStore, HistoryQuery, RemovalResult, RoomState, SendInput } from "../chat-store.js";
import type { SqliteDatabase } from "./open.js";
import { RoomMirror } from "./room-mirror.js";
import { type MessageRow, toMessage } from "./rows.js";
import { SearchIndex } from "./search.js";
import { prepareStatements, type Statements } from "./statements.js";
import { WriteQueue, type WriteQueueHooks } from "./write-queue.js";

export class SqliteChatStore implements ChatStore {
  private readonly s: Statements;
  private readonly queue: WriteQueue;
  private readonly mirror: RoomMirror;
  private readonly index: SearchIndex;
  private readonly names = new Map<string, string>();
  private readonly lastSeen = new Map<string, string>();
  private closed = false;

  constructor(
    private readonly db: SqliteDatabase,
    hooks: WriteQueueHooks = {},
  ) {
    this.s = prepareStatements(db);
    this.queue = new WriteQueue(db, hooks);
    this.mirror = new RoomMirror(db);
    this.index = new SearchIndex(db);
    for (const row of this.s.knownUsers.all() as {
      id: string;
      name: string;
      last_seen_at: string | null;
    }[]) {
      if (row.name) this.names.set(row.id, row.name);
      if (row.last_seen_at) this.lastSeen.set(row.id, row.last_seen_at);
    }
    this.index.schedule(); // catch up on messages committed before a crash
  }

  room(roomId: string): RoomState | undefined {
    return this.mirror.rooms.get(roomId);
  }

  roomsOf(userId: string): RoomState[] {
    const rooms: RoomState[] = [];
    for (const id of this.mirror.roomIdsOf(userId)) {
      const room = this.mirror.rooms.get(id);
      if (room) rooms.push(room);
    }
    return rooms;
  }

  roomIdsOf(userId: string): ReadonlySet<string> {
    return this.mirror.roomIdsOf(userId);
  }

  userName(userId: string): string {
    return this.names.get(userId) ?? `User ${userId}`;
  }

  lastSeenAt(userId: string): string | null {
    return this.lastSeen.get(userId) ?? null;
  }

  message(messageId: string): Message | undefined {
    const row = this.s.messageById.get(Number(messageId)) as MessageRow | undefined;
    return row ? toMessage(row) : undefined;
  }

  history(roomId: string, q: HistoryQuery): { messages: Message[]; hasMore: boolean } {
    const id = Number(roomId);
    const rows = (
      q.afterSeq !== undefined
        ? this.s.after.all(id, q.afterSeq, q.limit + 1)
        : q.beforeSeq !== undefined
          ? this.s.before.all(id, q.beforeSeq, q.limit + 1)
          : this.s.latest.all(id, q.limit + 1)
    ) as MessageRow[];
    const hasMore = rows.length > q.limit;
    if (hasMore) rows.pop();
    if (q.afterSeq === undefined) rows.reverse();
    return { messages: rows.map(toMessage), hasMore };
  }

  changes(
    roomId: string,
    sinceRev: number,
    limit: number,
  ): { messages: Message[]; rev: number; hasMore: boolean } {
    const rows = this.s.changes.all(Number(roomId), sinceRev, limit + 1) as MessageRow[];
    const hasMore = rows.length > limit;
    if (hasMore) rows.pop();
    const messages = rows.map(toMessage);
    const roomRev = this.room(roomId)?.rev ?? sinceRev;
    const rev = hasMore ? messages.at(-1)!.rev : Math.max(roomRev, sinceRev);
    return { messages, rev, hasMore };
  }

  search(roomIds: readonly string[], query: string, limit: number): Message[] {
    return this.index.search(roomIds, query, limit);
  }

  sendMessage(input: SendInput): Promise<{ message: Message; created: boolean }> {
    return this.queue.run<{ message: Message; created: boolean }>(() => {
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
      const counters = this.s.nextSeq.get(input.at, Number(input.roomId)) as
        | { last_seq: number; rev: number }
        | undefined;
      if (!counters) throw notFound();
      const info = this.s.insertMessage.run(
        Number(input.roomId),
        counters.last_seq,
        counters.rev,
        input.senderId,
        input.body,
        input.clientId,
        input.replyToId === null ? null : Number(input.replyToId),
        input.at,
      );
      this.s.countOwnMessage.run(Number(input.roomId), input.senderId);
      const message: Message = {
        id: String(info.lastInsertRowid),
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
          this.index.schedule();
        },
      };
    });
  }

  editMessage(messageId: string, body: string, at: string): Promise<Message> {
    return this.changeMessage(messageId, (row, rev) => {
      if (row.deleted) throw badRequest("A deleted message can't be edited.");
      this.s.editMessage.run(body, at, rev, row.id);
      this.index.replace(row.id, body);
      return { ...row, body, edited_at: at, rev };
    }).then((r) => r.message);
  }

  deleteMessage(messageId: string): Promise<{ message: Message; changed: boolean }> {
    return this.changeMessage(messageId, (row, rev) => {
      if (row.deleted) return null;
      this.s.deleteMessage.run(rev, row.id);
      this.index.replace(row.id, null);
      return { ...row, body: "", deleted: 1, reactions: "{}", rev };
    });
  }

  react(
    messageId: string,
    userId: string,
    emoji: string,
    on: boolean,
  ): Promise<{ message: Message; changed: boolean }> {
    return this.changeMessage(messageId, (row, rev) => {
      if (row.deleted) throw badRequest("You can't react to a deleted message.");
      const reactions = JSON.parse(row.reactions) as Record<string, string[]>;
      const users = Object.hasOwn(reactions, emoji) ? reactions[emoji]! : [];
      if (on === users.includes(userId)) return null;
      if (on) {
        if (users.length === 0 && Object.keys(reactions).length >= LIMITS.distinctEmojiPerMessage) {
          throw badRequest(
            `A message can have at most ${LIMITS.distinctEmojiPerMessage} different reactions.`,
          );
        }
        reactions[emoji] = [...users, userId];
      } else {
        const rest = users.filter((u) => u !== userId);
        if (rest.length > 0) reactions[emoji] = rest;
        else delete reactions[emoji];
      }
      const json = JSON.stringify(reactions);
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
          const room = this.mirror.rooms.get(message.roomId);
          if (!room) return;
          room.rev = message.rev;
          if (room.lastMessage?.id === message.id) room.lastMessage = message;
        },
      };
    });
  }

  async openDirect(a: string, b: string, at: string): Promise<{ room: RoomState; created: boolean }> {
    const key = [a, b].sort((x, y) => Number(x) - Number(y)).join(":");
    const { id, created } = await this.queue.run(() => {
      const existing = this.s.roomByDirectKey.get(key) as { id: number } | undefined;
      if (existing) return { result: { id: String(existing.id), created: false } };
      const roomId = Number(this.s.insertRoom.run("direct", null, key, null, at, at).lastInsertRowid);
      for (const userId of [a, b]) this.s.insertMember.run(roomId, userId, "member", at, roomId, 0);
      return {
        result: { id: String(roomId), created: true },
        apply: () => this.mirror.reload(String(roomId)),
      };
    });
    return { room: this.mustRoom(id), created };
  }

  async createGroup(input: {
    name: string;
    ownerId: string;
    memberIds: readonly string[];
    at: string;
    externalKey?: string;
  }): Promise<RoomState> {
    const id = await this.queue.run(() => {
      const { name, ownerId, at } = input;
      const roomId = Number(
        this.s.insertRoom.run("group", name, null, input.externalKey ?? null, at, at).lastInsertRowid,
      );
      this.s.insertMember.run(roomId, ownerId, "owner", at, roomId, 0);
      for (const userId of input.memberIds) {
        if (userId !== ownerId) this.s.insertMember.run(roomId, userId, "member", at, roomId, 0);
      }
      return { result: String(roomId), apply: () => this.mirror.reload(String(roomId)) };
    });
    return this.mustRoom(id);
  }

  async rename(roomId: string, name: string): Promise<RoomState> {
    await this.roomWrite(roomId, () => this.s.renameRoom.run(name, Number(roomId)));
    return this.mustRoom(roomId);
  }

  async addMembers(
    roomId: string,
    userIds: readonly string[],
    at: string,
  ): Promise<{ room: RoomState; added: string[] }> {
    const added = await this.roomWrite(roomId, (counters) =>
      userIds.filter(
        (userId) =>
          this.s.insertMember.run(Number(roomId), userId, "member", at, Number(roomId), counters.last_seq)
            .changes > 0,
      ),
    );
    return { room: this.mustRoom(roomId), added };
  }

  async setRole(roomId: string, userId: string, role: Role): Promise<RoomState> {
    await this.roomWrite(roomId, () => this.s.setRole.run(role, Number(roomId), userId));
    return this.mustRoom(roomId);
  }

  async removeMember(roomId: string, userId: string): Promise<RemovalResult> {
    const closed = await this.roomWrite(roomId, () => {
      const id = Number(roomId);
      const member = this.s.member.get(id, userId) as { role: Role } | undefined;
      if (!member) throw notFound();
      this.s.deleteMember.run(id, userId);
      const next = this.s.nextOwner.get(id) as { user_id: string } | undefined;
      if (!next) {
        this.s.closeRoom.run(id);
        return true;
      }
      if (member.role === "owner") this.s.setRole.run("owner", id, next.user_id);
      return false;
    });
    return { room: this.room(roomId) ?? null, closed };
  }

  /** A room operation: fails with NOT_FOUND on a closed room, reloads the mirror after commit. */
  private roomWrite<T>(
    roomId: string,
    write: (counters: { last_seq: number; rev: number }) => T,
  ): Promise<T> {
    return this.queue.run(() => {
      const counters = this.s.roomCounters.get(Number(roomId)) as
        | { last_seq: number; rev: number }
        | undefined;
      if (!counters) throw notFound();
      return { result: write(counters), apply: () => this.mirror.reload(roomId) };
    });
  }

  markRead(roomId: string, userId: string, seq: number): Promise<number> {
    return this.queue.run(() => {
      const id = Number(roomId);
      const counters = this.s.roomCounters.get(id) as { last_seq: number } | undefined;
      const member = this.s.member.get(id, userId) as { read_seq: number } | undefined;
      if (!counters || !member) throw notFound();
      const target = Math.min(seq, counters.last_seq);
      if (target <= member.read_seq) return { result: member.read_seq };
      const own = this.s.ownMessagesAfter.get(id, userId, target) as number;
      this.s.setRead.run(target, own, id, userId);
      return {
        result: target,
        apply: () => {
          const state = this.mirror.rooms.get(roomId)?.members.get(userId);
          if (state) {
            state.readSeq = target;
            state.ownAfterRead = own;
          }
        },
      };
    });
  }

  async rememberUsers(users: readonly { id: string; name: string }[]): Promise<void> {
    const changed = users.filter((u) => this.names.get(u.id) !== u.name);
    if (changed.length === 0) return;
    await this.queue.run(() => {
      for (const u of changed) this.s.upsertName.run(u.id, u.name);
      return {
        result: undefined,
        apply: () => {
          for (const u of changed) this.names.set(u.id, u.name);
        },
      };
    });
  }

  async setLastSeen(userId: string, at: string): Promise<void> {
    await this.queue.run(() => {
      this.s.upsertLastSeen.run(userId, at);
      return { result: undefined, apply: () => this.lastSeen.set(userId, at) };
    });
  }

  ping(): void {
    if (this.closed) throw new Error("the chat database is closed");
    this.s.ping.get();
  }

  async flush(): Promise<void> {
    this.queue.flush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.queue.close();
    this.index.close();
    this.index.indexPending();
    this.closed = true;
    this.db.close();
  }

  private mustRoom(roomId: string): RoomState {
    const room = this.mirror.rooms.get(roomId);
    if (!room) throw notFound();
    return room;
  }
}
