/**
 * The chat store: rooms, members, messages, reactions and read markers. Reads of rooms and members
 * are served from memory (a mirror of committed state); writes are group-committed, and each
 * returned promise settles only after its transaction is durable.
 */
import type { Message, Role, RoomRecord, RoomType } from "../protocol/index.js";
import type { FileRecord, NewFile } from "./files.js";
import type { GroupSync, GroupSyncResult } from "./sqlite/external-rooms.js";

export type { FileRecord, NewFile } from "./files.js";

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
  at: string;
}

export interface RemovalResult {
  room: StoredRoom | null;
  /** the room has no members left and is closed */
  closed: boolean;
}

export interface ChatStore {
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
  editMessage(messageId: string, body: string, at: string): Promise<Message>;
  deleteMessage(messageId: string, at: string): Promise<{ message: Message; changed: boolean }>;
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
  /** Removes a file's record (an upload whose bytes could not be stored); a missing one is fine. */
  deleteFile(fileId: string): Promise<void>;
  /** A file's record, or undefined. */
  file(fileId: string): FileRecord | undefined;
  /** The bytes of every file the user keeps, attached or not: what counts against their quota. */
  fileBytesOf(userId: string): number;

  /** Throws when the database cannot answer. */
  ping(): void;
  /** Commits what is queued now. */
  flush(): Promise<void>;
  /** Commits what is queued, then closes. */
  close(): Promise<void>;
}
