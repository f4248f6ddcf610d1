/**
 * One room as the client knows it: the room object, the messages loaded so far, and the catch-up
 * cursor. Pure bookkeeping with no I/O, so the rules for merging live events, history pages and
 * catch-up answers sit in one place.
 */
import type { Message, Room, SharedRoom } from "../protocol/index.js";

export class RoomState {
  room: Room;
  /** The loaded window of messages, by id. */
  private readonly byId = new Map<string, Message>();
  private sorted: Message[] | null = [];
  /** Whether the newest page was asked for: from then on, live messages are kept too. */
  loaded = false;
  /** Whether older messages than the loaded ones exist. */
  hasOlder = false;
  /**
   * The room `rev` up to which this client has every change. It only moves to the next `rev`
   * (cursor + 1), or to what a `message:changes` answer covers: a live event further ahead means
   * one was missed on the way, and the cursor waits for it to be fetched.
   */
  cursor: number;
  /** Between a disconnect and the end of catch-up: the catch-up fetches the gaps, nobody else. */
  catchingUp = false;
  /** Revs of live events received past `cursor + 1`, waiting for the gap below them to be filled. */
  private readonly ahead = new Set<number>();
  /** Users typing in this room, with when their indicator runs out. */
  readonly typing = new Map<string, number>();

  constructor(room: Room) {
    this.room = room;
    this.cursor = room.rev;
  }

  /** The loaded messages, ascending `seq`. */
  messages(): Message[] {
    this.sorted ??= [...this.byId.values()].sort((a, b) => a.seq - b.seq);
    return this.sorted;
  }

  /** Whether a message with this `clientId` is stored (so its outbox entry is not shown twice). */
  hasClientId(clientId: string): boolean {
    for (const m of this.byId.values()) if (m.clientId === clientId) return true;
    return false;
  }

  /**
   * Applies a message from any source (live event, ack, history, catch-up): added if new, replaced
   * if this copy is at least as recent (`rev`). Returns whether it was a message the room had not
   * counted yet, for unread counts.
   */
  applyMessage(message: Message, me: string | null, fromLiveEvent: boolean): boolean {
    const isNew = message.seq > this.room.lastSeq;
    const room = this.room;
    if (!isNew) this.recountEdit(message, me);
    if (isNew) room.lastSeq = message.seq;
    room.rev = Math.max(room.rev, message.rev);
    if (!room.lastMessage || message.seq > room.lastMessage.seq) room.lastMessage = message;
    else if (room.lastMessage.id === message.id && message.rev >= room.lastMessage.rev) {
      room.lastMessage = message;
    }
    if (isNew && message.senderId !== me && message.seq > room.readSeq) {
      room.unread += 1;
      if (mentionsMe(message, me)) room.mentions += 1;
    }
    if (message.senderId !== me) this.typing.delete(message.senderId);
    if (fromLiveEvent) this.advance(message.rev);
    if (this.loaded) this.keep(message);
    return isNew;
  }

  /**
   * Set when an edit or a deletion of an unread message arrived whose earlier copy is not known
   * here: whether it mentioned me before can't be told, so the room's counts are fetched again.
   */
  mentionsUnsure = false;

  /**
   * An edit can add or remove a mention of me, and a deletion removes them all (a deleted message
   * has none): the unread mention count follows, for unread messages of others only, as the
   * server counts them.
   */
  private recountEdit(message: Message, me: string | null): void {
    const room = this.room;
    if (message.senderId === me || message.seq <= room.readSeq) return;
    const last = room.lastMessage?.id === message.id ? room.lastMessage : undefined;
    const before = this.byId.get(message.id) ?? last;
    if (!before) {
      this.mentionsUnsure = true;
      return;
    }
    if (before.rev >= message.rev) return;
    const change = Number(mentionsMe(message, me)) - Number(mentionsMe(before, me));
    room.mentions = Math.max(0, room.mentions + change);
  }

  /** Keeps a message in the loaded window unless a newer copy is already there. */
  keep(message: Message): void {
    const known = this.byId.get(message.id);
    if (known && known.rev > message.rev) return;
    this.byId.set(message.id, message);
    this.sorted = null;
  }

  /**
   * A live event's `rev`: the next one moves the cursor (with any waiting just above it), one
   * further ahead waits for the gap to be fetched, an old one (a repeat) changes nothing.
   */
  advance(rev: number): void {
    if (rev <= this.cursor) return;
    this.ahead.add(rev);
    this.absorb();
  }

  /** Whether a live event came past a missing `rev`: `message:changes` from the cursor fills it. */
  hasGap(): boolean {
    return this.ahead.size > 0;
  }

  /** A `message:changes` answer (or a fresh room) covers everything up to `rev`. */
  coveredTo(rev: number): void {
    this.cursor = Math.max(this.cursor, rev);
    this.absorb();
  }

  /** Moves the cursor over the waiting revs that follow it without a gap, and forgets older ones. */
  private absorb(): void {
    while (this.ahead.delete(this.cursor + 1)) this.cursor += 1;
    for (const rev of this.ahead) if (rev <= this.cursor) this.ahead.delete(rev);
  }

  beginCatchUp(): void {
    this.catchingUp = true;
  }

  /** Catch-up reached `rev`: everything up to it is applied; later live events count on top. */
  finishCatchUp(rev: number): void {
    this.catchingUp = false;
    this.coveredTo(rev);
  }

  /**
   * Takes the server's view of the room. An answer can be older than events that already arrived
   * (the server may compute it before a message is stored and send it after that message's
   * broadcast), so anything newer here is kept and counted on top.
   */
  update(fresh: Room, me: string | null): void {
    const old = this.room;
    const newerHere = old.lastSeq > fresh.lastSeq;
    const readSeq = Math.max(old.readSeq, fresh.readSeq);
    const lastSeq = Math.max(old.lastSeq, fresh.lastSeq);
    let unread = newerHere ? fresh.unread + this.othersAfter(fresh.lastSeq, me) : fresh.unread;
    let mentions = newerHere ? fresh.mentions + this.mentionsAfter(fresh.lastSeq, me) : fresh.mentions;
    if (readSeq >= lastSeq) {
      unread = 0;
      mentions = 0;
    }
    this.mentionsUnsure = false;
    this.room = {
      ...fresh,
      members: mergeMembers(old, fresh),
      lastSeq,
      readSeq,
      unread,
      mentions,
      rev: Math.max(old.rev, fresh.rev),
      lastMessage: newerHere ? old.lastMessage : fresh.lastMessage,
    };
  }

  /** Messages after `seq` not sent by me: counted from the loaded ones, else assumed all others'. */
  private othersAfter(seq: number, me: string | null): number {
    if (!this.loaded) return this.room.lastSeq - seq;
    return this.messages().filter((m) => m.seq > seq && m.senderId !== me).length;
  }

  /** Of those, the ones that mention me (v2.3); none known when the messages are not loaded. */
  private mentionsAfter(seq: number, me: string | null): number {
    if (!this.loaded) return 0;
    return this.messages().filter((m) => m.seq > seq && m.senderId !== me && mentionsMe(m, me)).length;
  }

  /** `room:updated` has no per-user fields: keep ours, take the rest. */
  updateShared(shared: SharedRoom): void {
    // Only the name and the members: message fields move with the message events themselves
    // (taking `lastSeq` from here would stop the next message from counting as unread).
    const readSeqs = new Map(this.room.members.map((m) => [m.userId, m.readSeq]));
    const members = shared.members.map((m) => ({
      ...m,
      readSeq: Math.max(m.readSeq, readSeqs.get(m.userId) ?? 0),
    }));
    this.room = { ...this.room, name: shared.name, members, memberCount: shared.memberCount };
  }

  /** A read marker moved. Returns false when the unread count can't be known locally. */
  applyRead(userId: string, seq: number, me: string | null): boolean {
    const room = this.room;
    room.members = room.members.map((m) =>
      m.userId === userId ? { ...m, readSeq: Math.max(m.readSeq, seq) } : m,
    );
    if (userId !== me || seq <= room.readSeq) return true;
    room.readSeq = seq;
    if (seq >= room.lastSeq) {
      room.unread = 0;
      room.mentions = 0;
      return true;
    }
    // Read part of the way: when every message after the marker is loaded, the mentions left are
    // counted here at once; the server's answer to the refetch confirms them.
    const oldest = this.oldestSeq();
    if (this.loaded && oldest !== undefined && oldest <= seq + 1) {
      room.mentions = this.mentionsAfter(seq, me);
    }
    return false;
  }

  /** From now on live messages are kept: none can slip between them and the newest page. */
  startLoading(): void {
    this.loaded = true;
  }

  /** Adds a page of history: the newest page, or an older one when paging back. */
  addPage(messages: Message[], hasMore: boolean): void {
    this.hasOlder = hasMore;
    for (const m of messages) this.keep(m);
  }

  /** The oldest loaded `seq`, the cursor for paging back. */
  oldestSeq(): number | undefined {
    return this.messages()[0]?.seq;
  }
}

/**
 * The members to keep when the server's view arrives. A `room:list` answer shortens big groups'
 * lists (`members.length < memberCount`): then the fuller list known here stays, with the fresh
 * entries applied over it, rather than shrinking to the shortened one.
 */
function mergeMembers(old: Room, fresh: Room): Room["members"] {
  const shortened = fresh.members.length < (fresh.memberCount ?? fresh.members.length);
  if (!shortened || old.members.length <= fresh.members.length) return fresh.members;
  const freshById = new Map(fresh.members.map((m) => [m.userId, m]));
  const merged = old.members.map((m) => freshById.get(m.userId) ?? m);
  for (const m of fresh.members) if (!old.members.some((o) => o.userId === m.userId)) merged.push(m);
  return merged;
}

/** Whether a message mentions me, or everyone (v2.3). */
function mentionsMe(message: Message, me: string | null): boolean {
  return message.mentionsAll || (me !== null && message.mentions.includes(me));
}
