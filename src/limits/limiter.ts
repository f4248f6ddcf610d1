/**
 * One place that decides where rate limits are counted. On one node: in memory. With several
 * nodes (REDIS_URL): in Redis, so an allowance is the same however many nodes a user's sockets or
 * an attacker's sign-in attempts are spread over, at the cost of one Redis round trip per counted
 * event. Should Redis fail, each node falls back to counting in memory rather than refusing
 * everything or letting everything through.
 */
import type { Redis } from "ioredis";
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from "rate-limiter-flexible";

/** Where several nodes keep their shared counts: a Redis and the key prefix of this deployment. */
export interface SharedCounts {
  redis: Redis;
  prefix: string;
}

export function createLimiter(
  options: { name: string; points: number; seconds: number },
  shared?: SharedCounts,
): RateLimiterAbstract {
  const allowance = { points: options.points, duration: options.seconds };
  const memory = new RateLimiterMemory({ ...allowance, keyPrefix: options.name });
  if (!shared) return memory;
  return new RateLimiterRedis({
    ...allowance,
    storeClient: shared.redis,
    keyPrefix: `${shared.prefix}:limit:${options.name}`,
    insuranceLimiter: memory,
  });
}
