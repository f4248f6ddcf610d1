/**
 * What the chat services tell connected users, named here so the services don't depend on the
 * transport: src/realtime/fanout.ts implements it with Socket.io channels (and the cluster's
 * AnnouncingFanout on top of that), and a test may pass any object with these methods.
 */
import type { Message, SharedRoom } from "../protocol/index.js";
import type { ScopeKey } from "./scopes.js";

export interface Broadcast {
  /** A new message, to every member of its room. */
  messageNew(message: Message): void;
  /** An edited message or a changed reaction, to every member of its room. */
  messageUpdated(message: Message): void;
  /** A deleted message, to every member of its room. */
  messageDeleted(message: Message): void;
  /** The room as members see it; `scope`: to that scope's members only. */
  roomUpdated(room: SharedRoom, scope?: ScopeKey): void;
  /** The room changed but nobody is told (other nodes re-read it). */
  roomTouched(roomId: string): void;
  /** A read marker moved; `scope`: the reader's, when scopes apply. */
  roomRead(roomId: string, userId: string, seq: number, scope?: ScopeKey): void;
  /** Someone started or stopped typing; not sent back to the typer; `scope`: the typer's. */
  typing(roomId: string, userId: string, typing: boolean, scope?: ScopeKey): void;
  /** A user came online or went offline, to the users in `userIds`. */
  presence(userIds: Iterable<string>, userId: string, online: boolean, lastSeenAt: string | null): void;
  /** Every socket of these users receives the room's events from now on. */
  join(userIds: Iterable<string>, roomId: string, scopes?: ReadonlyMap<string, ScopeKey>): void;
  /** The user's sockets stop receiving the room's events and are told `room:removed`. */
  remove(userId: string, roomId: string, scopes?: readonly ScopeKey[]): void;
}
