/**
 * The SQLite chat store (better-sqlite3). Reads of rooms come from the in-memory mirror, message
 * reads from prepared statements, and every write goes through the group-commit queue. Each part
 * lives in its own file (message-queries.ts, message-writes.ts, read-writes.ts, room-writes.ts,
 * known-users.ts); this class builds them over one connection and one queue, and delegates.
 */
import type { Message, NotifyLevel, QuietHours, Role, RoomType, WorkSchedule } from "../../protocol/index.js";
import type { AckRecord } from "../acks.js";
import type {
  ChatStore,
  DeletedMessage,
  FileRecord,
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
import { AckRecords } from "./ack-records.js";
import { Background } from "./background.js";
import { SqliteDigests } from "./digests.js";
import { DurableReads } from "./durable-reads.js";
import { DurableSync } from "./durable-sync.js";
import type { GroupSync, GroupSyncResult } from "./external-rooms.js";
import { type ExternalRooms, prepareExternalRooms } from "./external-rooms.js";
import { FileRecords } from "./file-records.js";
import { HoursRecords } from "./hours.js";
import { KnownUsers } from "./known-users.js";
import { MemberSettings } from "./member-settings.js";
import { MessageQueries } from "./message-queries.js";
import { MessageWrites } from "./message-writes.js";
import type { SqliteDatabase } from "./open.js";
import { PushSubscriptions } from "./push-subscriptions.js";
import { ReadWrites } from "./read-writes.js";
import { RetentionRecords } from "./retention.js";
import { Revocations } from "./revocations.js";
import { RoomMirror } from "./room-mirror.js";
import { type NewGroup, RoomWrites } from "./room-writes.js";
import { SearchQueries } from "./search.js";
import { ServerSecrets } from "./server-secrets.js";
import { prepareStatements, type Statements } from "./statements.js";
import { WriteQueue, type WriteQueueHooks } from "./write-queue.js";

export class SqliteChatStore implements ChatStore {
  private readonly s: Statements;
  private readonly queue: WriteQueue;
  /** message reads, which never see a commit before it is durable */
  private readonly durable: DurableReads;
  private readonly mirror: RoomMirror;
  private readonly searches: SearchQueries;
  /** indexes for search, checkpoints the WAL and checks integrity, on a worker thread */
  private readonly background: Background;
  private readonly external: ExternalRooms;
  private readonly revocations: Revocations;
  private readonly secrets: ServerSecrets;
  private readonly users: KnownUsers;
  private readonly messages: MessageQueries;
  private readonly messageWrites: MessageWrites;
  private readonly readWrites: ReadWrites;
  private readonly roomWrites: RoomWrites;
  private readonly files: FileRecords;
  private readonly settings: MemberSettings;
  private readonly digests: SqliteDigests;
  private readonly ackRecords: AckRecords;
  private readonly pushSubscriptions: PushSubscriptions;
  private readonly retention: RetentionRecords;
  private readonly hours: HoursRecords;
  private closed = false;

  constructor(
    private readonly db: SqliteDatabase,
    hooks: WriteQueueHooks & {
      /** a problem of the background worker: search indexing, checkpoints, the integrity check */
      onBackgroundProblem?: (message: string) => void;
    } = {},
  ) {
    this.s = prepareStatements(db);
    this.durable = new DurableReads(db);
    this.queue = new WriteQueue(db, new DurableSync(db), this.durable, hooks);
    this.mirror = new RoomMirror(db, () => this.durable.mirrorReads);
    this.searches = new SearchQueries(db);
    this.background = new Background(db, hooks.onBackgroundProblem);
    this.background.onCheckpointed = () => this.queue.requestTailCheckpoint();
    this.external = prepareExternalRooms(db);
    this.revocations = new Revocations(db);
    this.secrets = new ServerSecrets(db);
    this.users = new KnownUsers(this.s, this.queue);
    this.messages = new MessageQueries(this.durable, this.mirror, this.searches);
    this.files = new FileRecords(db, this.queue);
    this.settings = new MemberSettings(db, this.queue);
    this.digests = new SqliteDigests(db, this.queue);
    this.ackRecords = new AckRecords(db, this.queue);
    this.pushSubscriptions = new PushSubscriptions(db, this.queue);
    this.retention = new RetentionRecords(db, this.queue);
    this.hours = new HoursRecords(db, this.queue);
    this.messageWrites = new MessageWrites(this.s, this.queue, this.mirror, this.files, (roomId) =>
      this.background.roomChanged(roomId),
    );
    this.readWrites = new ReadWrites(this.s, this.queue, this.mirror);
    this.roomWrites = new RoomWrites(this.s, this.queue, this.mirror, this.external);
  }

  room(roomId: string): StoredRoom | undefined {
    return this.mirror.rooms.get(roomId);
  }

  roomsOf(userId: string): StoredRoom[] {
    const rooms: StoredRoom[] = [];
    for (const id of this.mirror.roomIdsOf(userId)) {
      const room = this.mirror.rooms.get(id);
      if (room) rooms.push(room);
    }
    return rooms;
  }

  roomIdsOf(userId: string): ReadonlySet<string> {
    return this.mirror.roomIdsOf(userId);
  }

  userName(userId: string): string {
    return this.users.userName(userId);
  }

  userNames(userIds: readonly string[]): ReadonlyMap<string, string> {
    // names are in memory here, so one by one costs nothing
    return new Map(userIds.map((id) => [id, this.users.userName(id)]));
  }

  membership(roomId: string, userId: string): Role | undefined {
    return this.mirror.rooms.get(roomId)?.members.get(userId)?.role;
  }

  lastSeenAt(userId: string): string | null {
    return this.users.lastSeenAt(userId);
  }

  message(messageId: string): Message | undefined {
    return this.messages.message(messageId);
  }

  history(roomId: string, q: HistoryQuery): { messages: Message[]; hasMore: boolean } {
    return this.messages.history(roomId, q);
  }

  changes(
    roomId: string,
    sinceRev: number,
    limit: number,
  ): { messages: Message[]; rev: number; hasMore: boolean } {
    return this.messages.changes(roomId, sinceRev, limit);
  }

  search(roomIds: readonly string[], query: string, limit: number): Message[] {
    return this.messages.search(roomIds, query, limit);
  }

  sendMessage(input: SendInput): Promise<{ message: Message; created: boolean }> {
    return this.messageWrites.sendMessage(input);
  }

  editMessage(messageId: string, body: string, at: string, mentions?: MentionSet): Promise<Message> {
    return this.messageWrites.editMessage(messageId, body, at, mentions);
  }

  mentionTargets(roomId: string): { type: RoomType; memberIds: string[] } | undefined {
    const room = this.mirror.rooms.get(roomId);
    return room && { type: room.type, memberIds: [...room.members.keys()] };
  }

  memberViews(userId: string, roomIds: readonly string[]): ReadonlyMap<string, MemberView> {
    return this.settings.memberViews(userId, roomIds);
  }

  setNotify(roomId: string, userId: string, notify: NotifyLevel): Promise<void> {
    return this.settings.setNotify(roomId, userId, notify);
  }

  requestAcks(messageId: string, userIds: readonly string[]): Promise<void> {
    return this.ackRecords.requestAcks(messageId, userIds);
  }

  acknowledge(
    messageId: string,
    userId: string,
    at: string,
  ): Promise<{ at: string; changed: boolean } | undefined> {
    return this.ackRecords.acknowledge(messageId, userId, at);
  }

  acksOf(messageIds: readonly string[]): ReadonlyMap<string, AckRecord[]> {
    return this.ackRecords.acksOf(messageIds);
  }

  savePushSubscription(sub: PushSubscriptionRecord, maxPerUser: number): Promise<SubscribeOutcome> {
    return this.pushSubscriptions.save(sub, maxPerUser);
  }

  removePushSubscription(userId: string, endpoint: string): Promise<boolean> {
    return this.pushSubscriptions.remove(userId, endpoint);
  }

  forgetPushSubscription(endpoint: string): Promise<void> {
    return this.pushSubscriptions.forget(endpoint);
  }

  pushSubscriptionsOf(userIds: readonly string[]): PushSubscriptionRecord[] {
    return this.pushSubscriptions.of(userIds);
  }

  setRoomRetention(roomId: string, days: number | null): Promise<void> {
    return this.retention.setRoomRetention(roomId, days);
  }

  roomRetentions(): ReadonlyMap<string, number> {
    return this.retention.roomRetentions();
  }

  expiredMessageIds(query: ExpiryQuery, limit: number): string[] {
    return this.retention.expiredMessageIds(query, limit);
  }

  messagesOfSender(userId: string, afterId: string | null, limit: number): Message[] {
    return this.retention.messagesOfSender(userId, afterId, limit);
  }

  appendAudit(entry: AuditInput): Promise<void> {
    return this.retention.appendAudit(entry);
  }

  auditEntries(query: AuditQuery): AuditEntry[] {
    return this.retention.auditEntries(query);
  }

  setSchedule(userId: string, schedule: WorkSchedule | null, at: string): Promise<void> {
    return this.hours.setSchedule(userId, schedule, at);
  }

  setQuietHours(userId: string, quietHours: QuietHours | null, at: string): Promise<void> {
    return this.hours.setQuietHours(userId, quietHours, at);
  }

  hoursOf(userIds: readonly string[]): ReadonlyMap<string, UserHours> {
    return this.hours.hoursOf(userIds);
  }

  recordUrgent(entry: UrgentEntry): Promise<void> {
    return this.hours.recordUrgent(entry);
  }

  urgentMessages(query: UrgentQuery): UrgentEntry[] {
    return this.hours.urgentMessages(query);
  }

  userPrefs(userId: string): StoredPrefs {
    return this.settings.userPrefs(userId);
  }

  setUserPrefs(userId: string, prefs: StoredPrefs): Promise<StoredPrefs> {
    return this.settings.setUserPrefs(userId, prefs);
  }

  dueMessages(before: string, limit: number): DueMessage[] {
    return this.digests.dueMessages(before, limit);
  }

  queueDigests(
    marks: readonly DigestMark[],
    digests: readonly NewDigest[],
    at: string,
  ): Promise<NewDigest[]> {
    return this.digests.queueDigests(marks, digests, at);
  }

  claimDigests(now: string, holdUntil: string, limit: number): Promise<ClaimedDigest[]> {
    return this.digests.claimDigests(now, holdUntil, limit);
  }

  digestEntries(digestIds: readonly string[]): DigestEntry[] {
    return this.digests.digestEntries(digestIds);
  }

  finishDigest(digestId: string, at: string, outcome: DigestOutcome): Promise<void> {
    return this.digests.finishDigest(digestId, at, outcome);
  }

  retryDigest(digestId: string, nextTryAt: string): Promise<void> {
    return this.digests.retryDigest(digestId, nextTryAt);
  }

  pruneDigests(before: string): Promise<number> {
    return this.digests.pruneDigests(before);
  }

  deleteMessage(messageId: string, at: string): Promise<DeletedMessage> {
    return this.messageWrites.deleteMessage(messageId, at);
  }

  react(
    messageId: string,
    userId: string,
    emoji: string,
    on: boolean,
  ): Promise<{ message: Message; changed: boolean }> {
    return this.messageWrites.react(messageId, userId, emoji, on);
  }

  markRead(roomId: string, userId: string, seq: number): Promise<number> {
    return this.readWrites.markRead(roomId, userId, seq);
  }

  openDirect(a: string, b: string, at: string): Promise<{ room: StoredRoom; created: boolean }> {
    return this.roomWrites.openDirect(a, b, at);
  }

  createGroup(input: NewGroup): Promise<StoredRoom> {
    return this.roomWrites.createGroup(input);
  }

  rename(roomId: string, name: string): Promise<StoredRoom> {
    return this.roomWrites.rename(roomId, name);
  }

  addMembers(
    roomId: string,
    userIds: readonly string[],
    at: string,
  ): Promise<{ room: StoredRoom; added: string[] }> {
    return this.roomWrites.addMembers(roomId, userIds, at);
  }

  setRole(roomId: string, userId: string, role: Role): Promise<StoredRoom> {
    return this.roomWrites.setRole(roomId, userId, role);
  }

  removeMember(roomId: string, userId: string): Promise<RemovalResult> {
    return this.roomWrites.removeMember(roomId, userId);
  }

  rememberUsers(users: readonly { id: string; name: string }[]): Promise<void> {
    return this.users.rememberUsers(users);
  }

  setLastSeen(userId: string, at: string): Promise<void> {
    return this.users.setLastSeen(userId, at);
  }

  reloadRooms(roomIds: readonly string[]): Promise<void> {
    // through the queue, so the re-read happens between our own commits, never beside one
    return this.queue.run(() => ({
      result: undefined,
      apply: () => {
        for (const roomId of roomIds) {
          const room = this.mirror.reload(roomId);
          for (const userId of room?.members.keys() ?? []) this.users.loadName(userId);
        }
      },
    }));
  }

  roomByExternalKey(externalKey: string): StoredRoom | undefined {
    const id = this.external.openRoomId(externalKey);
    return id === null ? undefined : this.room(id);
  }

  syncGroup(input: GroupSync): Promise<GroupSyncResult & { room: StoredRoom }> {
    return this.roomWrites.syncGroup(input);
  }

  revokeTokens(userId: string, beforeS: number): Promise<number> {
    return this.queue.run(() => this.revocations.write(userId, beforeS));
  }

  tokensRevokedBefore(userId: string): number | null {
    return this.revocations.get(userId);
  }

  serverSecret(name: string): string {
    return this.secrets.get(name);
  }

  createFile(input: NewFile, quotaBytes: number): Promise<FileRecord> {
    return this.files.createFile(input, quotaBytes);
  }

  deleteFile(fileId: string, at: string): Promise<void> {
    return this.files.deleteFile(fileId, at);
  }

  removeUnattachedFiles(before: string, limit: number, at: string): Promise<string[]> {
    return this.files.removeUnattachedFiles(before, limit, at);
  }

  pendingFileDeletions(before: string, limit: number): string[] {
    return this.files.pendingFileDeletions(before, limit);
  }

  forgetFileDeletions(keys: readonly string[]): Promise<void> {
    return this.files.forgetFileDeletions(keys);
  }

  file(fileId: string): FileRecord | undefined {
    return this.files.file(fileId);
  }

  fileBytesOf(userId: string): number {
    return this.files.fileBytesOf(userId);
  }

  ping(): void {
    if (this.closed) throw new Error("the chat database is closed");
    const problem = this.background.integrityProblem;
    if (problem !== null) throw new Error(`the chat database failed its integrity check: ${problem}`);
    this.s.ping.get();
  }

  async flush(): Promise<void> {
    await this.queue.drain();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.close();
    await this.background.close();
    this.searches.close();
    this.durable.close();
    this.db.close();
  }
}
