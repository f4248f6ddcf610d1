/**
 * Sessions kept in Redis by phpredis (`session.save_handler = redis`): the raw payload under
 * `<prefix><id>`, `PHPREDIS_SESSION:` by default. Redis expires the key itself after
 * `session.gc_maxlifetime`, so an expired session is simply gone (refused as unknown).
 */
import { Redis } from "ioredis";
import { type SessionStore, SessionStoreUnavailableError, type StoredSession } from "./types.js";

export class RedisSessionStore implements SessionStore {
  readonly tornReads = false;
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly prefix: string,
  ) {
    this.redis = new Redis(url, {
      // a handshake must not wait long on a Redis that is down: fail soon, the client retries
      maxRetriesPerRequest: 1,
      connectTimeout: 5000,
      commandTimeout: 5000,
    });
    // errors reach callers through the commands; this only keeps ioredis from logging on its own
    this.redis.on("error", () => {});
  }

  async load(id: string): Promise<StoredSession | null> {
    let data: Buffer | null;
    try {
      data = await this.redis.getBuffer(`${this.prefix}${id}`);
    } catch (error) {
      const reason = error instanceof Error ? error.name : "error";
      throw new SessionStoreUnavailableError(`cannot read PHP sessions from Redis (${reason})`);
    }
    return data === null ? null : { data, expired: false };
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
