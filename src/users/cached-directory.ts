/**
 * A short-lived cache in front of a user directory for lookups by id, which every handshake and
 * every room listing does. Concurrent lookups share queries: lookups started within a few
 * milliseconds of each other go out as one `findByIds`, and a lookup of an id already being
 * fetched waits for that fetch. So a reconnect storm of thousands of sockets costs a few dozen
 * queries, not one per user (test/faults/reconnect-storm.test.ts).
 * Failures are never cached: the next lookup asks the directory again.
 */
import { LRUCache } from "lru-cache";
import type { DirectoryUser, DirectoryUserWithHash, UserDirectory, UserSearchOptions } from "./types.js";

/** How long answers are kept and how many. */
export interface CacheOptions {
  /** an active user; default 30 s */
  foundTtlMs?: number;
  /**
   * an id that matched nobody, or an inactive user; short, so a user just created or re-enabled
   * in PHP can connect soon; default 5 s
   */
  missingTtlMs?: number;
  /** default 50,000 ids */
  max?: number;
  /** the clock the times above run on, in ms (default the system's); tests move it instead of waiting */
  now?: () => number;
}

/**
 * How long a lookup of a remote directory (MySQL) waits for others to share its query. Handshakes
 * arrive one per I/O turn, so batching only within a turn still cost about one query per user in a
 * storm (280 queries for 300 users and 2,000 sockets); 10 ms cut that to about 50, and is nothing
 * next to a handshake. The built-in directory is in-process SQLite: it batches within the turn.
 */
const REMOTE_BATCH_WINDOW_MS = 10;

/** lru-cache cannot hold null, and "nobody has this id" is worth remembering too. */
interface Entry {
  user: DirectoryUser | null;
}

interface Waiter {
  promise: Promise<DirectoryUser | null>;
  resolve(user: DirectoryUser | null): void;
  reject(error: unknown): void;
}

/** Caches `findById`/`findByIds`; everything else goes straight to the wrapped directory. */
export class CachedDirectory implements UserDirectory {
  readonly kind: UserDirectory["kind"];
  private readonly cache: LRUCache<string, Entry>;
  private readonly foundTtlMs: number;
  private readonly missingTtlMs: number;
  /** ids being fetched now; a lookup only writes the cache if its entry is still the one here */
  private readonly inflight = new Map<string, Waiter>();
  /** ids waiting for the end of this event-loop turn, to be fetched together */
  private batch: Map<string, Waiter> | null = null;

  constructor(
    private readonly inner: UserDirectory,
    options: CacheOptions = {},
  ) {
    this.kind = inner.kind;
    this.foundTtlMs = options.foundTtlMs ?? 30_000;
    this.missingTtlMs = options.missingTtlMs ?? 5_000;
    this.cache = new LRUCache<string, Entry>({
      max: options.max ?? 50_000,
      ttl: this.foundTtlMs,
      // lru-cache keeps a read of its clock for 1 ms by default; a clock that jumps must be read
      // every time, or a lookup right after the jump would still see the old time
      ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
    });
  }

  async findById(id: string): Promise<DirectoryUser | null> {
    return (await this.findByIds([id])).get(id) ?? null;
  }

  async findByIds(ids: readonly string[]): Promise<Map<string, DirectoryUser>> {
    const found = new Map<string, DirectoryUser>();
    const waits: Promise<void>[] = [];
    for (const id of new Set(ids)) {
      const hit = this.cache.get(id);
      if (hit) {
        if (hit.user) found.set(id, hit.user);
        continue;
      }
      const waiter = this.inflight.get(id) ?? this.enqueue(id);
      waits.push(
        waiter.promise.then((user) => {
          if (user) found.set(id, user);
        }),
      );
    }
    await Promise.all(waits);
    return found;
  }

  /**
   * Asks the directory again for `ids`, ignoring the cache, and stores the answers (for the
   * periodic re-check of live connections, which must see a disabled or deleted user).
   */
  async refresh(ids: readonly string[]): Promise<Map<string, DirectoryUser>> {
    const unique = [...new Set(ids)];
    // A lookup that started earlier may answer later with older data; it must not overwrite ours.
    for (const id of unique) this.inflight.delete(id);
    const found = await this.inner.findByIds(unique);
    for (const id of unique) this.remember(id, found.get(id) ?? null);
    return found;
  }

  /** Forgets what is known about `id` (e.g. after the user was changed). */
  invalidate(id: string): void {
    this.cache.delete(id);
    this.inflight.delete(id);
  }

  findByLogin(login: string): Promise<DirectoryUserWithHash | null> {
    // Never cached: sign-in must see the current password and state.
    return this.inner.findByLogin(login);
  }

  search(query: string, options: UserSearchOptions): Promise<DirectoryUser[]> {
    return this.inner.search(query, options);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  async close(): Promise<void> {
    this.cache.clear();
    await this.inner.close();
  }

  private enqueue(id: string): Waiter {
    const waiter = deferred();
    this.inflight.set(id, waiter);
    if (!this.batch) {
      this.batch = new Map();
      // not a microtask: handshakes arriving in the same I/O turn (or window) then share the query
      if (this.kind === "mysql") setTimeout(() => void this.flush(), REMOTE_BATCH_WINDOW_MS);
      else setImmediate(() => void this.flush());
    }
    this.batch.set(id, waiter);
    return waiter;
  }

  private async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = null;
    if (!batch) return;
    try {
      const found = await this.inner.findByIds([...batch.keys()]);
      for (const [id, waiter] of batch) {
        const user = found.get(id) ?? null;
        if (this.inflight.get(id) === waiter) {
          this.inflight.delete(id);
          this.remember(id, user);
        }
        waiter.resolve(user);
      }
    } catch (error) {
      for (const [id, waiter] of batch) {
        if (this.inflight.get(id) === waiter) this.inflight.delete(id);
        waiter.reject(error);
      }
    }
  }

  private remember(id: string, user: DirectoryUser | null): void {
    this.cache.set(id, { user }, { ttl: user?.active ? this.foundTtlMs : this.missingTtlMs });
  }
}

function deferred(): Waiter {
  let resolve!: (user: DirectoryUser | null) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<DirectoryUser | null>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Every waiter is awaited by the lookup that created it; this only guards the refresh/invalidate
  // case where nobody is left to await a failed fetch.
  promise.catch(() => {});
  return { promise, resolve, reject };
}
