/**
 * Visible tabs in Redis (src/chat/presence/redis-visibility.ts), on the machine's real Redis with
 * an injected clock: an entry a node stops refreshing (the node died) stops counting after its
 * lifetime; one the node refreshes keeps counting; hidden and closed sockets never count.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { RedisVisibility, VISIBLE_TTL_MS } from "../../src/chat/presence/redis-visibility.js";
import { requireService, TEST_REDIS_URL } from "../support/harness.js";

const skip = await requireService("redis");

describe("visible tabs in Redis", { skip }, () => {
  let redis: Redis;
  let now = 1_000_000;
  const prefix = `twc-visible-${randomUUID().slice(0, 8)}`;
  /** a node whose refresh timer the test runs by hand */
  const node = () => new RedisVisibility(redis, prefix, { now: () => now, every: () => ({ stop() {} }) });

  before(() => {
    redis = new Redis(TEST_REDIS_URL);
  });
  after(() => redis?.quit());

  test("a socket counts once it says visible, and no longer once it says hidden", async () => {
    const a = node();
    assert.deepEqual([...(await a.visibleAmong(["u1", "u2"]))], []);
    await a.set("u1", "s1", true);
    await a.set("u1", "s2", true);
    assert.deepEqual([...(await a.visibleAmong(["u1", "u2"]))], ["u1"]);
    await a.set("u1", "s1", false);
    assert.deepEqual([...(await a.visibleAmong(["u1"]))], ["u1"]);
    await a.set("u1", "s2", false);
    assert.deepEqual([...(await a.visibleAmong(["u1"]))], []);
    await a.close();
  });

  test("another node sees it; a node that stops refreshing leaves entries that expire", async () => {
    const dying = node();
    const other = node();
    await dying.set("u3", "s3", true);
    await other.set("u4", "s4", true);
    assert.deepEqual([...(await other.visibleAmong(["u3", "u4"]))].sort(), ["u3", "u4"]);
    // `other` refreshes, `dying` does not
    now += VISIBLE_TTL_MS / 2;
    await other.refresh();
    now += VISIBLE_TTL_MS / 2 + 1;
    assert.deepEqual([...(await other.visibleAmong(["u3", "u4"]))], ["u4"]);
    await other.close();
    assert.deepEqual([...(await other.visibleAmong(["u4"]))], [], "a node that closes withdraws its own");
  });
});
