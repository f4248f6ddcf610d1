/**
 * (v2.3) The VAPID key pair that signs every Web Push request. PUSH_VAPID_PUBLIC_KEY and
 * PUSH_VAPID_PRIVATE_KEY when set; else a private key made once and kept in the chat database
 * (server_secrets, both stores), so every node signs with the same key and browsers' existing
 * subscriptions keep working after a restart.
 */
import { createECDH } from "node:crypto";

/** The name of the VAPID private key in server_secrets. */
export const VAPID_SECRET_NAME = "push-vapid-private";

export interface VapidKeys {
  /** uncompressed P-256 point, base64url (65 bytes): what `GET /api/push/key` hands browsers */
  publicKey: string;
  /** the P-256 private scalar, base64url (32 bytes) */
  privateKey: string;
}

/**
 * The public key that belongs to a private one. A server secret is 32 random bytes, which is a
 * valid P-256 private key unless it is zero or above the curve's order (odds about 2^-32).
 */
export function vapidKeysFrom(privateKey: string): VapidKeys {
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(Buffer.from(privateKey, "base64url"));
  return { publicKey: ecdh.getPublicKey().toString("base64url"), privateKey };
}

/** The configured pair, or the one kept in the chat database. */
export async function vapidKeys(
  configured: VapidKeys | null,
  serverSecret: (name: string) => Promise<string>,
): Promise<VapidKeys> {
  if (configured) return configured;
  return vapidKeysFrom(await serverSecret(VAPID_SECRET_NAME));
}
