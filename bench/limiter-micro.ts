/**
 * Micro-bench: the clock-fed in-memory limiter against rate-limiter-flexible's RateLimiterMemory,
 * consumes per second over 10,000 keys. Run: node --import tsx bench/limiter-micro.ts
 */
import { type RateLimiterLike, RateLimiterMemory } from "rate-limiter-flexible";
import { ClockedMemoryLimiter } from "../src/limits/clocked-memory.js";

async function rate(limiter: RateLimiterLike, n: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < n; i++) await limiter.consume(`user-${i % 10_000}`).catch(() => undefined);
  return n / ((performance.now() - started) / 1000);
}

const n = 500_000;
for (let round = 0; round < 2; round++) {
  const library = await rate(new RateLimiterMemory({ points: 120, duration: 10, keyPrefix: "m" }), n);
  const clocked = await rate(new ClockedMemoryLimiter(120, 10, "m", Date.now), n);
  process.stdout.write(
    `round ${round + 1}: library ${Math.round(library)}/s, clocked ${Math.round(clocked)}/s\n`,
  );
}
