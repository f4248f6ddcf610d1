/**
 * Mentions and notification settings as both chat stores keep them. A message row keeps the ids
 * it mentions as JSON text (like its reactions), so every read of a message has them without a
 * join, plus a flag for `@all`/`@here`. A partial index over the messages that mention anyone
 * makes a member's unread mention count a short range read (`messages_mentioning`).
 */
import type { NotifyLevel, UserPrefs } from "../protocol/index.js";

/** What a body mentions, as the message service resolved it (src/chat/messages/mentions.ts). */
export interface MentionSet {
  /** member ids, in the order they first appear */
  userIds: readonly string[];
  /** `@all` or `@here` in a group */
  all: boolean;
}

/** A message that mentions nobody. */
export const NO_MENTIONS: MentionSet = { userIds: [], all: false };

/** The JSON a message row keeps in `mentions`. */
export function mentionsJson(mentions: MentionSet | undefined): string {
  return JSON.stringify(mentions?.userIds ?? []);
}

/** A message row's `mentions` column back to ids. */
export function parseMentions(json: string): string[] {
  const ids: unknown = JSON.parse(json);
  return Array.isArray(ids) ? ids.map(String) : [];
}

/** One member's own view of a room: their notification setting and unread mentions. */
export interface MemberView {
  notify: NotifyLevel;
  /** messages after their read marker, not their own, mentioning them or everyone */
  mentions: number;
}

/** The settings a user changed; what is missing takes its default (src/chat/prefs/service.ts). */
/** (v2.4) quiet hours are kept with working hours (see hours.ts), not here */
export type StoredPrefs = Partial<Omit<UserPrefs, "quietHours">>;
