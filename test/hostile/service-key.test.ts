/**
 * The server API's key check (src/http/service-key.ts): right answers for near misses, and no
 * timing signal about the real key. The timing test calibrates itself: the same measurement is
 * first run on a deliberately leaky byte-by-byte comparison and must see its leak plainly, then
 * on the real check, where a guess wrong in its first byte, wrong in its last byte or of another
 * length must all take the same time. The key is long (64 KB) so that a leak, if any, is far
 * larger than the machine's noise.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { serviceKeyCheck } from "../../src/http/service-key.js";

const KEY = randomBytes(32 * 1024).toString("hex"); // 64 KB of hex

/** `text` with the character at `index` changed to another hex digit. */
function changedAt(text: string, index: number): string {
  const other = text[index] === "a" ? "b" : "a";
  return text.slice(0, index) + other + text.slice(index + 1);
}

test("only the exact key matches: near misses, other lengths and look-alikes do not", () => {
  const matches = serviceKeyCheck(KEY);
  assert.equal(matches(KEY), true);
  assert.equal(matches(KEY.slice()), true, "an equal string that is another object");
  const misses = [
    changedAt(KEY, 0),
    changedAt(KEY, KEY.length >> 1),
    changedAt(KEY, KEY.length - 1),
    KEY.slice(0, -1),
    `${KEY}0`,
    `${KEY} `,
    KEY.toUpperCase(),
    "",
    "é".repeat(KEY.length),
  ];
  for (const miss of misses) assert.equal(matches(miss), false, `${miss.slice(0, 8)}… (${miss.length})`);
  const short = serviceKeyCheck("a-32-byte-service-key-0123456789");
  assert.equal(short("a-32-byte-service-key-0123456789"), true);
  assert.equal(short("a-32-byte-service-key-012345678"), false);
  assert.equal(short("ä-32-byte-service-key-0123456789"), false);
});

/** A comparison that stops at the first differing byte: what the real check must not be like. */
function leakyCheck(key: string): (presented: string) => boolean {
  return (presented) => {
    if (presented.length !== key.length) return false;
    for (let i = 0; i < key.length; i++) if (presented.charCodeAt(i) !== key.charCodeAt(i)) return false;
    return true;
  };
}

/**
 * Median time of one call per guess, in ns. The guesses take turns batch by batch, so load from
 * other processes falls on all of them alike, and the median drops the batches it hit hardest.
 */
function medianTimes(check: (presented: string) => boolean, guesses: readonly string[]): number[] {
  const BATCHES = 61;
  const CALLS = 20;
  const times: number[][] = guesses.map(() => []);
  for (let round = 0; round < 3; round++) for (const guess of guesses) check(guess); // warm-up
  for (let b = 0; b < BATCHES; b++) {
    guesses.forEach((guess, g) => {
      const start = process.hrtime.bigint();
      for (let c = 0; c < CALLS; c++) check(guess);
      times[g]!.push(Number(process.hrtime.bigint() - start) / CALLS);
    });
  }
  return times.map((t) => t.sort((x, y) => x - y)[t.length >> 1]!);
}

test("the key check takes the same time wherever a guess goes wrong", () => {
  const early = changedAt(KEY, 0);
  const late = changedAt(KEY, KEY.length - 1);
  // the measurement must be able to see a leak: the leaky check takes far longer on the late miss
  const [leakyEarly, leakyLate] = medianTimes(leakyCheck(KEY), [early, late]) as [number, number];
  assert.ok(
    leakyLate > 5 * leakyEarly,
    `the measurement cannot see a byte-by-byte leak (early ${leakyEarly} ns, late ${leakyLate} ns)`,
  );

  const shorter = KEY.slice(0, -1);
  const [first, last, other] = medianTimes(serviceKeyCheck(KEY), [early, late, shorter]) as [
    number,
    number,
    number,
  ];
  const slowest = Math.max(first, last, other);
  const fastest = Math.min(first, last, other);
  assert.ok(
    slowest < 1.5 * fastest,
    `the time depends on the guess: wrong first byte ${first} ns, last byte ${last} ns, one byte short ${other} ns`,
  );
});
