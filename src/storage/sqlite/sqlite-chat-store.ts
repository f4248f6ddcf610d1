/**
 * The SQLite chat store (better-sqlite3). Reads of rooms come from the in-memory mirror, message
 * reads from prepared statements, and every write goes through the group-commit queue.
 */
import { AppError, badRequest, notFound } from "../../errors.js";
import { LIMITS, type Message, type Role } from "../../protocol/index.js";
import type { ChatStore, HistoryQuery, RemovalResult, RoomState, SendInput } from "../chat-store.js";
import { Background } from "./background.js";
import { DurableReads } from "./durable-reads.js";
import { DurableSync } from "./durable-sync.js";
import type { GroupSync, GroupSyncResult } from "./external-rooms.js";
import { type ExternalRooms, prepareExternalRooms } from "./external-rooms.js";
import type { SqliteDatabase } from "./open.js";
import { Revocations } from "./revocations.js";
import { RoomMirror } from "./room-mirror.js";
import { type MessageRow, toMessage } from "./rows.js";
import { SearchQueries } from "./search.js";
import { prepareStatements, type Statements } from "./statements.js";
import { WriteQueue, type WriteQueueHooks } from "./write-queue.js";

export class SqliteChatStore implements ChatStore {
  private readonly s: Statements;
  private readonly queue: WriteQueue;
  /** message reads, which never see a commit before it is durable */
  private readonly durable: DurableReads;
  private readonly mirror: RoomMirror;
  private readonly searches: SearchQueries;
  /** indexes for search, checkpoints the WAL and checks integrity, on a worker thread */
  private readonly background: Background;
  private readonly external: ExternalRooms;
  private readonly revocations: Revocations;
  private readonly names = new Map<string, string>();
  private readonly lastSeen = new Map<string, string>();
  private closed = false;

  constructor(
    private readonly db: SqliteDatabase,
    hooks: WriteQueueHooks & {
      /** a problem of the background worker: search indexing, checkpoints, the integrity check */
      onBackgroundProblem?: (message: string) => void;
    } = {},
  ) {
    this.s = prepareStatements(db);
    this.durable = new DurableReads(db);
    this.queue = new WriteQueue(db, new DurableSync(db), this.durable, hooks);
    this.mirror = new RoomMirror(db);
    this.searches = new SearchQueries(db);
    this.background = new Background(db, hooks.onBackgroundProblem);
    this.background.onCheckpointed = () => this.queue.requestTailCheckpoint();
    this.external = prepareExternalRooms(db);
    this.revocations = new Revocations(db);
    for (const row of this.s.knownUsers.all() as {
      id: string;
      name: string;
      last_seen_at: string | null;
    }[]) {
      if (row.name) this.names.set(row.id, row.name);
      if (row.last_seen_at) this.lastSeen.set(row.id, row.last_seen_at);
    }
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
    const row = this.durable.reads.messageById.get(Number(messageId)) as MessageRow | undefined;
    return row ? toMessage(row) : undefined;
  }

  history(roomId: string, q: HistoryQuery): { messages: Message[]; hasMore: boolean } {
    const id = Number(roomId);
    const reads = this.durable.reads;
    const rows = (
      q.afterSeq !== undefined
        ? reads.after.all(id, q.afterSeq, q.limit + 1)
        : q.beforeSeq !== undefined
          ? reads.before.all(id, q.beforeSeq, q.limit + 1)
          : reads.latest.all(id, q.limit + 1)
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
    const rows = this.durable.reads.changes.all(Number(roomId), sinceRev, limit + 1) as MessageRow[];
    const hasMore = rows.length > limit;
    if (hasMore) rows.pop();
    const messages = rows.map(toMessage);
    const roomRev = this.room(roomId)?.rev ?? sinceRev;
    const rev = hasMore ? messages.at(-1)!.rev : Math.max(roomRev, sinceRev);
    return { messages, rev, hasMore };
  }

  search(roomIds: readonly string[], query: string, limit: number): Message[] {
    // the index is read on its own connection, which may already see a batch whose sync is in
    // flight: such messages (newer than the room's durable rev) are left out until it completes
    return this.searches
      .search(roomIds, query, limit)
      .filter((m) => m.rev <= (this.mirror.rooms.get(m.roomId)?.rev ?? -1));
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
          this.background.roomChanged(input.roomId);
        },
      };
    });
  }

  editMessage(messageId: string, body: string, at: string): Promise<Message> {
    return this.changeMessage(messageId, (row, rev) => {
      if (row.deleted) throw badRequest("A deleted message can't be edited.");
      this.s.editMessage.run(body, at, rev, row.id);
      return { ...row, body, edited_at: at, rev };
    }).then((r) => r.message);
  }

  deleteMessage(messageId: string): Promise<{ message: Message; changed: boolean }> {
    return this.changeMessage(messageId, (row, rev) => {
      if (row.deleted) return null;
      this.s.deleteMessage.run(rev, row.id);
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
          this.background.roomChanged(message.roomId); // edits and deletions change what search finds
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
    // names are shown at once (callers such as the handshake don't wait for this write); a
    // failed write puts the old ones back, so the next call writes again
    const previous = changed.map((u) => this.names.get(u.id));
    for (const u of changed) this.names.set(u.id, u.name);
    try {
      await this.queue.run(() => {
        for (const u of changed) this.s.upsertName.run(u.id, u.name);
        return { result: undefined };
      });
    } catch (error) {
      changed.forEach((u, i) => {
        const old = previous[i];
        if (this.names.get(u.id) !== u.name) return;
        if (old === undefined) this.names.delete(u.id);
        else this.names.set(u.id, old);
      });
      throw error;
    }
  }

  async setLastSeen(userId: string, at: string): Promise<void> {
    // known at once, not only once durable: the "offline" presence event carrying this time is
    // already on its way, and a `presence:get` right after it must give the same time
    this.lastSeen.set(userId, at);
    await this.queue.run(() => {
      this.s.upsertLastSeen.run(userId, at);
      return { result: undefined };
    });
  }

  reloadRooms(roomIds: readonly string[]): Promise<void> {
    // through the queue, so the re-read happens between our own commits, never beside one
    return this.queue.run(() => ({
      result: undefined,
      apply: () => {
        for (const roomId of roomIds) {
          const room = this.mirror.reload(roomId);
          for (const userId of room?.members.keys() ?? []) {
            if (this.names.has(userId)) continue;
            const name = this.s.knownName.get(userId) as string | undefined;
            if (name) this.names.set(userId, name);
          }
        }
      },
    }));
  }

  roomByExternalKey(externalKey: string): RoomState | undefined {
    const id = this.external.openRoomId(externalKey);
    return id === null ? undefined : this.room(id);
  }

  async syncGroup(input: GroupSync): Promise<GroupSyncResult & { room: RoomState }> {
    const result = await this.queue.run(() => {
      const synced = this.external.sync(input);
      return { result: synced, apply: synced.changed ? () => this.mirror.reload(synced.roomId) : undefined };
    });
    return { ...result, room: this.mustRoom(result.roomId) };
  }

  revokeTokens(userId: string, beforeS: number): Promise<number> {
    return this.queue.run(() => this.revocations.write(userId, beforeS));
  }

  tokensRevokedBefore(userId: string): number | null {
    return this.revocations.get(userId);
  }

  ping(): void {
    if (this.closed) throw new Error("the chat database is closed");
    const problem = this.background.integrityProblem;
    if (problem !== null) throw new Error(`the chat database failed its integrity check: ${problem}`);
    this.s.ping.get();
  }

  async flush(): Promise<void> {
    await this.queue.drain();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.close();
    await this.background.close();
    this.searches.close();
    this.durable.close();
    this.db.close();
  }

  private mustRoom(roomId: string): RoomState {
    const room = this.mirror.rooms.get(roomId);
    if (!room) throw notFound();
    return room;
  }
}
