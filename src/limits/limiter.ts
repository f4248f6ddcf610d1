/**
 * One place that decides where rate limits are counted. On one node: in memory. With several
 * nodes (REDIS_URL): in Redis, so an allowance is the same however many nodes a user's sockets or
 * an attacker's sign-in attempts are spread over, at the cost of one Redis round trip per counted
 * event. Should Redis fail, each node falls back to counting in memory rather than refusing
 * everything or letting everything through.
 *
 * In memory, counts run on the app's clock (tests move it instead of sleeping). In Redis, windows
 * end by Redis's own expiry, one clock for all nodes.
 */
import type { Redis } from "ioredis";
import { type RateLimiterLike, RateLimiterRedis } from "rate-limiter-flexible";
import { ClockedMemoryLimiter } from "./clocked-memory.js";

/** Where several nodes keep their shared counts: a Redis and the key prefix of this deployment. */
export interface SharedCounts {
  redis: Redis;
  prefix: string;
}

export function createLimiter(
  options: { name: string; points: number; seconds: number },
  shared?: SharedCounts,
  now: () => number = Date.now,
): RateLimiterLike {
  const allowance = { points: options.points, duration: options.seconds };
  const memory = new ClockedMemoryLimiter(options.points, options.seconds, options.name, now);
  if (!shared) return memory;
  return new RateLimiterRedis({
    ...allowance,
    storeClient: shared.redis,
    keyPrefix: `${shared.prefix}:limit:${options.name}`,
    insuranceLimiter: memory,
  });
}
