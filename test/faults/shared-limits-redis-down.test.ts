/**
 * Rate limits of several nodes are counted in Redis. When that Redis cannot be reached, each node
 * counts in memory instead: events are neither all refused nor all let through.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { Redis } from "ioredis";
import { AppError } from "../../src/errors.js";
import { EventLimits } from "../../src/realtime/limits.js";

/** A port on this machine where nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test("with Redis unreachable, the allowance is still counted, in memory", async () => {
  const redis = new Redis(`redis://127.0.0.1:${await closedPort()}`, {
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  redis.on("error", () => {});
  const window = { points: 3, seconds: 60 };
  const limits = new EventLimits(
    { messages: window, typing: window, rooms: window, searches: window, reads: window, uploads: window },
    { redis, prefix: "twc-down" },
  );
  try {
    for (let i = 0; i < 3; i++) await limits.take("messages", "7");
    await assert.rejects(limits.take("messages", "7"), (error: unknown) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.code, "RATE_LIMITED");
      return true;
    });
    // another user's allowance is their own
    await limits.take("messages", "8");
  } finally {
    redis.disconnect();
  }
});
