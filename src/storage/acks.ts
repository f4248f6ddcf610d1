/**
 * (v2.4) Notices that must be acknowledged, as both chat stores keep them: a table of its own
 * (`message_acks`, one row per recipient), so a message that needs no acknowledgement costs the
 * send path nothing and the messages table (and PostgreSQL's functions on its row type) stay as
 * they are.
 */

/** One recipient of a notice: `at` is when they acknowledged it, null while pending. */
export interface AckRecord {
  userId: string;
  at: string | null;
}
