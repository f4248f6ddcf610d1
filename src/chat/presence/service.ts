/**
 * Presence: announces a user going online or offline to everyone who shares a room with them,
 * and answers `presence:get` for those users only.
 */
import type { Presence } from "../../protocol/index.js";
import type { Actor } from "../../realtime/types.js";
import type { ChatDeps } from "../context.js";
import type { PresenceTracker } from "./tracker.js";

export class PresenceService {
  /** Called when a user comes online or goes offline (webhooks). */
  onChanged: (userId: string, online: boolean, lastSeenAt: string) => void = () => {};

  constructor(
    private readonly deps: ChatDeps,
    private readonly tracker: PresenceTracker,
  ) {}

  async socketConnected(userId: string): Promise<void> {
    if (await this.tracker.connected(userId)) {
      const at = this.deps.now();
      this.deps.fanout.presence(this.roommates(userId), userId, true, at);
      this.onChanged(userId, true, at);
    }
  }

  async socketDisconnected(userId: string): Promise<void> {
    if (!(await this.tracker.disconnected(userId))) return;
    const at = this.deps.now();
    this.deps.fanout.presence(this.roommates(userId), userId, false, at);
    this.onChanged(userId, false, at);
    await this.deps.store.setLastSeen(userId, at);
  }

  async get(actor: Actor, userIds: readonly string[]): Promise<Record<string, Presence>> {
    const visible = this.roommates(actor.id);
    visible.add(actor.id);
    const presence: Record<string, Presence> = {};
    for (const userId of new Set(userIds)) {
      if (!visible.has(userId)) continue;
      const online = await this.tracker.isOnline(userId);
      presence[userId] = {
        online,
        lastSeenAt: online ? this.deps.now() : this.deps.store.lastSeenAt(userId),
      };
    }
    return presence;
  }

  /** Everyone who shares at least one room with the user (the user excluded). */
  private roommates(userId: string): Set<string> {
    const mates = new Set<string>();
    for (const room of this.deps.store.roomsOf(userId)) {
      for (const memberId of room.members.keys()) mates.add(memberId);
    }
    mates.delete(userId);
    return mates;
  }
}
