/**
 * (extension) Visible sockets shared by several nodes (visibility.ts): one sorted set per user in
 * Redis, its members the user's visible socket ids, each scored by the time it stops counting.
 * Every node refreshes the scores of its own visible sockets well before they run out, so a node
 * that dies leaves entries that simply expire: nobody stays "visible" (and without pushes) for good.
 */
import type { Redis } from "ioredis";
import type { VisibilityTracker } from "./visibility.js";

/** How long an entry counts without a refresh, and how often each node refreshes its own. */
export const VISIBLE_TTL_MS = 30_000;
export const VISIBLE_REFRESH_MS = 10_000;

export interface RedisVisibilityOptions {
  /** the clock in ms (scores are times) */
  now: () => number;
  /** the refresh timer; tests leave it off and call `refresh()` */
  every?: (run: () => void, ms: number) => { stop(): void };
}

export class RedisVisibility implements VisibilityTracker {
  /** this node's visible sockets: socket id → user id */
  private readonly local = new Map<string, string>();
  private readonly timer: { stop(): void };

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly options: RedisVisibilityOptions,
  ) {
    const every =
      options.every ??
      ((run, ms) => {
        const t = setInterval(run, ms);
        t.unref();
        return { stop: () => clearInterval(t) };
      });
    this.timer = every(() => void this.refresh().catch(() => {}), VISIBLE_REFRESH_MS);
  }

  async set(userId: string, socketId: string, visible: boolean): Promise<void> {
    const key = this.key(userId);
    if (visible) {
      this.local.set(socketId, userId);
      const until = this.options.now() + VISIBLE_TTL_MS;
      await this.redis.multi().zadd(key, until, socketId).pexpire(key, VISIBLE_TTL_MS).exec();
    } else {
      this.local.delete(socketId);
      await this.redis.zrem(key, socketId);
    }
  }

  async visibleAmong(userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const batch = this.redis.pipeline();
    const now = this.options.now();
    for (const id of userIds) batch.zcount(this.key(id), `(${now}`, "+inf");
    const results = (await batch.exec()) ?? [];
    const visible = new Set<string>();
    results.forEach(([error, count], i) => {
      if (error) throw error;
      if (Number(count) > 0) visible.add(userIds[i]!);
    });
    return visible;
  }

  /** Moves the expiry of this node's visible sockets on, and drops expired entries of their users. */
  async refresh(): Promise<void> {
    if (this.local.size === 0) return;
    const now = this.options.now();
    const batch = this.redis.multi();
    for (const [socketId, userId] of this.local) {
      const key = this.key(userId);
      batch.zadd(key, now + VISIBLE_TTL_MS, socketId).pexpire(key, VISIBLE_TTL_MS);
      batch.zremrangebyscore(key, "-inf", now);
    }
    await batch.exec();
  }

  /** Stops refreshing and withdraws this node's entries. */
  async close(): Promise<void> {
    this.timer.stop();
    const batch = this.redis.multi();
    for (const [socketId, userId] of this.local) batch.zrem(this.key(userId), socketId);
    this.local.clear();
    await batch.exec().catch(() => {});
  }

  private key(userId: string): string {
    return `${this.prefix}:visible:${userId}`;
  }
}
