/**
 * Rooms: listing, direct rooms, groups and their membership. Every change is announced to the
 * members' sockets at once, and sockets of added or removed users start or stop receiving the room.
 */
import { badRequest, forbidden, notFound } from "../../errors.js";
import type { Role, Room, SharedRoom } from "../../protocol/index.js";
import type { Actor } from "../../realtime/types.js";
import type { RoomState } from "../../storage/chat-store.js";
import { type ChatDeps, lookUpUsers, memberRoom } from "../context.js";
import { roomFor, sharedRoom } from "./view.js";

export class RoomService {
  /** Called after every change of a room's name or members, with its key if mirrored (webhooks). */
  onUpdated: (room: SharedRoom, externalKey: string | null) => void = () => {};

  constructor(private readonly deps: ChatDeps) {}

  /** The actor's rooms, most recent activity first. */
  list(actor: Actor): Room[] {
    return this.deps.store
      .roomsOf(actor.id)
      .sort((a, b) =>
        a.lastActivityAt < b.lastActivityAt ? 1 : a.lastActivityAt > b.lastActivityAt ? -1 : 0,
      )
      .map((room) => roomFor(actor.id, room, this.deps.store));
  }

  get(actor: Actor, roomId: string): Room {
    return this.view(actor, memberRoom(this.deps, actor, roomId));
  }

  async direct(actor: Actor, userId: string): Promise<Room> {
    if (userId === actor.id) throw badRequest("A direct chat needs another person.");
    await lookUpUsers(this.deps, actor, [userId]);
    const { room, created } = await this.deps.store.openDirect(actor.id, userId, this.deps.now());
    if (created) this.announceJoin(room, [actor.id, userId]);
    return this.view(actor, room);
  }

  async create(actor: Actor, name: string, memberIds: readonly string[]): Promise<Room> {
    const others = memberIds.filter((id) => id !== actor.id);
    await lookUpUsers(this.deps, actor, others);
    const room = await this.deps.store.createGroup({
      name,
      ownerId: actor.id,
      memberIds: others,
      at: this.deps.now(),
    });
    this.announceJoin(room, room.members.keys());
    return this.view(actor, room);
  }

  async rename(actor: Actor, roomId: string, name: string): Promise<Room> {
    this.managedGroup(actor, roomId);
    const room = await this.deps.store.rename(roomId, name);
    this.announce(room);
    return this.view(actor, room);
  }

  async addMembers(actor: Actor, roomId: string, userIds: readonly string[]): Promise<Room> {
    const current = this.managedGroup(actor, roomId);
    const newcomers = userIds.filter((id) => !current.members.has(id));
    await lookUpUsers(this.deps, actor, newcomers);
    const { room, added } = await this.deps.store.addMembers(roomId, newcomers, this.deps.now());
    if (added.length > 0) this.announceJoin(room, added);
    return this.view(actor, room);
  }

  async setRole(actor: Actor, roomId: string, userId: string, role: Exclude<Role, "owner">): Promise<Room> {
    const room = this.group(actor, roomId);
    if (room.members.get(actor.id)?.role !== "owner")
      throw forbidden("Only the room's owner can change roles.");
    const target = room.members.get(userId);
    if (!target) throw notFound("user");
    if (target.role === "owner") throw forbidden("The owner's role can't be changed.");
    if (target.role === role) return this.view(actor, room);
    const updated = await this.deps.store.setRole(roomId, userId, role);
    this.announce(updated);
    return this.view(actor, updated);
  }

  async removeMember(actor: Actor, roomId: string, userId: string): Promise<Room> {
    const room = this.managedGroup(actor, roomId);
    const target = room.members.get(userId);
    if (!target) throw notFound("user");
    if (target.role === "owner") throw forbidden("The room's owner can't be removed.");
    const myRole = room.members.get(actor.id)?.role;
    if (myRole === "admin" && target.role === "admin" && userId !== actor.id) {
      throw forbidden("Only the owner can remove an admin.");
    }
    const result = await this.removeAndAnnounce(roomId, userId);
    if (!result) throw notFound();
    return this.view(actor, result);
  }

  async leave(actor: Actor, roomId: string): Promise<void> {
    this.group(actor, roomId);
    await this.removeAndAnnounce(roomId, actor.id);
  }

  private async removeAndAnnounce(roomId: string, userId: string): Promise<RoomState | null> {
    const { room } = await this.deps.store.removeMember(roomId, userId);
    this.deps.fanout.remove(userId, roomId);
    if (room) this.announce(room);
    return room;
  }

  /** New members' sockets join the room, then every member hears about it. */
  private announceJoin(room: RoomState, userIds: Iterable<string>): void {
    this.deps.fanout.join(userIds, room.id);
    this.announce(room);
  }

  /** Every member's sockets get `room:updated`; the hook (webhooks) hears of it too. */
  announce(room: RoomState): void {
    const shared = sharedRoom(room, this.deps.store);
    this.deps.fanout.roomUpdated(shared);
    this.onUpdated(shared, room.externalKey);
  }

  private group(actor: Actor, roomId: string): RoomState {
    const room = memberRoom(this.deps, actor, roomId);
    if (room.type !== "group") throw badRequest("This can only be done in a group, not in a direct chat.");
    return room;
  }

  private managedGroup(actor: Actor, roomId: string): RoomState {
    const room = this.group(actor, roomId);
    const role = room.members.get(actor.id)?.role;
    if (role !== "owner" && role !== "admin")
      throw forbidden("Only the room's owner or an admin can do this.");
    return room;
  }

  private view(actor: Actor, room: RoomState): Room {
    return roomFor(actor.id, room, this.deps.store);
  }
}
