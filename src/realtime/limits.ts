/**
 * Per-user rate limits for socket events, answered RATE_LIMITED with how long to wait. Where they
 * are counted (memory, or Redis for several nodes) is decided in limits/limiter.ts.
 */
import type { RateLimiterLike } from "rate-limiter-flexible";
import { RateLimiterRes } from "rate-limiter-flexible";
import type { RateLimits } from "../config/index.js";
import { AppError } from "../errors.js";
import { createLimiter, type SharedCounts } from "../limits/limiter.js";

export type LimitKind = keyof RateLimits;

/** What a user is told when over an allowance: what to do, in words. */
const TOO_OFTEN: Partial<Record<LimitKind, string>> & { default: string } = {
  default: "You're doing that too often. Please wait a moment.",
  uploads: "You're uploading files too quickly. Wait a moment, then send the file again.",
};

export class EventLimits {
  private readonly limiters: Record<LimitKind, RateLimiterLike>;

  /** `shared`: count in Redis, for several nodes; `now`: the clock of in-memory windows */
  constructor(limits: RateLimits, shared?: SharedCounts, now: () => number = Date.now) {
    const make = (kind: LimitKind) =>
      createLimiter({ name: kind, points: limits[kind].points, seconds: limits[kind].seconds }, shared, now);
    this.limiters = {
      messages: make("messages"),
      typing: make("typing"),
      rooms: make("rooms"),
      searches: make("searches"),
      reads: make("reads"),
      uploads: make("uploads"),
    };
  }

  /** Takes one event from the user's allowance, or throws RATE_LIMITED. */
  async take(kind: LimitKind, userId: string): Promise<void> {
    try {
      await this.limiters[kind].consume(userId);
    } catch (error) {
      if (error instanceof RateLimiterRes) {
        const retryAfterMs = Math.max(1, Math.ceil(error.msBeforeNext));
        throw new AppError("RATE_LIMITED", TOO_OFTEN[kind] ?? TOO_OFTEN.default, undefined, retryAfterMs);
      }
      throw error;
    }
  }
}
