/**
 * The chat store: rooms, members, messages, reactions and read markers. Reads of rooms and members
 * are served from memory (a mirror of committed state); writes are group-committed, and each
 * returned promise settles only after its transaction is durable.
 */
import type { Message, NotifyLevel, Role, RoomRecord, RoomType } from "../protocol/index.js";
import type { AckRecord } from "./acks.js";
import type { DigestStore } from "./digests.js";
import type { FileRecord, NewFile } from "./files.js";
import type { HoursStore } from "./hours.js";
import type { MemberView, MentionSet, StoredPrefs } from "./mentions.js";
import type { PushSubscriptionRecord, SubscribeOutcome } from "./push.js";
import type { AuditEntry, AuditInput, AuditQuery, ExpiryQuery } from "./retention.js";
import type { GroupSync, GroupSyncResult } from "./sqlite/external-rooms.js";

export type { AckRecord } from "./acks.js";
export type {
  ClaimedDigest,
  DigestEntry,
  DigestMark,
  DigestOutcome,
  DigestStore,
  DueMessage,
  NewDigest,
} from "./digests.js";
export type { FileRecord, NewFile } from "./files.js";
export type { HoursStore, UrgentEntry, UrgentQuery, UserHours } from "./hours.js";
export type { MemberView, MentionSet, StoredPrefs } from "./mentions.js";
export type { PushSubscriptionRecord, SubscribeOutcome } from "./push.js";
export type { AuditEntry, AuditInput, AuditQuery, ExpiryQuery } from "./retention.js";

export type { GroupSync, GroupSyncResult } from "./sqlite/external-rooms.js";

/** A member as the store keeps them. */
export interface MemberState {
  userId: string;
  role: Role;
  joinedAt: string;
  /** order of joining within the room (smaller joined earlier) */
  joinOrder: number;
  readSeq: number;
  /** own messages after readSeq; unread = lastSeq - readSeq - ownAfterRead */
  ownAfterRead: number;
}

/** An open room as the store keeps it. */
export interface StoredRoom {
  id: string;
  type: RoomType;
  name: string | null;
  createdAt: string;
  externalKey: string | null;
  /** the TimeWise record this room is on (its key is `record/<kind>/<id>`), or null */
  record: RoomRecord | null;
  lastSeq: number;
  rev: number;
  lastActivityAt: string;
  lastMessage: Message | null;
  members: Map<string, MemberState>;
}

export interface HistoryQuery {
  beforeSeq?: number;
  afterSeq?: number;
  limit: number;
}

export interface SendInput {
  roomId: string;
  senderId: string;
  body: string;
  clientId: string | null;
  replyToId: string | null;
  /**
   * Files to attach, in this order: each must be the sender's own and not yet attached
   * (BAD_REQUEST otherwise, and nothing is sent). A repeated clientId returns the stored message.
   * Absent: none.
   */
  fileIds?: readonly string[];
  /** who the body mentions, resolved by the service; absent: nobody */
  mentions?: MentionSet;
  at: string;
  /**
   * The sender must be a member of the open room: NOT_FOUND otherwise (before the clientId is
   * looked at), checked with the write itself (on PostgreSQL under the room's lock), so a send
   * costs no separate membership read. Absent: not checked (posts as the TimeWise app).
   */
  requireMember?: boolean;
}

/** What deleting a message did. */
export interface DeletedMessage {
  message: Message;
  /** false when it was already deleted (nothing changed, no rev taken) */
  changed: boolean;
  /**
   * The store keys of the files it carried: their records are gone in the same write (which frees
   * the uploader's quota) and the keys wait in the file deletions until the caller removes the
   * bytes and calls `forgetFileDeletions`.
   */
  fileKeys: string[];
}

export interface RemovalResult {
  room: StoredRoom | null;
  /** the room has no members left and is closed */
  closed: boolean;
}

export interface ChatStore extends DigestStore, HoursStore {
  /** An open room, or undefined. */
  room(roomId: string): StoredRoom | undefined;
  /** The open rooms a user is a member of. */
  roomsOf(userId: string): StoredRoom[];
  /** The room ids a user is a member of. */
  roomIdsOf(userId: string): ReadonlySet<string>;
  /** The name last seen for a user. */
  userName(userId: string): string;
  /** The names last seen for several users at once (one read, not one per user). */
  userNames(userIds: readonly string[]): ReadonlyMap<string, string>;
  /** The user's role in an open room, or undefined when they are not a member (or it is closed). */
  membership(roomId: string, userId: string): Role | undefined;
  lastSeenAt(userId: string): string | null;

  message(messageId: string): Message | undefined;
  history(roomId: string, query: HistoryQuery): { messages: Message[]; hasMore: boolean };
  changes(
    roomId: string,
    sinceRev: number,
    limit: number,
  ): { messages: Message[]; rev: number; hasMore: boolean };
  search(roomIds: readonly string[], query: string, limit: number): Message[];

  sendMessage(input: SendInput): Promise<{ message: Message; created: boolean }>;
  /** `mentions`: what the new body mentions (absent: nobody); they replace the old ones */
  editMessage(messageId: string, body: string, at: string, mentions?: MentionSet): Promise<Message>;
  deleteMessage(messageId: string, at: string): Promise<DeletedMessage>;
  react(
    messageId: string,
    userId: string,
    emoji: string,
    on: boolean,
  ): Promise<{ message: Message; changed: boolean }>;
  openDirect(a: string, b: string, at: string): Promise<{ room: StoredRoom; created: boolean }>;
  createGroup(input: {
    name: string;
    ownerId: string;
    memberIds: readonly string[];
    at: string;
    externalKey?: string;
  }): Promise<StoredRoom>;
  rename(roomId: string, name: string): Promise<StoredRoom>;
  addMembers(
    roomId: string,
    userIds: readonly string[],
    at: string,
  ): Promise<{ room: StoredRoom; added: string[] }>;
  setRole(roomId: string, userId: string, role: Role): Promise<StoredRoom>;
  /** Removes a member; an owner leaving hands ownership on; the last one out closes the room. */
  removeMember(roomId: string, userId: string): Promise<RemovalResult>;
  markRead(roomId: string, userId: string, seq: number): Promise<number>;
  rememberUsers(users: readonly { id: string; name: string }[]): Promise<void>;
  /** The open room mirrored under an external key (`team:42`), or undefined. */
  roomByExternalKey(externalKey: string): StoredRoom | undefined;
  /** Creates, reopens or updates the group mirrored under `input.externalKey` (idempotent). */
  syncGroup(input: GroupSync): Promise<GroupSyncResult & { room: StoredRoom }>;
  /** Refuses the user's tokens issued at or before `beforeS` (Unix seconds) from now on; durable. */
  revokeTokens(userId: string, beforeS: number): Promise<number>;
  /** The second up to which the user's tokens are refused, or null. */
  tokensRevokedBefore(userId: string): number | null;
  /** A secret of this installation, made at random on first use and the same ever after. */
  serverSecret(name: string): string;
  setLastSeen(userId: string, at: string): Promise<void>;

  /** Re-reads rooms that another node changed (several nodes share one database). */
  reloadRooms(roomIds: readonly string[]): Promise<void>;

  /**
   * Keeps the record of an upload, not attached to anything yet. QUOTA_EXCEEDED (and nothing
   * kept) when the uploader's files would then pass `quotaBytes`; checked in the same write, so
   * uploads at the same moment, on any node, can't pass it together.
   */
  createFile(input: NewFile, quotaBytes: number): Promise<FileRecord>;
  /**
   * Removes a file's record (an upload that failed or was not kept); a missing one is fine. Its
   * store key waits in the file deletions until the caller removes the bytes (`forgetFileDeletions`).
   */
  deleteFile(fileId: string, at: string): Promise<void>;
  /**
   * The clean-up of uploads never attached: removes up to `limit` records of unattached files
   * made at or before `before` (oldest first), their keys kept in the file deletions in the same
   * write, and returns the keys. A send attaching one of them at that moment either wins (the
   * file stays) or finds it gone (BAD_REQUEST); never both.
   */
  removeUnattachedFiles(before: string, limit: number, at: string): Promise<string[]>;
  /**
   * Store keys of file deletions made at or before `before` whose bytes were never confirmed gone
   * (a crash or a file store failure after the record was deleted), oldest first, up to `limit`.
   */
  pendingFileDeletions(before: string, limit: number): string[];
  /** Forgets file deletions whose bytes are gone; unknown keys are fine. */
  forgetFileDeletions(keys: readonly string[]): Promise<void>;
  /** A file's record, or undefined. */
  file(fileId: string): FileRecord | undefined;
  /** The bytes of every file the user keeps, attached or not: what counts against their quota. */
  fileBytesOf(userId: string): number;

  /** (v2.4) Sets a room's own retention in days, or (null) lets RETENTION_DAYS apply; NOT_FOUND for no room. */
  setRoomRetention(roomId: string, days: number | null): Promise<void>;
  /** (v2.4) Rooms with their own retention, id to days. */
  roomRetentions(): ReadonlyMap<string, number>;
  /** (v2.4) Ids of live messages matching `query`, oldest first, up to `limit`. */
  expiredMessageIds(query: ExpiryQuery, limit: number): string[];
  /** (v2.4) The user's live messages with ids after `afterId` (null: from the start), by id, up to `limit`. */
  messagesOfSender(userId: string, afterId: string | null, limit: number): Message[];
  /** (v2.4) Appends one entry to the audit log (there is no way to change or remove one). */
  appendAudit(entry: AuditInput): Promise<void>;
  /** (v2.4) Audit entries, oldest first. */
  auditEntries(query: AuditQuery): AuditEntry[];

  /**
   * (v2.3) What resolving mentions needs: an open room's type and every member's id, or undefined.
   * Only asked for a body that may mention someone.
   */
  mentionTargets(roomId: string): { type: RoomType; memberIds: string[] } | undefined;
  /**
   * (v2.3) The user's own view of each of `roomIds` they are a member of (one read for all):
   * notification setting and unread mention count. Rooms they are not in are left out.
   */
  memberViews(userId: string, roomIds: readonly string[]): ReadonlyMap<string, MemberView>;
  /** (v2.3) Sets a member's notification setting for a room; NOT_FOUND when they are not a member. */
  setNotify(roomId: string, userId: string, notify: NotifyLevel): Promise<void>;
  /** (v2.3) The settings the user changed (none: an empty object). */
  userPrefs(userId: string): StoredPrefs;
  /** (v2.3) Changes the fields given, keeps the others; answers what is stored now. */
  setUserPrefs(userId: string, prefs: StoredPrefs): Promise<StoredPrefs>;

  /** (v2.4) Makes `userIds` the pending recipients of a notice (idempotent). */
  requestAcks(messageId: string, userIds: readonly string[]): Promise<void>;
  /**
   * (v2.4) Marks a recipient's acknowledgement; a second one changes nothing and answers the first
   * time. Undefined when they are not a recipient.
   */
  acknowledge(
    messageId: string,
    userId: string,
    at: string,
  ): Promise<{ at: string; changed: boolean } | undefined>;
  /** (v2.4) The recipients of each of `messageIds` that is a notice (one read for all). */
  acksOf(messageIds: readonly string[]): ReadonlyMap<string, AckRecord[]>;

  /**
   * (v2.3) Stores a browser's push subscription for its user, or renews the endpoint (new keys, a
   * new owner); `full` stores nothing when the user already has `maxPerUser` other endpoints.
   */
  savePushSubscription(sub: PushSubscriptionRecord, maxPerUser: number): Promise<SubscribeOutcome>;
  /** (v2.3) Removes the user's own subscription at `endpoint`; false when they have none there. */
  removePushSubscription(userId: string, endpoint: string): Promise<boolean>;
  /** (v2.3) Removes the subscription at `endpoint` whoever owns it: the push service said it is gone. */
  forgetPushSubscription(endpoint: string): Promise<void>;
  /** (v2.3) The subscriptions of `userIds`, by user, oldest first. */
  pushSubscriptionsOf(userIds: readonly string[]): PushSubscriptionRecord[];

  /** Throws when the database cannot answer. */
  ping(): void;
  /** Commits what is queued now. */
  flush(): Promise<void>;
  /** Commits what is queued, then closes. */
  close(): Promise<void>;
}
