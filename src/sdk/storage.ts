/**
 * Where the SDK keeps what must survive a page reload (the outbox). The port has the shape of the
 * Web Storage API, so `localStorage` fits as it is; Node and tests use `MemoryStorage`.
 */

/** The subset of Web Storage the SDK uses. */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** A storage that lives as long as the object: for Node, and for tests that "reload" a client. */
export class MemoryStorage implements KeyValueStorage {
  private readonly items = new Map<string, string>();

  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }

  removeItem(key: string): void {
    this.items.delete(key);
  }
}

/**
 * `localStorage` when the platform has one that works, else a `MemoryStorage`. Private browsing
 * modes and sandboxed iframes may throw on access, so this probes once instead of trusting it.
 */
export function defaultStorage(): KeyValueStorage {
  const candidate = (globalThis as { localStorage?: KeyValueStorage }).localStorage;
  if (candidate) {
    try {
      const probe = "twc:probe";
      candidate.setItem(probe, "1");
      candidate.removeItem(probe);
      return candidate;
    } catch {
      // fall through: no usable storage
    }
  }
  return new MemoryStorage();
}

/** Reads JSON written by `writeJson`; anything unreadable counts as absent. */
export function readJson<T>(
  storage: KeyValueStorage,
  key: string,
  isValid: (value: unknown) => value is T,
): T | null {
  try {
    const text = storage.getItem(key);
    if (text === null) return null;
    const value: unknown = JSON.parse(text);
    return isValid(value) ? value : null;
  } catch {
    return null;
  }
}

/** Writes JSON; a full or refused storage only costs persistence, never the running client. */
export function writeJson(storage: KeyValueStorage, key: string, value: unknown): void {
  try {
    storage.setItem(key, JSON.stringify(value));
  } catch {
    // quota exceeded or storage disabled: the in-memory copy still works for this session
  }
}
