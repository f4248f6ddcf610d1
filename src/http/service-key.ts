/**
 * The check of the server API's key (SERVICE_API_KEY). Both keys are hashed with SHA-256 and the
 * digests compared with `timingSafeEqual`, so the time taken tells a caller nothing about the real
 * key: not where their guess first goes wrong, and not the key's length (the digests are always
 * 32 bytes). Only the length of the caller's own guess changes the time, and they know it already.
 */
import { createHash, timingSafeEqual } from "node:crypto";

export type KeyCheck = (presented: string) => boolean;

export function serviceKeyCheck(key: string): KeyCheck {
  const expected = digest(key);
  return (presented) => timingSafeEqual(digest(presented), expected);
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}
