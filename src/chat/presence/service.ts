/**
 * Presence: announces a user going online or offline to everyone who shares a room with them,
 * and answers `presence:get` for those users only. With USERS_SCOPE_COLUMN only roommates of the
 * same scope count: a user of another company in an old shared room sees nothing either way.
 */
import type { Presence } from "../../protocol/index.js";
import type { Actor } from "../../shared/actor.js";
import { Listeners } from "../../shared/listeners.js";
import { type ChatDeps, listenerErrors } from "../context.js";
import type { PresenceTracker } from "./tracker.js";

export class PresenceService {
  /** Hears a user come online or go offline (webhooks). */
  readonly onChanged: Listeners<[userId: string, online: boolean, lastSeenAt: string]>;

  constructor(
    private readonly deps: ChatDeps,
    private readonly tracker: PresenceTracker,
  ) {
    this.onChanged = new Listeners(listenerErrors(deps, "onChanged"));
  }

  /** Updates still running: each ends in a broadcast, which must go out before Redis closes. */
  private readonly running = new Set<Promise<void>>();

  /** Resolves once every update started so far has finished (the server is closing). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  socketConnected(user: Actor): Promise<void> {
    return this.track(this.connected(user));
  }

  socketDisconnected(user: Actor): Promise<void> {
    return this.track(this.disconnected(user));
  }

  private track(update: Promise<void>): Promise<void> {
    this.running.add(update);
    const done = () => this.running.delete(update);
    update.then(done, done);
    return update;
  }

  private async connected(user: Actor): Promise<void> {
    if (await this.tracker.connected(user.id)) {
      const at = this.deps.now();
      this.deps.fanout.presence(await this.roommates(user), user.id, true, at);
      this.onChanged.emit(user.id, true, at);
    }
  }

  private async disconnected(user: Actor): Promise<void> {
    if (!(await this.tracker.disconnected(user.id))) return;
    const at = this.deps.now();
    this.onChanged.emit(user.id, false, at);
    // the time is stored even if the roommates can't be looked up now
    const stored = this.deps.store.setLastSeen(user.id, at);
    try {
      this.deps.fanout.presence(await this.roommates(user), user.id, false, at);
    } finally {
      await stored;
    }
  }

  async get(actor: Actor, userIds: readonly string[]): Promise<Record<string, Presence>> {
    const visible = await this.roommates(actor);
    visible.add(actor.id);
    const presence: Record<string, Presence> = {};
    for (const userId of new Set(userIds)) {
      if (!visible.has(userId)) continue;
      const online = await this.tracker.isOnline(userId);
      presence[userId] = {
        online,
        lastSeenAt: online ? this.deps.now() : await this.deps.store.lastSeenAt(userId),
      };
    }
    return presence;
  }

  /** Everyone who shares at least one room with the user and is in their scope (the user excluded). */
  private async roommates(user: Actor): Promise<Set<string>> {
    const mates = new Set<string>();
    for (const room of await this.deps.store.roomsOf(user.id)) {
      for (const memberId of room.members.keys()) mates.add(memberId);
    }
    mates.delete(user.id);
    if (!this.deps.scopes.enabled) return mates;
    const visible = await this.deps.scopes.visibleTo(user, mates);
    for (const id of mates) if (!visible(id)) mates.delete(id);
    return mates;
  }
}
