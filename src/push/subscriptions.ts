/**
 * (v2.3) The Web Push routes' service: the VAPID public key browsers subscribe with, and each
 * user's own subscriptions (at most LIMITS.pushSubscriptionsMax browsers each).
 */
import { AppError } from "../errors.js";
import { LIMITS } from "../protocol/index.js";
import type { PushSubscribeInput } from "../protocol/payloads.js";
import type { Actor } from "../shared/actor.js";
import type { AsyncChatStore } from "../storage/async-chat-store.js";

export class PushSubscriptionService {
  constructor(
    private readonly store: Pick<AsyncChatStore, "savePushSubscription" | "removePushSubscription">,
    /** the VAPID public key, base64url */
    readonly publicKey: string,
    private readonly now: () => string,
  ) {}

  async subscribe(actor: Actor, input: PushSubscribeInput): Promise<void> {
    const outcome = await this.store.savePushSubscription(
      {
        userId: actor.id,
        endpoint: input.endpoint,
        p256dh: input.keys.p256dh,
        auth: input.keys.auth,
        createdAt: this.now(),
      },
      LIMITS.pushSubscriptionsMax,
    );
    if (outcome === "full") {
      throw new AppError(
        "CONFLICT",
        `You get notifications in ${LIMITS.pushSubscriptionsMax} browsers already. Turn them off in one you no longer use, then try again.`,
      );
    }
  }

  /** Only the caller's own subscription; another user's looks exactly like a missing one. */
  async unsubscribe(actor: Actor, endpoint: string): Promise<void> {
    if (!(await this.store.removePushSubscription(actor.id, endpoint))) {
      throw new AppError("NOT_FOUND", "This browser has no notifications turned on for you.");
    }
  }
}
