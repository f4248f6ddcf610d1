/**
 * Presence shared by several nodes through Redis. Each node counts its own sockets per user in a
 * hash field; a node that dies stops refreshing its heartbeat and its counts stop counting, so a
 * crash never leaves anybody "online" for good.
 * Each node also keeps its counts in memory, the truth for its own sockets: when Redis comes back
 * (restarted empty, or after changes it missed while away), the node writes them back, so users
 * still connected are online again and users who left meanwhile are not stuck online.
 */
import type { Redis } from "ioredis";
import type { PresenceTracker } from "./tracker.js";

const HEARTBEAT_MS = 10_000;
const NODE_TTL_MS = 30_000;

/**
 * Adds `delta` to this node's count for a user and returns the user's total over live nodes,
 * dropping the fields of nodes whose heartbeat has expired. Atomic, so two nodes can't both
 * decide that a user "just came online".
 */
const COUNT_SCRIPT = `
local mine = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
if mine <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
local total = 0
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local expires = redis.call('ZSCORE', KEYS[2], fields[i])
  if expires and tonumber(expires) > tonumber(ARGV[3]) then
    total = total + tonumber(fields[i + 1])
  else
    redis.call('HDEL', KEYS[1], fields[i])
  end
end
return total
`;

export class RedisPresence implements PresenceTracker {
  private readonly timer: NodeJS.Timeout;
  /** this node's sockets per user (users with none are left out) */
  private readonly local = new Map<string, number>();
  /** users whose count Redis may not hold right (a write failed): written again on reconnect */
  private readonly unsynced = new Set<string>();
  private readonly onReady = () => void this.resync();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly nodeId: string,
  ) {
    this.heartbeat();
    this.timer = setInterval(() => this.heartbeat(), HEARTBEAT_MS);
    this.timer.unref();
    // ioredis emits "ready" after every (re)connection
    redis.on("ready", this.onReady);
  }

  async connected(userId: string): Promise<boolean> {
    return (await this.count(userId, 1)) === 1;
  }

  async disconnected(userId: string): Promise<boolean> {
    return (await this.count(userId, -1)) === 0;
  }

  async isOnline(userId: string): Promise<boolean> {
    return (await this.count(userId, 0)) > 0;
  }

  /** Stops the heartbeat and withdraws this node's counts. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.redis.off("ready", this.onReady);
    await this.redis.zrem(this.nodesKey, this.nodeId);
  }

  private get nodesKey(): string {
    return `${this.prefix}:presence-nodes`;
  }

  private userKey(userId: string): string {
    return `${this.prefix}:presence:${userId}`;
  }

  private async count(userId: string, delta: number): Promise<number> {
    if (delta !== 0) {
      const mine = Math.max(0, (this.local.get(userId) ?? 0) + delta);
      if (mine > 0) this.local.set(userId, mine);
      else this.local.delete(userId);
    }
    try {
      const total = await this.redis.eval(
        COUNT_SCRIPT,
        2,
        this.userKey(userId),
        this.nodesKey,
        this.nodeId,
        delta,
        Date.now(),
      );
      return Number(total);
    } catch (error) {
      if (delta !== 0) this.unsynced.add(userId);
      throw error;
    }
  }

  /**
   * Writes this node's counts back after a reconnection: every user it has sockets of, and the
   * users whose change did not reach Redis. Absolute values, so running it twice is harmless.
   */
  private async resync(): Promise<void> {
    const users = new Set([...this.local.keys(), ...this.unsynced]);
    this.unsynced.clear();
    const batch = this.redis.multi();
    batch.zadd(this.nodesKey, Date.now() + NODE_TTL_MS, this.nodeId);
    for (const userId of users) {
      const mine = this.local.get(userId) ?? 0;
      if (mine > 0) batch.hset(this.userKey(userId), this.nodeId, mine);
      else batch.hdel(this.userKey(userId), this.nodeId);
    }
    try {
      await batch.exec();
    } catch {
      // lost again before it was written: the next "ready" writes everything again
      for (const userId of users) this.unsynced.add(userId);
    }
  }

  private heartbeat(): void {
    this.redis.zadd(this.nodesKey, Date.now() + NODE_TTL_MS, this.nodeId).catch(() => {
      // Redis away for a moment: the next beat tries again
    });
  }
}
