/**
 * (v2.3) Browsers' Web Push subscriptions, as both chat stores keep them: one row per endpoint
 * (a browser profile's address at its push service), owned by the user who subscribed last.
 */

/** One stored subscription. */
export interface PushSubscriptionRecord {
  userId: string;
  /** the push service's https URL for this browser: unique across users */
  endpoint: string;
  /** the browser's P-256 public key, base64url */
  p256dh: string;
  /** the browser's 16-byte auth secret, base64url */
  auth: string;
  createdAt: string;
}

/**
 * What saving a subscription did: `added` a new one; `renewed` an endpoint already stored (its
 * keys and owner replaced: the same browser, maybe signed in as someone else now); `full` nothing,
 * as the user already has the most subscriptions allowed.
 */
export type SubscribeOutcome = "added" | "renewed" | "full";
