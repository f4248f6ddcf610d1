/**
 * (v2.3) A user's own notification settings: email digests and their delay, and Web Push. The
 * store keeps only what the user changed; the defaults are filled in here, so changing a default
 * later reaches everyone who never chose. (v2.4) Quiet hours are kept with the working hours
 * the PHP app sets (the store's hours), as both decide when notifications are held.
 */
import { LIMITS, type QuietHours, type UserPrefs } from "../../protocol/index.js";
import type { Actor } from "../../shared/actor.js";
import type { StoredPrefs } from "../../storage/chat-store.js";
import type { ChatDeps } from "../context.js";

export class PrefsService {
  constructor(private readonly deps: ChatDeps) {}

  async get(actor: Actor): Promise<UserPrefs> {
    return this.withDefaults(actor, await this.deps.store.userPrefs(actor.id), await this.quietHours(actor));
  }

  /** Changes the fields given and keeps the others; `{}` changes nothing. */
  async set(actor: Actor, input: StoredPrefs & { quietHours?: QuietHours | null }): Promise<UserPrefs> {
    const { quietHours, ...changes } = input;
    if (quietHours !== undefined) await this.deps.store.setQuietHours(actor.id, quietHours, this.deps.now());
    const stored =
      Object.keys(changes).length === 0
        ? await this.deps.store.userPrefs(actor.id)
        : await this.deps.store.setUserPrefs(actor.id, changes);
    return this.withDefaults(
      actor,
      stored,
      quietHours !== undefined ? quietHours : await this.quietHours(actor),
    );
  }

  private async quietHours(actor: Actor): Promise<QuietHours | null> {
    return (await this.deps.store.hoursOf([actor.id])).get(actor.id)?.quietHours ?? null;
  }

  /**
   * The contract's defaults: a digest for users the directory has an email address for, else
   * none (an explicit "digest" is kept as chosen: it starts working once an address appears).
   */
  private async withDefaults(
    actor: Actor,
    stored: StoredPrefs,
    quietHours: QuietHours | null,
  ): Promise<UserPrefs> {
    let email = stored.email;
    if (email === undefined) {
      const user = await this.deps.directory.findById(actor.id);
      email = user?.email ? "digest" : "off";
    }
    return {
      email,
      emailDelayMin: stored.emailDelayMin ?? LIMITS.emailDelayMinDefault,
      push: stored.push ?? true,
      quietHours,
    };
  }
}
