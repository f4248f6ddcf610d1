/**
 * Room writes: opening direct rooms, creating groups, renaming, members and their roles, and the
 * sync of groups mirrored from the PHP app. Each runs as one write of the group-commit queue and
 * reloads the room's mirror once it is durable.
 */
import { notFound } from "../../errors.js";
import type { Role } from "../../protocol/index.js";
import type { RemovalResult, StoredRoom } from "../chat-store.js";
import type { ExternalRooms, GroupSync, GroupSyncResult } from "./external-rooms.js";
import type { RoomMirror } from "./room-mirror.js";
import type { Statements } from "./statements.js";
import type { WriteQueue } from "./write-queue.js";

/** A group to create: `ChatStore.createGroup`'s input. */
export interface NewGroup {
  name: string;
  ownerId: string;
  memberIds: readonly string[];
  at: string;
  externalKey?: string;
}

export class RoomWrites {
  constructor(
    private readonly s: Statements,
    private readonly queue: WriteQueue,
    private readonly mirror: RoomMirror,
    private readonly external: ExternalRooms,
  ) {}

  async openDirect(a: string, b: string, at: string): Promise<{ room: StoredRoom; created: boolean }> {
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

  async createGroup(input: NewGroup): Promise<StoredRoom> {
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

  async rename(roomId: string, name: string): Promise<StoredRoom> {
    await this.roomWrite(roomId, () => this.s.renameRoom.run(name, Number(roomId)));
    return this.mustRoom(roomId);
  }

  async addMembers(
    roomId: string,
    userIds: readonly string[],
    at: string,
  ): Promise<{ room: StoredRoom; added: string[] }> {
    const added = await this.roomWrite(roomId, (counters) =>
      userIds.filter(
        (userId) =>
          this.s.insertMember.run(Number(roomId), userId, "member", at, Number(roomId), counters.last_seq)
            .changes > 0,
      ),
    );
    return { room: this.mustRoom(roomId), added };
  }

  async setRole(roomId: string, userId: string, role: Role): Promise<StoredRoom> {
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
    return { room: this.mirror.rooms.get(roomId) ?? null, closed };
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

  async syncGroup(input: GroupSync): Promise<GroupSyncResult & { room: StoredRoom }> {
    const result = await this.queue.run(() => {
      const synced = this.external.sync(input);
      // another node sharing the file may have made the room: this mirror has not seen it yet
      const stale = synced.changed || !this.mirror.rooms.has(synced.roomId);
      return { result: synced, apply: stale ? () => this.mirror.reload(synced.roomId) : undefined };
    });
    return { ...result, room: this.mustRoom(result.roomId) };
  }

  private mustRoom(roomId: string): StoredRoom {
    const room = this.mirror.rooms.get(roomId);
    if (!room) throw notFound();
    return room;
  }
}
