/**
 * Group rooms mirrored from the PHP app: a team, department or project becomes a chat room under
 * an external key (`team:42`), and every sync makes the room match the PHP app's member list.
 * Idempotent: repeating a sync changes nothing and announces nothing. The PHP back end is trusted
 * here (server API), so no caller scope applies; unknown users are refused, disabled ones skipped.
 */
import { AppError, badRequest } from "../../errors.js";
import type { RoomSyncBody } from "../../protocol/index.js";
import type { ChatDeps } from "../context.js";
import type { RoomService } from "./service.js";
import { sharedRoom } from "./view.js";

export interface RoomSyncInput {
  externalKey: string;
  name: string;
  memberIds: readonly string[];
  ownerId?: string | undefined;
  adminIds?: readonly string[] | undefined;
  /** a record's room: its link back (src/chat/records/service.ts) */
  recordUrl?: string | undefined;
}

/** What a sync answers: the body of `PUT /api/server/rooms/:externalKey`. */
export type RoomSyncResult = RoomSyncBody;

export class RoomSyncService {
  constructor(
    private readonly deps: ChatDeps,
    private readonly rooms: RoomService,
  ) {}

  async sync(input: RoomSyncInput): Promise<RoomSyncResult> {
    // the owner is a member even when the list forgot them, and comes first
    const ids = [...new Set([...(input.ownerId ? [input.ownerId] : []), ...input.memberIds])];
    const found = await this.deps.directory.findByIds(ids);
    const unknown = ids.filter((id) => !found.has(id));
    if (unknown.length > 0) {
      throw new AppError("NOT_FOUND", "Some of these users do not exist.", { userIds: unknown });
    }
    const active = ids.filter((id) => found.get(id)!.active);
    const skipped = ids.filter((id) => !found.get(id)!.active);
    if (active.length === 0) throw badRequest("A room needs at least one active member.");
    await this.deps.store.rememberUsers(active.map((id) => found.get(id)!));

    const ownerId = input.ownerId && active.includes(input.ownerId) ? input.ownerId : null;
    const result = await this.deps.store.syncGroup({
      externalKey: input.externalKey,
      name: input.name,
      memberIds: active,
      ownerId,
      adminIds: input.adminIds ?? null,
      recordUrl: input.recordUrl,
      at: this.deps.now(),
    });
    if (result.changed) {
      const scopes = this.deps.scopes.enabled
        ? await this.deps.scopes.of([...result.removed, ...result.added])
        : undefined;
      for (const userId of result.removed) {
        const scope = scopes?.get(userId);
        this.deps.fanout.remove(userId, result.room.id, scope === undefined ? [] : [scope]);
      }
      if (result.added.length > 0) this.deps.fanout.join(result.added, result.room.id, scopes);
      await this.rooms.announce(result.room);
    }
    return {
      room: await sharedRoom(result.room, this.deps.store),
      created: result.created,
      changed: result.changed,
      added: result.added,
      removed: result.removed,
      skipped,
    };
  }
}
