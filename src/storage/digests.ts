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

/** What one run of the job decided for one user. */
export interface NewDigest {
  userId: string;
  /** the messages to mail; empty: only the marks move (nothing to mail, or mail is off) */
  messageIds: string[];
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
  /** Moves the marks (never back) and keeps the digests that have messages, in one write. */
  queueDigests(marks: readonly DigestMark[], digests: readonly NewDigest[], at: string): Promise<void>;
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
}
