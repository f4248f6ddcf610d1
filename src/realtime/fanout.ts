/**
 * Who receives what. Every socket joins a channel for its user and one per room it is in, so a
 * broadcast is one `emit` that Socket.io serializes once; with the Redis adapter the same calls
 * reach the sockets on every node.
 *
 * With USERS_SCOPE_COLUMN, every socket also joins one channel per room and scope (`rs:42:"acme"`):
 * what shows a user (typing, read receipts, `room:updated` with its member list) goes to the
 * channel of that user's scope only. Messages go to the whole room.
 *
 * A message with files is the exception to "one emit": its links are signed for each recipient
 * (src/files/links.ts), so it goes out once per member, to that member's user channel. Messages
 * without files, nearly all of them, are still encoded once for the whole room.
 */
import type { Broadcast } from "../chat/broadcast.js";
import type { ScopeKey } from "../chat/scopes.js";
import type { FileLinks } from "../files/links.js";
import type { Message, SharedRoom } from "../protocol/index.js";
import { coalesceAllWrites } from "./coalesce.js";
import type { ChatServer } from "./types.js";

export const userChannel = (userId: string) => `u:${userId}`;
export const roomChannel = (roomId: string) => `r:${roomId}`;
/** The sockets of one scope in a room (only with USERS_SCOPE_COLUMN). */
export const roomScopeChannel = (roomId: string, scope: ScopeKey) => `rs:${roomId}:${scope}`;

/** The room's channel, or its scope's when the event is about users of one scope. */
const roomOrScope = (roomId: string, scope: ScopeKey | undefined) =>
  scope === undefined ? roomChannel(roomId) : roomScopeChannel(roomId, scope);

/** The members of a room now, as the store that made the change knows them. */
export type RoomMembers = (roomId: string) => Iterable<string>;

export class Fanout implements Broadcast {
  constructor(
    private readonly io: ChatServer,
    /** signs each recipient's file links */
    protected readonly links: FileLinks,
    /** who gets a message with files (one emit each) */
    private readonly members: RoomMembers,
  ) {
    coalesceAllWrites(io);
  }

  messageNew(message: Message): void {
    this.broadcastMessage("message:new", message);
  }

  messageUpdated(message: Message): void {
    this.broadcastMessage("message:updated", message);
  }

  messageDeleted(message: Message): void {
    this.broadcastMessage("message:deleted", message);
  }

  private broadcastMessage(
    event: "message:new" | "message:updated" | "message:deleted",
    message: Message,
  ): void {
    if (message.files.length === 0) {
      this.io.to(roomChannel(message.roomId)).emit(event, message);
      return;
    }
    for (const userId of this.members(message.roomId)) {
      if (!this.mayHaveSockets(userId)) continue;
      this.io.to(userChannel(userId)).emit(event, this.links.message(message, userId));
    }
  }

  /**
   * Whether the user may have a socket to send to: on one node, only if one is connected here
   * (so a big room's offline members cost nothing); a cluster's fan-out says yes for everyone.
   */
  protected mayHaveSockets(userId: string): boolean {
    return (this.io.sockets.adapter.rooms.get(userChannel(userId))?.size ?? 0) > 0;
  }

  /**
   * `scope`: the view of the room for that scope's sockets only. A last message with files goes
   * to each member the view lists (all of its scope), with their own links.
   */
  roomUpdated(room: SharedRoom, scope?: ScopeKey): void {
    if (!room.lastMessage?.files.length) {
      this.io.to(roomOrScope(room.id, scope)).emit("room:updated", room);
      return;
    }
    for (const { userId } of room.members) {
      if (!this.mayHaveSockets(userId)) continue;
      this.io.to(userChannel(userId)).emit("room:updated", this.links.room(room, userId));
    }
  }

  /** A room changed without a broadcast to its members (several nodes re-read it). */
  roomTouched(_roomId: string): void {}

  /** `scope`: the reader's, when scopes apply. */
  roomRead(roomId: string, userId: string, seq: number, scope?: ScopeKey): void {
    this.io.to(roomOrScope(roomId, scope)).emit("room:read", { roomId, userId, seq });
  }

  /** `scope`: the typer's, when scopes apply. */
  typing(roomId: string, userId: string, typing: boolean, scope?: ScopeKey): void {
    this.io
      .to(roomOrScope(roomId, scope))
      .except(userChannel(userId))
      .emit("typing", { roomId, userId, typing });
  }

  presence(userIds: Iterable<string>, userId: string, online: boolean, lastSeenAt: string | null): void {
    const channels = [...userIds].map(userChannel);
    if (channels.length > 0) this.io.to(channels).emit("presence", { userId, online, lastSeenAt });
  }

  /**
   * Makes every socket of these users receive the room's events from now on. `scopes` (with
   * USERS_SCOPE_COLUMN): each user's scope, for the room's scope channel; a user whose scope is
   * not known joins none.
   */
  join(userIds: Iterable<string>, roomId: string, scopes?: ReadonlyMap<string, ScopeKey>): void {
    const ids = [...userIds];
    if (ids.length === 0) return;
    if (!scopes) {
      this.io.in(ids.map(userChannel)).socketsJoin(roomChannel(roomId));
      return;
    }
    const byScope = new Map<ScopeKey, string[]>();
    for (const id of ids) {
      const scope = scopes.get(id);
      if (scope === undefined) continue;
      byScope.set(scope, [...(byScope.get(scope) ?? []), id]);
    }
    for (const [scope, members] of byScope) {
      this.io
        .in(members.map(userChannel))
        .socketsJoin([roomChannel(roomId), roomScopeChannel(roomId, scope)]);
    }
  }

  /**
   * Stops the room's events for every socket of this user, then tells them. `scopes`: the scope
   * channels of the room to leave too (with USERS_SCOPE_COLUMN).
   */
  remove(userId: string, roomId: string, scopes: readonly ScopeKey[] = []): void {
    this.io
      .in(userChannel(userId))
      .socketsLeave([roomChannel(roomId), ...scopes.map((s) => roomScopeChannel(roomId, s))]);
    this.io.to(userChannel(userId)).emit("room:removed", { roomId });
  }

  /** Ends every socket of the user (server API "disconnect": their tokens were revoked). */
  disconnectUser(userId: string): void {
    // told why first, as the re-check does (session:ended); the adapter keeps the two in order
    this.io.to(userChannel(userId)).emit("session:ended", { code: "AUTH_INVALID" });
    this.io.in(userChannel(userId)).disconnectSockets(true);
  }
}
