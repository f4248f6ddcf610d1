/**
 * Per-user rate limits for socket events, answered RATE_LIMITED with how long to wait.
 * In memory per node; rate-limiter-flexible has a Redis store for when several nodes share users.
 */
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { RateLimits } from "../config/index.js";
import { AppError } from "../errors.js";

export type LimitKind = keyof RateLimits;

export class EventLimits {
  private readonly limiters: Record<LimitKind, RateLimiterMemory>;

  constructor(limits: RateLimits) {
    const make = (kind: LimitKind) =>
      new RateLimiterMemory({ points: limits[kind].points, duration: limits[kind].seconds, keyPrefix: kind });
    this.limiters = {
      messages: make("messages"),
      typing: make("typing"),
      rooms: make("rooms"),
      searches: make("searches"),
      reads: make("reads"),
    };
  }

  /** Takes one event from the user's allowance, or throws RATE_LIMITED. */
  async take(kind: LimitKind, userId: string): Promise<void> {
    try {
      await this.limiters[kind].consume(userId);
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        const retryAfterMs = Math.max(1, Math.ceil(error.msBeforeNext));
        throw new AppError(
          "RATE_LIMITED",
          "You're doing that too often. Please wait a moment.",
          undefined,
          retryAfterMs,
        );
      }
      throw error;
    }
  }
}
