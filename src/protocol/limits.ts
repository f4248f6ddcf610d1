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
  /** rooms in one `room:list` page when no `limit` is given (also the cap for old clients) */
  roomPageDefault: 100,
  roomPageMax: 200,
  /**
   * members each room carries in a `room:list` answer (the caller always among them); the full
   * list comes from `room:get` or `room:members`. Keeps a list answer small however many large
   * groups someone was added to.
   */
  listMembersMax: 20,
  /** members in one `room:members` page */
  membersPageDefault: 100,
  membersPageMax: 500,
  /** files one message can carry */
  filesPerMessage: 10,
  /** `user:prefs:set`'s `emailDelayMin`, in minutes: from one minute to a day */
  emailDelayMinMin: 1,
  emailDelayMinMax: 1440,
  /** the default `emailDelayMin` */
  emailDelayMinDefault: 10,
  /** a record's kind (`timesheet`): short and plain, it is part of the room's key */
  recordKindMax: 32,
  /** a record's id in the PHP app */
  recordIdMax: 64,
  /** a record's link back into the PHP app */
  recordUrlMax: 2000,
  /** (v2.4) working-hours spans on one day of a weekly schedule */
  spansPerDayMax: 8,
  /** (v2.4) shifts in one schedule: the PHP app sends the coming weeks, not the whole year */
  shiftsMax: 500,
  /** (v2.3) browsers (push subscriptions) one user may have at once */
  pushSubscriptionsMax: 20,
  /** (v2.3) a push endpoint URL; real ones are a few hundred characters */
  pushEndpointMax: 2048,
} as const;

/** Counts Unicode code points, as the contract measures text. */
export function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}
