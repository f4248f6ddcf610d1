/**
 * The keys of the server API: SERVICE_API_KEY (full access) and the scoped SERVER_API_KEYS. Every
 * key is hashed with SHA-256 and the digests compared with `timingSafeEqual`, so the time taken
 * tells a caller nothing about the real keys: not where their guess first goes wrong, and not a
 * key's length (the digests are always 32 bytes). A presented key is compared with every key,
 * without stopping at a match, so neither which key matched nor how many there are shows either.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { ServerApiKey, ServerApiScope } from "../config/server-api-keys.js";

export type KeyCheck = (presented: string) => boolean;

/** A check for one key. */
export function serviceKeyCheck(key: string): KeyCheck {
  const expected = digest(key);
  return (presented) => timingSafeEqual(digest(presented), expected);
}

/** Finds the key a caller presented among `keys`, or null; every key is compared every time. */
export function keyRing(keys: readonly ServerApiKey[]): (presented: string) => ServerApiKey | null {
  const digests = keys.map((k) => ({ key: k, digest: digest(k.key) }));
  return (presented) => {
    const given = digest(presented);
    let found: ServerApiKey | null = null;
    for (const entry of digests) {
      // no early exit: the loop takes as long whichever key matches, or none
      if (timingSafeEqual(given, entry.digest) && found === null) found = entry.key;
    }
    return found;
  };
}

/** Whether a key may act in `scope`. */
export function allows(key: ServerApiKey, scope: Exclude<ServerApiScope, "all">): boolean {
  return key.scopes.includes("all") || key.scopes.includes(scope);
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}
