/**
 * (v2.3) What the email digest job keeps in the chat store, on both stores. Nothing is written
 * when a message is sent: the job works out at run time what each member has not read yet, from
 * the read markers, past their `digest_marks` (what earlier runs already looked at). What a run
 * decides to mail is kept as a digest row with its messages (`digests`, `digest_items`) until it
 * is sent, so a restart or an SMTP outage loses nothing and sends nothing twice.
 */
import type { NotifyLevel, RoomType } from "../protocol/index.js";

/** One unread message of another member, old enough to be looked at by the digest job. */
export interface DueMessage {
  userId: string;
  roomId: string;
  messageId: string;
  seq: number;
  senderId: string;
  body: string;
  createdAt: string;
  mentions: string[];
  mentionsAll: boolean;
  /** the member's setting for the room (never `none`: those are left out) */
  notify: NotifyLevel;
  /** the user's stored email choice (null: the default) */
  email: "off" | "digest" | null;
  /** the user's stored delay (null: the default) */
  emailDelayMin: number | null;
  /** when the user's latest digest was made, or null */
  lastDigestAt: string | null;
}

/** A notifying message a run found due for one user. */
export interface DueRef {
  messageId: string;
  roomId: string;
  seq: number;
}

/** What one run of the job decided for one user. */
export interface NewDigest {
  userId: string;
  /** the user's newly due notifying messages */
  messages: readonly DueRef[];
  /** true: they go into a digest mail; false: only the other channels (the webhook) hear of them */
  mail: boolean;
}

/** How far the job has looked in a member's room. */
export interface DigestMark {
  userId: string;
  roomId: string;
  seq: number;
}

/** A digest that is due to go out, as `claimDigests` hands it over. */
export interface ClaimedDigest {
  id: string;
  userId: string;
  /** tries so far, this one included */
  attempts: number;
}

/** A message of a claimed digest, still unread by its user and not deleted. */
export interface DigestEntry {
  digestId: string;
  roomId: string;
  roomType: RoomType;
  roomName: string | null;
  messageId: string;
  seq: number;
  senderId: string;
  body: string;
  createdAt: string;
}

/** How a digest ended: mailed, nothing left to mail, or its user had no address (or was disabled). */
export type DigestOutcome = "sent" | "empty" | "no-address";

/** The digest part of the chat store (see `ChatStore`). */
export interface DigestStore {
  /**
   * Messages of other members after each member's read marker and digest mark, made at or
   * before `before`, not deleted, in open rooms whose setting is not `none`; by user, room, seq.
   * At most `limit` rows (what is left waits for the next run).
   */
  dueMessages(before: string, limit: number): DueMessage[];
  /**
   * Moves the marks (never back) and keeps the digests that have messages, in one write. Two runs
   * at the same moment (two nodes around a job takeover) take turns here, and a message at or below
   * a mark as it is at write time is dropped: each message is taken by one run only. Returns what
   * this run took (users left with no messages are left out).
   */
  queueDigests(marks: readonly DigestMark[], digests: readonly NewDigest[], at: string): Promise<NewDigest[]>;
  /**
   * Takes up to `limit` unsent digests whose next try is due at `now`, and holds them until
   * `holdUntil` (a node that dies mid-send frees them then): each goes to one caller only.
   */
  claimDigests(now: string, holdUntil: string, limit: number): Promise<ClaimedDigest[]>;
  /** The messages of these digests their users have still not read, not deleted; by digest, room, seq. */
  digestEntries(digestIds: readonly string[]): DigestEntry[];
  /** Marks a digest sent (or given up: `outcome` says which); it never goes out again. */
  finishDigest(digestId: string, at: string, outcome: DigestOutcome): Promise<void>;
  /** Sends a digest again at `nextTryAt` (the SMTP server failed). */
  retryDigest(digestId: string, nextTryAt: string): Promise<void>;
  /** Deletes digests that went out (or were given up) before `before`, with their items; how many. */
  pruneDigests(before: string): Promise<number>;
}

/**
 * What of `digests` a run may take, given the marks as they are at write time (by
 * `"<userId> <roomId>"`): only messages above them. Another run at the same moment took the rest.
 */
export function aboveMarks(digests: readonly NewDigest[], marks: ReadonlyMap<string, number>): NewDigest[] {
  const taken: NewDigest[] = [];
  for (const digest of digests) {
    const messages = digest.messages.filter((m) => m.seq > (marks.get(`${digest.userId} ${m.roomId}`) ?? 0));
    if (messages.length > 0) taken.push({ ...digest, messages });
  }
  return taken;
}
