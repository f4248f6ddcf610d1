/**
 * Rooms: listing, direct rooms, groups and their membership. Every change is announced to the
 * members' sockets at once, and sockets of added or removed users start or stop receiving the room.
 */
import { AppError, badRequest, forbidden, notFound } from "../../errors.js";
import {
  LIMITS,
  type Member,
  type NotifyLevel,
  type RecordFilter,
  type Role,
  type Room,
  type SharedRoom,
} from "../../protocol/index.js";
import type { Actor } from "../../shared/actor.js";
import { Listeners } from "../../shared/listeners.js";
import type { StoredRoom } from "../../storage/chat-store.js";
import { type ChatDeps, listenerErrors, lookUpUsers, memberRoom } from "../context.js";
import { decodeMemberCursor, decodeRoomCursor, encodeMemberCursor, encodeRoomCursor } from "./cursor.js";
import { orderedMembers, roomFor, roomsFor, sharedRoom, toMember } from "./view.js";

/** A page of `room:list`. */
export interface RoomPage {
  rooms: Room[];
  /** the cursor of the next page, or null on the last one */
  next: string | null;
}

/** Most recent activity first; among equal times the newer (higher) id first. */
function byActivity(
  a: Pick<StoredRoom, "lastActivityAt" | "id">,
  b: Pick<StoredRoom, "lastActivityAt" | "id">,
) {
  if (a.lastActivityAt !== b.lastActivityAt) return a.lastActivityAt < b.lastActivityAt ? 1 : -1;
  return compareIds(b.id, a.id);
}

/** Whether a room passes `room:list`'s record filter. */
function matchesRecord(room: StoredRoom, filter: RecordFilter): boolean {
  if (filter === true) return room.record !== null;
  if (filter === false) return room.record === null;
  return room.record?.kind === filter.kind;
}

/** Decimal id strings compared as numbers. */
function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

export class RoomService {
  /** Hears every change of a room's name or members, with its key if mirrored (webhooks). */
  readonly onUpdated: Listeners<[room: SharedRoom, externalKey: string | null]>;

  constructor(private readonly deps: ChatDeps) {
    this.onUpdated = new Listeners(listenerErrors(deps, "onUpdated"));
  }

  /**
   * One page of the actor's rooms, most recent activity first (ties: newer room first). `next`
   * continues after the page's last room; a room whose activity moves it up meanwhile is not
   * repeated, and its news arrives as live events anyway. Each room carries at most
   * LIMITS.listMembersMax members, so one answer stays small however many groups the actor is in.
   */
  async list(
    actor: Actor,
    page: {
      limit?: number | undefined;
      cursor?: string | undefined;
      record?: RecordFilter | undefined;
    } = {},
  ): Promise<RoomPage> {
    const limit = page.limit ?? LIMITS.roomPageDefault;
    const filter = page.record;
    const sorted = (await this.deps.store.roomsOf(actor.id))
      .filter((room) => filter === undefined || matchesRecord(room, filter))
      .sort(byActivity);
    let start = 0;
    if (page.cursor !== undefined) {
      const after = decodeRoomCursor(page.cursor);
      start = sorted.findIndex((r) => byActivity(r, { lastActivityAt: after.at, id: after.id }) > 0);
      if (start < 0) start = sorted.length;
    }
    const rooms = sorted.slice(start, start + limit);
    const last = rooms.at(-1);
    const next =
      last && start + limit < sorted.length ? encodeRoomCursor(last.lastActivityAt, last.id) : null;
    const visible = await this.deps.scopes.visibleTo(
      actor,
      rooms.flatMap((room) => [...room.members.keys()]),
    );
    return {
      rooms: (
        await roomsFor(actor.id, rooms, this.deps.store, {
          maxMembers: LIMITS.listMembersMax,
          keep: actor.id,
          visible,
        })
      ).map((room) => this.deps.links.room(room, actor.id)),
      next,
    };
  }

  /** One page of a room's members (those the actor may see), in join order. */
  async members(
    actor: Actor,
    roomId: string,
    page: { limit?: number | undefined; cursor?: string | undefined } = {},
  ): Promise<{ members: Member[]; next: string | null }> {
    const room = await memberRoom(this.deps, actor, roomId);
    const limit = page.limit ?? LIMITS.membersPageDefault;
    const after = page.cursor === undefined ? null : decodeMemberCursor(page.cursor);
    const visible = await this.deps.scopes.visibleTo(actor, room.members.keys());
    const all = orderedMembers(room).filter(
      (m) => visible(m.userId) && (after === null || m.joinOrder > after),
    );
    const shown = all.slice(0, limit);
    const last = shown.at(-1);
    const names = await this.deps.store.userNames(shown.map((m) => m.userId));
    return {
      members: shown.map((m) => toMember(m, names)),
      next: last && all.length > limit ? encodeMemberCursor(last.joinOrder) : null,
    };
  }

  async get(actor: Actor, roomId: string): Promise<Room> {
    return this.view(actor, await memberRoom(this.deps, actor, roomId));
  }

  /**
   * (v2.3) The actor's own notification setting for a room: nobody else is told, as nobody else
   * sees it. A room the actor is not in is NOT_FOUND, as everywhere.
   */
  async setNotify(actor: Actor, roomId: string, notify: NotifyLevel): Promise<Room> {
    await memberRoom(this.deps, actor, roomId);
    await this.deps.store.setNotify(roomId, actor.id, notify);
    return this.view(actor, await memberRoom(this.deps, actor, roomId));
  }

  async direct(actor: Actor, userId: string): Promise<Room> {
    if (userId === actor.id) throw badRequest("A direct chat needs another person.");
    await lookUpUsers(this.deps, actor, [userId]);
    const { room, created } = await this.deps.store.openDirect(actor.id, userId, this.deps.now());
    if (created) await this.announceJoin(room, [actor.id, userId]);
    return this.view(actor, room);
  }

  async create(actor: Actor, name: string, memberIds: readonly string[]): Promise<Room> {
    const others = memberIds.filter((id) => id !== actor.id);
    await lookUpUsers(this.deps, actor, others);
    await this.checkGroupCap(actor, [actor.id, ...others]);
    const room = await this.deps.store.createGroup({
      name,
      ownerId: actor.id,
      memberIds: others,
      at: this.deps.now(),
    });
    await this.announceJoin(room, room.members.keys());
    return this.view(actor, room);
  }

  async rename(actor: Actor, roomId: string, name: string): Promise<Room> {
    await this.managedGroup(actor, roomId);
    const room = await this.deps.store.rename(roomId, name);
    await this.announce(room);
    return this.view(actor, room);
  }

  async addMembers(actor: Actor, roomId: string, userIds: readonly string[]): Promise<Room> {
    const current = await this.managedGroup(actor, roomId);
    const newcomers = userIds.filter((id) => !current.members.has(id));
    await lookUpUsers(this.deps, actor, newcomers);
    await this.checkGroupCap(actor, newcomers);
    const { room, added } = await this.deps.store.addMembers(roomId, newcomers, this.deps.now());
    if (added.length > 0) await this.announceJoin(room, added);
    return this.view(actor, room);
  }

  async setRole(actor: Actor, roomId: string, userId: string, role: Exclude<Role, "owner">): Promise<Room> {
    const room = await this.userRun(actor, roomId);
    if (room.members.get(actor.id)?.role !== "owner")
      throw forbidden("Only the room's owner can change roles.");
    const target = room.members.get(userId);
    if (!target) throw notFound("user");
    if (target.role === "owner") throw forbidden("The owner's role can't be changed.");
    if (target.role === role) return await this.view(actor, room);
    const updated = await this.deps.store.setRole(roomId, userId, role);
    await this.announce(updated);
    return this.view(actor, updated);
  }

  async removeMember(actor: Actor, roomId: string, userId: string): Promise<Room> {
    const room = await this.managedGroup(actor, roomId);
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
    await this.userRun(actor, roomId);
    await this.removeAndAnnounce(roomId, actor.id);
  }

  private async removeAndAnnounce(roomId: string, userId: string): Promise<StoredRoom | null> {
    const { room } = await this.deps.store.removeMember(roomId, userId);
    const scope = this.deps.scopes.enabled ? (await this.deps.scopes.of([userId])).get(userId) : undefined;
    this.deps.fanout.remove(userId, roomId, scope === undefined ? [] : [scope]);
    if (room) await this.announce(room);
    return room;
  }

  /** New members' sockets join the room, then every member hears about it. */
  private async announceJoin(room: StoredRoom, userIds: Iterable<string>): Promise<void> {
    const ids = [...userIds];
    this.deps.fanout.join(
      ids,
      room.id,
      this.deps.scopes.enabled ? await this.deps.scopes.of(ids) : undefined,
    );
    await this.announce(room);
  }

  /**
   * Every member's sockets get `room:updated`; the hook (webhooks, for the trusted PHP app) hears
   * of it too. With USERS_SCOPE_COLUMN each scope gets its own view, listing only its members.
   */
  async announce(room: StoredRoom): Promise<void> {
    const shared = await sharedRoom(room, this.deps.store);
    this.onUpdated.emit(shared, room.externalKey);
    if (!this.deps.scopes.enabled) {
      this.deps.fanout.roomUpdated(shared);
      return;
    }
    this.deps.fanout.roomTouched(room.id);
    const scopes = await this.deps.scopes.of(room.members.keys());
    for (const scope of new Set(scopes.values())) {
      const view = await sharedRoom(room, this.deps.store, { visible: (id) => scopes.get(id) === scope });
      this.deps.fanout.roomUpdated(view, scope);
    }
  }

  /**
   * MAX_GROUPS_PER_USER: nobody can be put into more groups than that, so adding someone to
   * thousands of groups cannot bloat their room list. Checked before anything is written; two
   * requests racing for the last place may both pass, which only ever overshoots by a few.
   */
  private async checkGroupCap(actor: Actor, userIds: readonly string[]): Promise<void> {
    const max = this.deps.config.maxGroupsPerUser;
    const ids = [...new Set(userIds)];
    const counts = await Promise.all(
      ids.map(async (id) => (await this.deps.store.roomsOf(id)).filter((r) => r.type === "group").length),
    );
    const full = ids.filter((_, i) => counts[i]! >= max);
    if (full.length === 0) return;
    const message = full.includes(actor.id)
      ? `You are already in ${max} groups, the most one person can be in. Leave a group first.`
      : `Some of these people are already in ${max} groups, the most one person can be in.`;
    throw new AppError("CONFLICT", message, { userIds: full, maxGroups: max });
  }

  private async group(actor: Actor, roomId: string): Promise<StoredRoom> {
    const room = await memberRoom(this.deps, actor, roomId);
    if (room.type !== "group") throw badRequest("This can only be done in a group, not in a direct chat.");
    return room;
  }

  /**
   * A group its users run themselves: not a record's room, whose name and members the PHP app
   * sets (FORBIDDEN, told only to members: anyone else gets NOT_FOUND first).
   */
  private async userRun(actor: Actor, roomId: string): Promise<StoredRoom> {
    const room = await this.group(actor, roomId);
    if (room.record !== null) {
      throw forbidden(
        "This conversation belongs to a TimeWise record: TimeWise decides its name and who is in it.",
      );
    }
    return room;
  }

  private async managedGroup(actor: Actor, roomId: string): Promise<StoredRoom> {
    const room = await this.userRun(actor, roomId);
    const role = room.members.get(actor.id)?.role;
    if (role !== "owner" && role !== "admin")
      throw forbidden("Only the room's owner or an admin can do this.");
    return room;
  }

  /** The room as the actor sees it: only the members of their scope, with USERS_SCOPE_COLUMN. */
  private async view(actor: Actor, room: StoredRoom): Promise<Room> {
    const visible = await this.deps.scopes.visibleTo(actor, room.members.keys());
    return this.deps.links.room(await roomFor(actor.id, room, this.deps.store, { visible }), actor.id);
  }
}
