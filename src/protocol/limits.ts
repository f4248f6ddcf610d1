/**
 * Limits of the contract that do not depend on configuration, and how text is measured.
 * Kept apart from `payloads.ts` (which needs zod) so browsers can import them without zod.
 */

/** Limits of the contract that do not depend on configuration. */
export const LIMITS = {
  clientIdMax: 64,
  roomNameMax: 100,
  searchQueryMax: 200,
  emojiMax: 32,
  distinctEmojiPerMessage: 20,
  membersPerRequest: 500,
  presenceIdsMax: 500,
  typingTimeoutMs: 6000,
} as const;

/** Counts Unicode code points, as the contract measures text. */
export function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}
