/**
 * The PostgreSQL chat store: all chat data in one PostgreSQL database that every node shares.
 * There is no mirror and no write queue: each read asks the database (so every node answers as
 * of the latest commit on any node), and each write is one transaction, announced on the commit
 * feed when it commits (feed.ts). The parts live in their own files; this class only wires them
 * to one pool.
 */
import type pg from "pg";
import type { JobClaims } from "../../cluster/jobs/scheduler.js";
import type { Message, NotifyLevel, QuietHours, Role, RoomType, WorkSchedule } from "../../protocol/index.js";
import type { AckRecord } from "../acks.js";
import type { AsyncChatStore } from "../async-chat-store.js";
import type {
  ChatStore,
  DeletedMessage,
  FileRecord,
  GroupSync,
  GroupSyncResult,
  HistoryQuery,
  MemberView,
  MentionSet,
  NewFile,
  RemovalResult,
  SendInput,
  StoredPrefs,
  StoredRoom,
} from "../chat-store.js";
import type {
  ClaimedDigest,
  DigestEntry,
  DigestMark,
  DigestOutcome,
  DueMessage,
  NewDigest,
} from "../digests.js";
import type { UrgentEntry, UrgentQuery, UserHours } from "../hours.js";
import type { PushSubscriptionRecord, SubscribeOutcome } from "../push.js";
import type { AuditEntry, AuditInput, AuditQuery, ExpiryQuery } from "../retention.js";
import * as ackRecords from "./ack-records.js";
import * as digests from "./digests.js";
import { syncGroup } from "./external-rooms.js";
import { type Listener, type ListenOptions, listen } from "./feed.js";
import * as files from "./file-records.js";
import * as hours from "./hours.js";
import { PostgresJobLocks } from "./job-locks.js";
import * as users from "./known-users.js";
import * as settings from "./member-settings.js";
import { loadChanges, loadHistory, loadMessage } from "./message-reads.js";
import * as messages from "./message-writes.js";
import { migrate } from "./migrations.js";
import { type CommitHook, onCommit, openPool, type PoolOptions, read, setCommitHook } from "./pool.js";
import * as push from "./push-subscriptions.js";
import * as reads from "./read-writes.js";
import * as retention from "./retention.js";
import { loadMembership, loadRoom, loadRoomByExternalKey, loadRoomIdsOf, loadRoomsOf } from "./room-reads.js";
import * as rooms from "./room-writes.js";
import { searchMessages } from "./search.js";

export class PostgresChatStore implements AsyncChatStore {
  private closed = false;
  /** names this node wrote lately (known-users.ts) */
  private readonly recentNames = new users.RecentNames();

  /** Takes over a pool whose database is already migrated; `close` ends it. */
  /** made on first use: a field initializer would run before `pool` is set */
  private finisher: digests.DigestFinisher | null = null;

  constructor(private readonly pool: pg.Pool) {}

  /** Connects, brings the schema up to date (once, whichever node gets there first), and opens the store. */
  static async open(options: PoolOptions): Promise<PostgresChatStore> {
    const pool = openPool(options);
    try {
      await migrate(pool);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresChatStore(pool);
  }

  /**
   * Listens to this database's commit feed on a connection of its own (feed.ts), with the same
   * address and credentials as the pool.
   */
  listenFeed(options: Omit<ListenOptions, "url">): Listener {
    const url = this.pool.options.connectionString;
    if (!url) throw new Error("the chat database pool has no connection string to listen with");
    return listen({ ...options, url });
  }

  /**
   * This node's claims on background jobs: advisory locks held on a connection of its own
   * (job-locks.ts), with the same address and credentials as the pool.
   */
  jobLocks(onProblem?: (message: string) => void): JobClaims {
    const url = this.pool.options.connectionString;
    if (!url) throw new Error("the chat database pool has no connection string to lock jobs with");
    return new PostgresJobLocks({ url, onProblem });
  }

  /** Every write tags its feed events with `hook` and waits for it after COMMIT (null: no more). */
  onCommit(hook: CommitHook | null): void {
    setCommitHook(this.pool, hook);
  }

  /**
   * The store's pool, for the built-in user directory, which lives in this database too
   * (src/users/postgres-directory.ts) and so shares its connections and timeouts.
   */
  sharedPool(): pg.Pool {
    return this.db;
  }

  /** The pool to read with, failing loudly once the store is closed. */
  private get db(): pg.Pool {
    if (this.closed) throw new Error("the chat database is closed");
    return this.pool;
  }

  room(roomId: string): Promise<StoredRoom | undefined> {
    return loadRoom(this.db, roomId);
  }

  roomsOf(userId: string): Promise<StoredRoom[]> {
    return loadRoomsOf(this.db, userId);
  }

  roomIdsOf(userId: string): Promise<ReadonlySet<string>> {
    return loadRoomIdsOf(this.db, userId);
  }

  userName(userId: string): Promise<string> {
    return users.userName(this.db, userId);
  }

  userNames(userIds: readonly string[]): Promise<ReadonlyMap<string, string>> {
    return users.userNames(this.db, userIds);
  }

  membership(roomId: string, userId: string): Promise<Role | undefined> {
    return loadMembership(this.db, roomId, userId);
  }

  lastSeenAt(userId: string): Promise<string | null> {
    return users.lastSeenAt(this.db, userId);
  }

  message(messageId: string): Promise<Message | undefined> {
    return loadMessage(this.db, messageId);
  }

  history(roomId: string, query: HistoryQuery): Promise<{ messages: Message[]; hasMore: boolean }> {
    return loadHistory(this.db, roomId, query);
  }

  changes(
    roomId: string,
    sinceRev: number,
    limit: number,
  ): Promise<{ messages: Message[]; rev: number; hasMore: boolean }> {
    return loadChanges(this.db, roomId, sinceRev, limit);
  }

  search(roomIds: readonly string[], query: string, limit: number): Promise<Message[]> {
    return searchMessages(this.db, roomIds, query, limit);
  }

  sendMessage(input: SendInput): Promise<{ message: Message; created: boolean }> {
    return messages.sendMessage(this.db, input);
  }

  editMessage(messageId: string, body: string, at: string, mentions?: MentionSet): Promise<Message> {
    return messages.editMessage(this.db, messageId, body, at, mentions);
  }

  mentionTargets(roomId: string): Promise<{ type: RoomType; memberIds: string[] } | undefined> {
    return settings.mentionTargets(this.db, roomId);
  }

  memberViews(userId: string, roomIds: readonly string[]): Promise<ReadonlyMap<string, MemberView>> {
    return settings.memberViews(this.db, userId, roomIds);
  }

  setNotify(roomId: string, userId: string, notify: NotifyLevel): Promise<void> {
    return settings.setNotify(this.db, roomId, userId, notify);
  }

  requestAcks(messageId: string, userIds: readonly string[]): Promise<void> {
    return ackRecords.requestAcks(this.db, messageId, userIds);
  }

  acknowledge(
    messageId: string,
    userId: string,
    at: string,
  ): Promise<{ at: string; changed: boolean } | undefined> {
    return ackRecords.acknowledge(this.db, messageId, userId, at);
  }

  acksOf(messageIds: readonly string[]): Promise<ReadonlyMap<string, AckRecord[]>> {
    return ackRecords.acksOf(this.db, messageIds);
  }

  savePushSubscription(sub: PushSubscriptionRecord, maxPerUser: number): Promise<SubscribeOutcome> {
    return push.savePushSubscription(this.db, sub, maxPerUser);
  }

  removePushSubscription(userId: string, endpoint: string): Promise<boolean> {
    return push.removePushSubscription(this.db, userId, endpoint);
  }

  forgetPushSubscription(endpoint: string): Promise<void> {
    return push.forgetPushSubscription(this.db, endpoint);
  }

  pushSubscriptionsOf(userIds: readonly string[]): Promise<PushSubscriptionRecord[]> {
    return push.pushSubscriptionsOf(this.db, userIds);
  }

  setRoomRetention(roomId: string, days: number | null): Promise<void> {
    return retention.setRoomRetention(this.db, roomId, days);
  }

  roomRetentions(): Promise<ReadonlyMap<string, number>> {
    return retention.roomRetentions(this.db);
  }

  expiredMessageIds(query: ExpiryQuery, limit: number): Promise<string[]> {
    return retention.expiredMessageIds(this.db, query, limit);
  }

  messagesOfSender(userId: string, afterId: string | null, limit: number): Promise<Message[]> {
    return retention.messagesOfSender(this.db, userId, afterId, limit);
  }

  appendAudit(entry: AuditInput): Promise<void> {
    return retention.appendAudit(this.db, entry);
  }

  auditEntries(query: AuditQuery): Promise<AuditEntry[]> {
    return retention.auditEntries(this.db, query);
  }

  setSchedule(userId: string, schedule: WorkSchedule | null, at: string): Promise<void> {
    return hours.setSchedule(this.db, userId, schedule, at);
  }

  setQuietHours(userId: string, quietHours: QuietHours | null, at: string): Promise<void> {
    return hours.setQuietHours(this.db, userId, quietHours, at);
  }

  hoursOf(userIds: readonly string[]): Promise<ReadonlyMap<string, UserHours>> {
    return hours.hoursOf(this.db, userIds);
  }

  recordUrgent(entry: UrgentEntry): Promise<void> {
    return hours.recordUrgent(this.db, entry);
  }

  urgentMessages(query: UrgentQuery): Promise<UrgentEntry[]> {
    return hours.urgentMessages(this.db, query);
  }

  userPrefs(userId: string): Promise<StoredPrefs> {
    return settings.userPrefs(this.db, userId);
  }

  setUserPrefs(userId: string, prefs: StoredPrefs): Promise<StoredPrefs> {
    return settings.setUserPrefs(this.db, userId, prefs);
  }

  dueMessages(before: string, limit: number): Promise<DueMessage[]> {
    return digests.dueMessages(this.db, before, limit);
  }

  queueDigests(marks: readonly DigestMark[], list: readonly NewDigest[], at: string): Promise<NewDigest[]> {
    return digests.queueDigests(this.db, marks, list, at);
  }

  claimDigests(now: string, holdUntil: string, limit: number): Promise<ClaimedDigest[]> {
    return digests.claimDigests(this.db, now, holdUntil, limit);
  }

  digestEntries(digestIds: readonly string[]): Promise<DigestEntry[]> {
    return digests.digestEntries(this.db, digestIds);
  }

  finishDigest(digestId: string, at: string, outcome: DigestOutcome): Promise<void> {
    this.finisher ??= new digests.DigestFinisher(this.db);
    return this.finisher.finish(digestId, at, outcome);
  }

  retryDigest(digestId: string, nextTryAt: string): Promise<void> {
    return digests.retryDigest(this.db, digestId, nextTryAt);
  }

  pruneDigests(before: string): Promise<number> {
    return digests.pruneDigests(this.db, before);
  }

  deleteMessage(messageId: string, at: string): Promise<DeletedMessage> {
    return messages.deleteMessage(this.db, messageId, at);
  }

  react(
    messageId: string,
    userId: string,
    emoji: string,
    on: boolean,
  ): Promise<{ message: Message; changed: boolean }> {
    return messages.react(this.db, messageId, userId, emoji, on);
  }

  markRead(roomId: string, userId: string, seq: number): Promise<number> {
    return reads.markRead(this.db, roomId, userId, seq);
  }

  openDirect(a: string, b: string, at: string): Promise<{ room: StoredRoom; created: boolean }> {
    return rooms.openDirect(this.db, a, b, at);
  }

  createGroup(input: Parameters<ChatStore["createGroup"]>[0]): Promise<StoredRoom> {
    return rooms.createGroup(this.db, input);
  }

  rename(roomId: string, name: string): Promise<StoredRoom> {
    return rooms.rename(this.db, roomId, name);
  }

  addMembers(
    roomId: string,
    userIds: readonly string[],
    at: string,
  ): Promise<{ room: StoredRoom; added: string[] }> {
    return rooms.addMembers(this.db, roomId, userIds, at);
  }

  setRole(roomId: string, userId: string, role: Role): Promise<StoredRoom> {
    return rooms.setRole(this.db, roomId, userId, role);
  }

  removeMember(roomId: string, userId: string): Promise<RemovalResult> {
    return rooms.removeMember(this.db, roomId, userId);
  }

  rememberUsers(list: readonly { id: string; name: string }[]): Promise<void> {
    return users.rememberUsers(this.db, list, this.recentNames);
  }

  setLastSeen(userId: string, at: string): Promise<void> {
    return users.setLastSeen(this.db, userId, at);
  }

  roomByExternalKey(externalKey: string): Promise<StoredRoom | undefined> {
    return loadRoomByExternalKey(this.db, externalKey);
  }

  syncGroup(input: GroupSync): Promise<GroupSyncResult & { room: StoredRoom }> {
    return syncGroup(this.db, input);
  }

  revokeTokens(userId: string, beforeS: number): Promise<number> {
    return users.revokeTokens(this.db, userId, beforeS);
  }

  tokensRevokedBefore(userId: string): Promise<number | null> {
    return users.tokensRevokedBefore(this.db, userId);
  }

  serverSecret(name: string): Promise<string> {
    return users.serverSecret(this.db, name);
  }

  /** Calls `listener` after each committed write, with how long its transaction took (one listener). */
  onWriteTimed(listener: (seconds: number) => void): void {
    onCommit(this.pool, listener);
  }

  createFile(input: NewFile, quotaBytes: number): Promise<FileRecord> {
    return files.createFile(this.db, input, quotaBytes);
  }

  deleteFile(fileId: string, at: string): Promise<void> {
    return files.deleteFile(this.db, fileId, at);
  }

  removeUnattachedFiles(before: string, limit: number, at: string): Promise<string[]> {
    return files.removeUnattachedFiles(this.db, before, limit, at);
  }

  pendingFileDeletions(before: string, limit: number): Promise<string[]> {
    return files.pendingFileDeletions(this.db, before, limit);
  }

  forgetFileDeletions(keys: readonly string[]): Promise<void> {
    return files.forgetFileDeletions(this.db, keys);
  }

  file(fileId: string): Promise<FileRecord | undefined> {
    return files.loadFile(this.db, fileId);
  }

  fileBytesOf(userId: string): Promise<number> {
    return files.fileBytesOf(this.db, userId);
  }

  /** Throws (UNAVAILABLE when unreachable) when the database cannot answer. */
  async ping(): Promise<void> {
    await read(this.db, "SELECT 1");
  }

  /** Nothing is queued: every write has committed before its promise settles. */
  async flush(): Promise<void> {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
