/**
 * (v2.4) What both chat stores keep for working hours: each user's schedule (set by the PHP app)
 * and quiet hours (their own), as JSON in one row per user, and the list of urgent messages,
 * kept for audit. The rules that read them are in src/chat/hours/.
 */
import type { QuietHours, WorkSchedule } from "../protocol/index.js";

/** A user's hours; a user without a row has neither. */
export interface UserHours {
  schedule: WorkSchedule | null;
  quietHours: QuietHours | null;
}

/** One urgent message, as `GET /api/server/urgent` lists it. */
export interface UrgentEntry {
  messageId: string;
  roomId: string;
  /** the user who sent it, or "system" for TimeWise itself */
  senderId: string;
  at: string;
}

/** Which urgent messages to read: sent at or after `since` (ISO), oldest first. */
export interface UrgentQuery {
  since?: string;
  limit: number;
}

/** The working-hours part of the chat store (see `ChatStore`). */
export interface HoursStore {
  /** (v2.4) Sets (or with null removes) a user's working-hours schedule. */
  setSchedule(userId: string, schedule: WorkSchedule | null, at: string): Promise<void>;
  /** (v2.4) Sets (or with null removes) a user's quiet hours. */
  setQuietHours(userId: string, quietHours: QuietHours | null, at: string): Promise<void>;
  /** (v2.4) The hours of each of `userIds` who has a schedule or quiet hours (one read for all). */
  hoursOf(userIds: readonly string[]): ReadonlyMap<string, UserHours>;
  /** (v2.4) Records an urgent message (a repeat of the same message changes nothing). */
  recordUrgent(entry: UrgentEntry): Promise<void>;
  /** (v2.4) Urgent messages, oldest first. */
  urgentMessages(query: UrgentQuery): UrgentEntry[];
}

/** The JSON column's value, or null for a column left empty. */
export function parseHours<T>(json: string | null): T | null {
  return json === null ? null : (JSON.parse(json) as T);
}
