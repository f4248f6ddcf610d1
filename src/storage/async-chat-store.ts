/**
 * The chat store with every read asynchronous: the shape a store takes when its reads go to a
 * database server (PostgreSQL) instead of an in-memory mirror. It is derived from `ChatStore` by a
 * mapped type, so a method added to `ChatStore` appears here too, and cannot be forgotten.
 */
import type { ChatStore } from "./chat-store.js";

/**
 * Members that only make sense for a store that keeps a mirror of another node's writes: a store
 * that reads the shared database directly always answers as of the latest commit.
 */
type MirrorOnly = "reloadRooms";

/**
 * A method of `ChatStore` whose result, when not already a promise, becomes one. `[R]` keeps a
 * union such as `Message | undefined` one promise of the union, not a union of promises.
 */
type Asynchronous<F> = F extends (...args: infer A) => infer R
  ? (...args: A) => [R] extends [Promise<unknown>] ? R : Promise<R>
  : never;

/** `ChatStore` with asynchronous reads, less the mirror-only members. */
export type AsyncChatStore = {
  [K in Exclude<keyof ChatStore, MirrorOnly>]: Asynchronous<ChatStore[K]>;
};

/**
 * Drives a synchronous `ChatStore` (the SQLite one) through the asynchronous shape, so the same
 * callers and the same contract tests work with either store. Rooms are still the mirror's live
 * objects, exactly as the SQLite store hands them out.
 */
export function asAsyncChatStore(store: ChatStore): AsyncChatStore {
  return {
    room: async (roomId) => store.room(roomId),
    roomsOf: async (userId) => store.roomsOf(userId),
    roomIdsOf: async (userId) => store.roomIdsOf(userId),
    userName: async (userId) => store.userName(userId),
    userNames: async (userIds) => store.userNames(userIds),
    membership: async (roomId, userId) => store.membership(roomId, userId),
    lastSeenAt: async (userId) => store.lastSeenAt(userId),
    message: async (messageId) => store.message(messageId),
    history: async (roomId, query) => store.history(roomId, query),
    changes: async (roomId, sinceRev, limit) => store.changes(roomId, sinceRev, limit),
    search: async (roomIds, query, limit) => store.search(roomIds, query, limit),
    sendMessage: (input) => store.sendMessage(input),
    editMessage: (messageId, body, at, mentions) => store.editMessage(messageId, body, at, mentions),
    deleteMessage: (messageId, at) => store.deleteMessage(messageId, at),
    react: (messageId, userId, emoji, on) => store.react(messageId, userId, emoji, on),
    openDirect: (a, b, at) => store.openDirect(a, b, at),
    createGroup: (input) => store.createGroup(input),
    rename: (roomId, name) => store.rename(roomId, name),
    addMembers: (roomId, userIds, at) => store.addMembers(roomId, userIds, at),
    setRole: (roomId, userId, role) => store.setRole(roomId, userId, role),
    removeMember: (roomId, userId) => store.removeMember(roomId, userId),
    markRead: (roomId, userId, seq) => store.markRead(roomId, userId, seq),
    rememberUsers: (users) => store.rememberUsers(users),
    roomByExternalKey: async (externalKey) => store.roomByExternalKey(externalKey),
    syncGroup: (input) => store.syncGroup(input),
    revokeTokens: (userId, beforeS) => store.revokeTokens(userId, beforeS),
    tokensRevokedBefore: async (userId) => store.tokensRevokedBefore(userId),
    serverSecret: async (name) => store.serverSecret(name),
    setLastSeen: (userId, at) => store.setLastSeen(userId, at),
    createFile: (input, quotaBytes) => store.createFile(input, quotaBytes),
    deleteFile: (fileId, at) => store.deleteFile(fileId, at),
    removeUnattachedFiles: (before, limit, at) => store.removeUnattachedFiles(before, limit, at),
    pendingFileDeletions: async (before, limit) => store.pendingFileDeletions(before, limit),
    forgetFileDeletions: (keys) => store.forgetFileDeletions(keys),
    file: async (fileId) => store.file(fileId),
    fileBytesOf: async (userId) => store.fileBytesOf(userId),
    mentionTargets: async (roomId) => store.mentionTargets(roomId),
    memberViews: async (userId, roomIds) => store.memberViews(userId, roomIds),
    setNotify: (roomId, userId, notify) => store.setNotify(roomId, userId, notify),
    userPrefs: async (userId) => store.userPrefs(userId),
    setUserPrefs: (userId, prefs) => store.setUserPrefs(userId, prefs),
    dueMessages: async (before, limit) => store.dueMessages(before, limit),
    queueDigests: (marks, digests, at) => store.queueDigests(marks, digests, at),
    claimDigests: (now, holdUntil, limit) => store.claimDigests(now, holdUntil, limit),
    digestEntries: async (digestIds) => store.digestEntries(digestIds),
    finishDigest: (digestId, at, outcome) => store.finishDigest(digestId, at, outcome),
    retryDigest: (digestId, nextTryAt) => store.retryDigest(digestId, nextTryAt),
    pruneDigests: (before) => store.pruneDigests(before),
    requestAcks: (messageId, userIds) => store.requestAcks(messageId, userIds),
    acknowledge: (messageId, userId, at) => store.acknowledge(messageId, userId, at),
    acksOf: async (messageIds) => store.acksOf(messageIds),
    savePushSubscription: (sub, maxPerUser) => store.savePushSubscription(sub, maxPerUser),
    removePushSubscription: (userId, endpoint) => store.removePushSubscription(userId, endpoint),
    forgetPushSubscription: (endpoint) => store.forgetPushSubscription(endpoint),
    pushSubscriptionsOf: async (userIds) => store.pushSubscriptionsOf(userIds),
    setRoomRetention: (roomId, days) => store.setRoomRetention(roomId, days),
    roomRetentions: async () => store.roomRetentions(),
    expiredMessageIds: async (query, limit) => store.expiredMessageIds(query, limit),
    messagesOfSender: async (userId, afterId, limit) => store.messagesOfSender(userId, afterId, limit),
    appendAudit: (entry) => store.appendAudit(entry),
    auditEntries: async (query) => store.auditEntries(query),
    setSchedule: (userId, schedule, at) => store.setSchedule(userId, schedule, at),
    setQuietHours: (userId, quietHours, at) => store.setQuietHours(userId, quietHours, at),
    hoursOf: async (userIds) => store.hoursOf(userIds),
    recordUrgent: (entry) => store.recordUrgent(entry),
    urgentMessages: async (query) => store.urgentMessages(query),
    ping: async () => store.ping(),
    flush: () => store.flush(),
    close: () => store.close(),
  };
}
