/**
 * (v2.3) PUSH_*: the VAPID key pair that signs Web Push requests and the operator's address the
 * push services may write to. Both keys or neither: neither means a key made once and kept in the
 * chat database (src/push/vapid.ts), which is right for most installations.
 */
import { type VapidKeys, vapidKeysFrom } from "../push/vapid.js";
import type { Env } from "./schema.js";

export interface PushConfig {
  /** PUSH_VAPID_PUBLIC_KEY and PUSH_VAPID_PRIVATE_KEY; null: the key kept in the chat database */
  keys: VapidKeys | null;
  /** PUSH_SUBJECT (a mailto: or https: address), else CHAT_PUBLIC_URL when it is https */
  subject: string;
}

/** What push services are told when no address is set: reachable by nobody, so a warning says so. */
export const FALLBACK_PUSH_SUBJECT = "mailto:timewise-chat@localhost";

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * The push settings; pushes one line per bad variable onto `problems`. The missing address is only
 * worth a warning in production: on a developer's machine nobody's push service needs to reach them.
 */
export function parsePushConfig(
  e: Env,
  problems: string[],
  warnings: string[],
  production: boolean,
): PushConfig {
  const pub = e.PUSH_VAPID_PUBLIC_KEY;
  const priv = e.PUSH_VAPID_PRIVATE_KEY;
  let keys: VapidKeys | null = null;
  if ((pub === undefined) !== (priv === undefined)) {
    const missing = pub === undefined ? "PUSH_VAPID_PUBLIC_KEY" : "PUSH_VAPID_PRIVATE_KEY";
    problems.push(`${missing}: set PUSH_VAPID_PUBLIC_KEY and PUSH_VAPID_PRIVATE_KEY together, or neither`);
  } else if (pub !== undefined && priv !== undefined) {
    keys = checkedKeys(pub, priv, problems);
  }
  const subject = e.PUSH_SUBJECT ?? publicHttps(e.CHAT_PUBLIC_URL);
  if (subject === null && production) {
    warnings.push(
      "PUSH_SUBJECT is not set: set it to an address push services can reach you at (mailto:you@example.com), as some of them refuse pushes without one.",
    );
  }
  return { keys, subject: subject ?? FALLBACK_PUSH_SUBJECT };
}

function checkedKeys(pub: string, priv: string, problems: string[]): VapidKeys | null {
  const raw = BASE64URL.test(priv) ? Buffer.from(priv, "base64url") : null;
  if (raw?.length !== 32) {
    problems.push(
      "PUSH_VAPID_PRIVATE_KEY: must be a P-256 private key, 32 bytes in base64url (43 characters)",
    );
    return null;
  }
  let derived: VapidKeys;
  try {
    derived = vapidKeysFrom(priv);
  } catch {
    problems.push("PUSH_VAPID_PRIVATE_KEY: is not a valid P-256 private key");
    return null;
  }
  const point = BASE64URL.test(pub) ? Buffer.from(pub, "base64url") : null;
  if (point?.length !== 65 || point[0] !== 4) {
    problems.push(
      "PUSH_VAPID_PUBLIC_KEY: must be an uncompressed P-256 public key, 65 bytes in base64url (87 characters)",
    );
    return null;
  }
  if (derived.publicKey !== pub) {
    problems.push(
      "PUSH_VAPID_PUBLIC_KEY: does not belong to PUSH_VAPID_PRIVATE_KEY; set the pair made together",
    );
    return null;
  }
  return derived;
}

function publicHttps(url: string | undefined): string | null {
  return url?.startsWith("https://") ? url.replace(/\/+$/, "") : null;
}
