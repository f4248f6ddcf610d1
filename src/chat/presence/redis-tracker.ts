/**
 * Presence shared by several nodes through Redis. Each node counts its own sockets per user in a
 * hash field; a node that dies stops refreshing its heartbeat and its counts stop counting, so a
 * crash never leaves anybody "online" for good.
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

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly nodeId: string,
  ) {
    this.heartbeat();
    this.timer = setInterval(() => this.heartbeat(), HEARTBEAT_MS);
    this.timer.unref();
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
    await this.redis.zrem(this.nodesKey, this.nodeId);
  }

  private get nodesKey(): string {
    return `${this.prefix}:presence-nodes`;
  }

  private async count(userId: string, delta: number): Promise<number> {
    const total = await this.redis.eval(
      COUNT_SCRIPT,
      2,
      `${this.prefix}:presence:${userId}`,
      this.nodesKey,
      this.nodeId,
      delta,
      Date.now(),
    );
    return Number(total);
  }

  private heartbeat(): void {
    this.redis.zadd(this.nodesKey, Date.now() + NODE_TTL_MS, this.nodeId).catch(() => {
      // Redis away for a moment: the next beat tries again
    });
  }
}
