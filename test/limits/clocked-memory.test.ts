/**
 * The in-memory rate limiter on the app's clock: a window opens at the first point, refuses past its
 * allowance with RateLimiterRes (as rate-limiter-flexible's own limiters do) and ends when the clock
 * reaches its end, with no real waiting.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { RateLimiterRes } from "rate-limiter-flexible";
import { ClockedMemoryLimiter } from "../../src/limits/clocked-memory.js";

function limiter(points: number, seconds: number) {
  const clock = { now: 1_000_000 };
  return { clock, limiter: new ClockedMemoryLimiter(points, seconds, "t", () => clock.now) };
}

test("the point past the allowance is refused with the exact time left, and the window ends on the clock", async () => {
  const { clock, limiter: l } = limiter(2, 10);
  assert.equal((await l.consume("u")).remainingPoints, 1);
  clock.now += 4_000;
  assert.equal((await l.consume("u")).remainingPoints, 0);
  const refused = await l.consume("u").then(
    () => null,
    (error: unknown) => error,
  );
  assert.ok(refused instanceof RateLimiterRes, "refused with RateLimiterRes");
  assert.equal(refused.msBeforeNext, 6_000);
  assert.equal(refused.consumedPoints, 3);
  clock.now += 5_999;
  await assert.rejects(l.consume("u"), RateLimiterRes, "1 ms before the end");
  clock.now += 1;
  const fresh = await l.consume("u");
  assert.deepEqual([fresh.consumedPoints, fresh.msBeforeNext, fresh.isFirstInDuration], [1, 10_000, true]);
});

test("keys are counted apart; get, reward and delete answer as the library's limiters", async () => {
  const { clock, limiter: l } = limiter(1, 60);
  assert.equal(await l.get("a"), null);
  await l.consume("a");
  await l.consume("b");
  await assert.rejects(l.consume("a"), RateLimiterRes);
  assert.equal((await l.get("a"))?.consumedPoints, 2);
  assert.equal((await l.reward("a", 2)).consumedPoints, 0);
  assert.equal((await l.consume("a")).consumedPoints, 1);
  assert.equal(await l.delete("b"), true);
  assert.equal(await l.delete("b"), false);
  assert.equal((await l.consume("b")).consumedPoints, 1);
  clock.now += 60_000;
  assert.equal(await l.get("a"), null, "an ended window is gone");
});
