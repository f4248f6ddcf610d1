/**
 * The local state a UI renders from: who I am, the connection, rooms with unread counts, loaded
 * messages, my messages still waiting to be sent, typing and presence. The client feeds it; a UI
 * subscribes and reads. Nothing here talks to the network.
 */
import {
  LIMITS,
  type Message,
  type Presence,
  type Room,
  type SharedRoom,
  type User,
} from "../protocol/index.js";
import type { Outbox, OutboxItem } from "./outbox.js";
import { RoomState } from "./room-state.js";

/**
 * `connecting`: before the first session; `online`: connected and caught up or catching up;
 * `offline`: the connection dropped and the client is trying again; `signed-out`: the server refused
 * the token and no new one could be had.
 */
export type ConnectionStatus = "connecting" | "online" | "offline" | "signed-out";

/** Typing indicators run out on their own if the server's `typing: false` never arrives. */
const TYPING_SAFETY_MS = LIMITS.typingTimeoutMs + 2000;
/** Live messages kept for rooms that are still being fetched. */
const MAX_ORPHAN_ROOMS = 20;
const MAX_ORPHANS_PER_ROOM = 100;

export class ChatState {
  me: User | null = null;
  status: ConnectionStatus = "connecting";
  /** Bumped on every change, so a UI can tell cheaply whether to render again. */
  version = 0;
  private readonly roomsById = new Map<string, RoomState>();
  private readonly presenceById = new Map<string, Presence>();
  private readonly orphans = new Map<string, Message[]>();
  private readonly listeners = new Set<() => void>();
  private typingTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly outbox: Outbox) {}

  /** Calls `listener` after every change; returns a function that stops it. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells subscribers that something changed. */
  changed(): void {
    this.version += 1;
    for (const listener of [...this.listeners]) listener();
  }

  /** Rooms, most recent activity first. */
  rooms(): Room[] {
    const activity = (r: Room) => r.lastMessage?.createdAt ?? r.createdAt;
    return [...this.roomsById.values()]
      .map((s) => s.room)
      .sort((a, b) => activity(b).localeCompare(activity(a)));
  }

  room(roomId: string): Room | undefined {
    return this.roomsById.get(roomId)?.room;
  }

  /** The room's bookkeeping (loaded window, paging, cursor); undefined for an unknown room. */
  roomState(roomId: string): RoomState | undefined {
    return this.roomsById.get(roomId);
  }

  /** Loaded messages of a room, ascending `seq`. */
  messages(roomId: string): Message[] {
    return this.roomsById.get(roomId)?.messages() ?? [];
  }

  /** My messages for this room that the server has not stored yet, oldest first. */
  pending(roomId: string): OutboxItem[] {
    const state = this.roomsById.get(roomId);
    return this.outbox.items().filter((i) => i.roomId === roomId && !state?.hasClientId(i.clientId));
  }

  /** How many of my messages are waiting to be sent, in all rooms. */
  pendingCount(): number {
    return this.outbox.items().filter((i) => i.state !== "failed").length;
  }

  /** Ids of the other users typing in a room right now. */
  typing(roomId: string): string[] {
    const state = this.roomsById.get(roomId);
    if (!state) return [];
    const now = Date.now();
    return [...state.typing].filter(([, until]) => until > now).map(([userId]) => userId);
  }

  presence(userId: string): Presence | undefined {
    return this.presenceById.get(userId);
  }

  /** A user's name as the rooms' member lists give it. */
  userName(userId: string): string | undefined {
    if (this.me?.id === userId) return this.me.name;
    for (const { room } of this.roomsById.values()) {
      const member = room.members.find((m) => m.userId === userId);
      if (member) return member.name;
    }
    return undefined;
  }

  /** Every user who shares a room with me, for presence. */
  contacts(): string[] {
    const ids = new Set<string>();
    for (const { room } of this.roomsById.values()) for (const m of room.members) ids.add(m.userId);
    if (this.me) ids.delete(this.me.id);
    return [...ids];
  }

  // --- changes, called by the client -------------------------------------------------------------

  /** Takes a full room list: adds new rooms, updates known ones, drops the ones I left. */
  setRooms(rooms: Room[]): void {
    const seen = new Set<string>();
    for (const room of rooms) {
      seen.add(room.id);
      this.upsertRoom(room);
    }
    for (const id of this.roomsById.keys()) if (!seen.has(id)) this.roomsById.delete(id);
  }

  /** Adds or updates one room as I see it (from `room:list`, `room:get` or a room request's answer). */
  upsertRoom(room: Room): RoomState {
    const me = this.me?.id ?? null;
    const known = this.roomsById.get(room.id);
    if (known) {
      known.update(room, me);
      return known;
    }
    const state = new RoomState(room);
    this.roomsById.set(room.id, state);
    // messages that arrived before the room did (the answer was computed before they were stored)
    for (const message of this.orphans.get(room.id) ?? []) state.applyMessage(message, me, true);
    this.orphans.delete(room.id);
    return state;
  }

  /** `room:updated`. Returns false for a room this client did not know (fetch it with `room:get`). */
  applySharedRoom(shared: SharedRoom): boolean {
    const known = this.roomsById.get(shared.id);
    if (!known) return false;
    known.updateShared(shared);
    return true;
  }

  removeRoom(roomId: string): void {
    this.roomsById.delete(roomId);
  }

  /**
   * A message from any source; live events also move the room's catch-up cursor. Returns true when
   * the room's mention count can't be told locally (an edit of a message not loaded here), so the
   * caller fetches the room again.
   */
  applyMessage(message: Message, fromLiveEvent: boolean): boolean {
    const state = this.roomsById.get(message.roomId);
    if (state) {
      state.applyMessage(message, this.me?.id ?? null, fromLiveEvent);
      const unsure = state.mentionsUnsure;
      state.mentionsUnsure = false;
      return unsure;
    }
    if (fromLiveEvent) this.keepOrphan(message);
    return false;
  }

  /**
   * A live message for a room not known yet: it was just created and `room:get` is on its way.
   * Kept (a few, briefly) and applied when the room arrives, so its unread count is right.
   */
  private keepOrphan(message: Message): void {
    if (this.orphans.size >= MAX_ORPHAN_ROOMS && !this.orphans.has(message.roomId)) return;
    const list = this.orphans.get(message.roomId) ?? [];
    if (list.length < MAX_ORPHANS_PER_ROOM) list.push(message);
    this.orphans.set(message.roomId, list);
  }

  /** A read marker moved; returns false when the room should be fetched again for its unread count. */
  applyRead(roomId: string, userId: string, seq: number): boolean {
    return this.roomsById.get(roomId)?.applyRead(userId, seq, this.me?.id ?? null) ?? true;
  }

  applyTyping(roomId: string, userId: string, typing: boolean): void {
    const state = this.roomsById.get(roomId);
    if (!state || userId === this.me?.id) return;
    if (typing) state.typing.set(userId, Date.now() + TYPING_SAFETY_MS);
    else state.typing.delete(userId);
    this.scheduleTypingExpiry();
  }

  applyPresence(userId: string, presence: Presence): void {
    this.presenceById.set(userId, presence);
  }

  /** The connection dropped: stop every room's cursor until catch-up has run. */
  beginCatchUp(): void {
    for (const state of this.roomsById.values()) state.beginCatchUp();
    // whoever was typing may have stopped, and anyone may have come or gone, while we could not
    // hear it: the catch-up asks for presence again
    for (const state of this.roomsById.values()) state.typing.clear();
    this.presenceById.clear();
  }

  private scheduleTypingExpiry(): void {
    if (this.typingTimer) clearTimeout(this.typingTimer);
    let next = Number.POSITIVE_INFINITY;
    for (const state of this.roomsById.values())
      for (const until of state.typing.values()) next = Math.min(next, until);
    if (next === Number.POSITIVE_INFINITY) return;
    this.typingTimer = setTimeout(
      () => {
        this.typingTimer = null;
        const now = Date.now();
        for (const state of this.roomsById.values()) {
          for (const [userId, until] of state.typing) if (until <= now) state.typing.delete(userId);
        }
        this.changed();
        this.scheduleTypingExpiry();
      },
      next - Date.now() + 10,
    );
  }

  /** Stops timers (the client was closed). */
  dispose(): void {
    if (this.typingTimer) clearTimeout(this.typingTimer);
    this.listeners.clear();
  }
}
