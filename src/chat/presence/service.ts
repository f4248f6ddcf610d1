/**
 * Presence: announces a user going online or offline to everyone who shares a room with them,
 * and answers `presence:get` for those users only. With USERS_SCOPE_COLUMN only roommates of the
 * same scope count: a user of another company in an old shared room sees nothing either way.
 */
import type { Presence } from "../../protocol/index.js";
import type { Actor } from "../../shared/actor.js";
import { Listeners } from "../../shared/listeners.js";
import { type ChatDeps, listenerErrors } from "../context.js";
import { availabilityOf } from "../hours/service.js";
import { roommatesOf } from "../users/roommates.js";
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

  /** Updates begun and not yet finished: shutdown waits for them before closing Redis and the store. */
  readonly #pending = new Set<Promise<void>>();

  socketConnected(user: Actor): Promise<void> {
    return this.#track(this.#connected(user));
  }

  /**
   * A socket went away. At shutdown every socket goes at once, and the update still has to reach
   * the tracker (Redis) and the store, so `settled` lets the server wait for it.
   */
  socketDisconnected(user: Actor): Promise<void> {
    return this.#track(this.#disconnected(user));
  }

  /** Resolves once every update begun so far (and any they led to) has finished, failed or not. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  #track(work: Promise<void>): Promise<void> {
    this.#pending.add(work);
    const done = () => this.#pending.delete(work);
    work.then(done, done);
    return work;
  }

  async #connected(user: Actor): Promise<void> {
    if (await this.tracker.connected(user.id)) {
      const at = this.deps.now();
      this.deps.fanout.presence(await this.roommates(user), user.id, true, at);
      this.onChanged.emit(user.id, true, at);
    }
  }

  async #disconnected(user: Actor): Promise<void> {
    if (!(await this.tracker.disconnected(user.id))) return;
    const at = this.deps.now();
    this.onChanged.emit(user.id, false, at);
    // the time is stored even if the roommates can't be looked up now, and announced only once it
    // is stored: a presence:get right after the announcement must find the same lastSeenAt
    const [stored, mates] = await Promise.allSettled([
      this.deps.store.setLastSeen(user.id, at),
      this.roommates(user),
    ]);
    if (mates.status === "fulfilled") this.deps.fanout.presence(mates.value, user.id, false, at);
    if (stored.status === "rejected") throw stored.reason;
    if (mates.status === "rejected") throw mates.reason;
  }

  async get(actor: Actor, userIds: readonly string[]): Promise<Record<string, Presence>> {
    const visible = await this.roommates(actor);
    visible.add(actor.id);
    const presence: Record<string, Presence> = {};
    const shown = [...new Set(userIds)].filter((id) => visible.has(id));
    // (v2.4) working hours and quiet hours, one read for all
    const availability = await availabilityOf(this.deps.availability, shown, Date.parse(this.deps.now()));
    for (const userId of shown) {
      const online = await this.tracker.isOnline(userId);
      presence[userId] = {
        online,
        lastSeenAt: online ? this.deps.now() : await this.deps.store.lastSeenAt(userId),
        ...availability.get(userId)!,
      };
    }
    return presence;
  }

  /** Everyone who shares at least one room with the user and is in their scope (the user excluded). */
  private roommates(user: Actor): Promise<Set<string>> {
    return roommatesOf(this.deps, user);
  }
}
