/**
 * Who receives what. Every socket joins a channel for its user and one per room it is in, so a
 * broadcast is one `emit` that Socket.io serializes once; with the Redis adapter the same calls
 * reach the sockets on every node.
 */
import type { Message, SharedRoom } from "../protocol/index.js";
import { coalesceAllWrites } from "./coalesce.js";
import type { ChatServer } from "./types.js";

export const userChannel = (userId: string) => `u:${userId}`;
export const roomChannel = (roomId: string) => `r:${roomId}`;

export class Fanout {
  constructor(private readonly io: ChatServer) {
    coalesceAllWrites(io);
  }

  messageNew(message: Message): void {
    this.io.to(roomChannel(message.roomId)).emit("message:new", message);
  }

  messageUpdated(message: Message): void {
    this.io.to(roomChannel(message.roomId)).emit("message:updated", message);
  }

  messageDeleted(message: Message): void {
    this.io.to(roomChannel(message.roomId)).emit("message:deleted", message);
  }

  roomUpdated(room: SharedRoom): void {
    this.io.to(roomChannel(room.id)).emit("room:updated", room);
  }

  roomRead(roomId: string, userId: string, seq: number): void {
    this.io.to(roomChannel(roomId)).emit("room:read", { roomId, userId, seq });
  }

  typing(roomId: string, userId: string, typing: boolean): void {
    this.io.to(roomChannel(roomId)).except(userChannel(userId)).emit("typing", { roomId, userId, typing });
  }

  presence(userIds: Iterable<string>, userId: string, online: boolean, lastSeenAt: string | null): void {
    const channels = [...userIds].map(userChannel);
    if (channels.length > 0) this.io.to(channels).emit("presence", { userId, online, lastSeenAt });
  }

  /** Makes every socket of these users receive the room's events from now on. */
  join(userIds: Iterable<string>, roomId: string): void {
    const channels = [...userIds].map(userChannel);
    if (channels.length > 0) this.io.in(channels).socketsJoin(roomChannel(roomId));
  }

  /** Stops the room's events for every socket of this user, then tells them. */
  remove(userId: string, roomId: string): void {
    this.io.in(userChannel(userId)).socketsLeave(roomChannel(roomId));
    this.io.to(userChannel(userId)).emit("room:removed", { roomId });
  }

  /** Ends every socket of the user (server API "disconnect": their tokens were revoked). */
  disconnectUser(userId: string): void {
    // told why first, as the re-check does (session:ended); the adapter keeps the two in order
    this.io.to(userChannel(userId)).emit("session:ended", { code: "AUTH_INVALID" });
    this.io.in(userChannel(userId)).disconnectSockets(true);
  }
}
