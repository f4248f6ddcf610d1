/**
 * (v2.3) The email digest job, one background job across all nodes (src/cluster/jobs/). Each
 * run has two steps:
 *
 * 1. Collect: from the read markers, what each member has not read past what earlier runs looked
 *    at (nothing is written when a message is sent). Messages older than the user's
 *    `emailDelayMin` that notify them (rules.ts) go into one new digest per user, unless their
 *    last digest is younger than their delay (then they wait for the next window). Everyone
 *    else's marks just move on. Digests and marks are written together, so a restart finds them.
 * 2. Send: take the digests that are due (each to one node only, held for a while), drop what
 *    was read or deleted since, and mail the rest; an SMTP failure tries again later, doubling
 *    the wait. A digest is marked sent as soon as the SMTP server took it.
 *
 * 3. Prune: once an hour, digests sent more than `KEEP_SENT_DAYS` ago are deleted with their items.
 *
 * Disabled users and users without an address get nothing. `onDue` hears, at step 1, of every
 * user's newly due notifying messages: where channels other than email (the `notification`
 * webhook) plug in. Two runs at the same moment (two nodes around a job takeover) both collect,
 * but the store lets each message go to one of them only, so nobody gets a mail or webhook twice.
 *
 * (v2.4) A user outside their working hours or inside their quiet hours (`availability`) is
 * skipped at step 1: their marks stay, so everything that comes due meanwhile waits, and the
 * first run of their next working period puts it all in one digest (and one `onDue`). A digest
 * already made whose user is held by the time it is sent waits for the same moment, and goes out
 * in the same mail: a user's digests due together are always mailed as one.
 */
import { LIMITS } from "../../protocol/index.js";
import type { Listeners } from "../../shared/listeners.js";
import type { AsyncChatStore } from "../../storage/async-chat-store.js";
import type { DigestMark, DueMessage, NewDigest } from "../../storage/chat-store.js";
import type { UserDirectory } from "../../users/types.js";
import type { Availability } from "./availability.js";
import { type DigestLine, roomLink, type SendMail } from "./mailer.js";
import { notifies } from "./rules.js";

export const DIGEST_JOB = "email-digests";
/** How often the job runs: the delays are in whole minutes. */
export const DIGEST_EVERY_MS = 60_000;
/** A node that took a digest and died frees it after this. */
const HOLD_MS = 5 * 60_000;
/** Waits between tries when the SMTP server fails: 1, 2, 4 … minutes, at most an hour. */
const FIRST_RETRY_MS = 60_000;
const MAX_RETRY_MS = 60 * 60_000;
/** Rows looked at per run, and digests sent per batch. */
const DUE_LIMIT = 200_000;
const SEND_BATCH = 200;
/** Sent digests are kept this long (for an operator's questions), then deleted. */
export const KEEP_SENT_DAYS = 30;
const PRUNE_EVERY_MS = 60 * 60_000;

/** Newly due notifying messages of one user, for other channels. */
export type DueListener = (userId: string, messages: readonly DueMessage[]) => void;

export interface DigestDeps {
  store: Pick<
    AsyncChatStore,
    | "dueMessages"
    | "queueDigests"
    | "claimDigests"
    | "digestEntries"
    | "finishDigest"
    | "retryDigest"
    | "pruneDigests"
    | "userNames"
  >;
  directory: Pick<UserDirectory, "findByIds">;
  /** null: no email (SMTP_URL unset); marks still move and `onDue` still hears */
  send: SendMail | null;
  /** CHAT_PUBLIC_URL */
  publicUrl: string;
  now: () => number;
  onDue?: Listeners<Parameters<DueListener>>;
  /** (v2.4) working hours and quiet hours; absent: everyone may be notified at any time */
  availability?: Availability;
}

/** What one run did. */
export interface DigestOutcome {
  queued: number;
  sent: number;
  failed: number;
  /** old sent digests deleted */
  pruned: number;
}

/** When this node last pruned (a run at or after `lastPruneAt + PRUNE_EVERY_MS` prunes again). */
export interface PruneState {
  lastPruneAt: number | null;
}

export function digestJob(deps: DigestDeps): { name: string; everyMs: number; run(): Promise<void> } {
  const prune: PruneState = { lastPruneAt: null };
  return {
    name: DIGEST_JOB,
    everyMs: DIGEST_EVERY_MS,
    run: async () => void (await runDigests(deps, prune)),
  };
}

export async function runDigests(
  deps: DigestDeps,
  prune: PruneState = { lastPruneAt: null },
): Promise<DigestOutcome> {
  const queued = await collect(deps);
  const { sent, failed } = deps.send ? await sendDue(deps, deps.send) : { sent: 0, failed: 0 };
  let pruned = 0;
  const now = deps.now();
  if (prune.lastPruneAt === null || now - prune.lastPruneAt >= PRUNE_EVERY_MS) {
    pruned = await deps.store.pruneDigests(new Date(now - KEEP_SENT_DAYS * 86_400_000).toISOString());
    prune.lastPruneAt = now;
  }
  return { queued, sent, failed, pruned };
}

const minutes = (n: number) => n * 60_000;

async function collect(deps: DigestDeps): Promise<number> {
  const now = deps.now();
  // the shortest delay: younger messages are due for nobody
  const before = new Date(now - minutes(LIMITS.emailDelayMinMin)).toISOString();
  const rows = await deps.store.dueMessages(before, DUE_LIMIT);
  if (rows.length === 0) return 0;
  const byUser = new Map<string, DueMessage[]>();
  for (const row of rows) {
    const list = byUser.get(row.userId);
    if (list) list.push(row);
    else byUser.set(row.userId, [row]);
  }
  const users = await deps.directory.findByIds([...byUser.keys()]);
  const held = await heldUsers(deps, [...byUser.keys()], now);
  const marks: DigestMark[] = [];
  const digests: NewDigest[] = [];
  for (const [userId, list] of byUser) {
    // off work or in quiet hours: nothing moves, so it all comes due at once when they are back
    if (held.has(userId)) continue;
    const delay = minutes(list[0]!.emailDelayMin ?? LIMITS.emailDelayMinDefault);
    const cutoff = new Date(now - delay).toISOString();
    const lastDigest = list[0]!.lastDigestAt;
    // one digest per window: what comes due sooner waits for the next one
    if (lastDigest !== null && lastDigest > cutoff) continue;
    const looked = list.filter((m) => m.createdAt <= cutoff);
    if (looked.length === 0) continue;
    const user = users.get(userId);
    const due = user?.active ? looked.filter((m) => notifies(m, userId, m.notify)) : [];
    const highest = new Map<string, number>();
    for (const m of looked) highest.set(m.roomId, Math.max(highest.get(m.roomId) ?? 0, m.seq));
    for (const [roomId, seq] of highest) marks.push({ userId, roomId, seq });
    if (due.length === 0) continue;
    const wantsMail =
      (list[0]!.email ?? (user?.email ? "digest" : "off")) === "digest" && Boolean(user?.email);
    digests.push({ userId, messages: due, mail: Boolean(deps.send) && wantsMail });
  }
  if (marks.length === 0) return 0;
  const taken = await deps.store.queueDigests(marks, digests, new Date(now).toISOString());
  // told only of what this run took: a run at the same moment on another node took the rest
  const byId = new Map(rows.map((row) => [`${row.userId} ${row.messageId}`, row]));
  for (const digest of taken) {
    deps.onDue?.emit(
      digest.userId,
      digest.messages.map((m) => byId.get(`${digest.userId} ${m.messageId}`)!),
    );
  }
  return taken.filter((d) => d.mail).length;
}

async function sendDue(deps: DigestDeps, send: SendMail): Promise<{ sent: number; failed: number }> {
  let sent = 0;
  let failed = 0;
  for (;;) {
    const now = deps.now();
    const at = new Date(now).toISOString();
    const claimed = await deps.store.claimDigests(at, new Date(now + HOLD_MS).toISOString(), SEND_BATCH);
    if (claimed.length === 0) break;
    const heldUntil = await deps.availability?.heldUntil([...new Set(claimed.map((d) => d.userId))], now);
    const entries = await deps.store.digestEntries(claimed.map((d) => d.id));
    const users = await deps.directory.findByIds([...new Set(claimed.map((d) => d.userId))]);
    const names = await deps.store.userNames([...new Set(entries.map((e) => e.senderId))]);
    // each outcome is written as soon as it is known, without waiting for the write before the next
    // mail: the SQLite store commits the writes of one moment together (one commit, not one a mail)
    const writes: Promise<void>[] = [];
    // a user's digests due at the same moment go out as one mail: a digest that waited out their
    // hours (or an SMTP failure) and the one made of what came while they were away
    for (const [userId, digests] of byUser(claimed)) {
      const until = heldUntil?.get(userId) ?? null;
      if (until !== null) {
        for (const digest of digests) await deps.store.retryDigest(digest.id, new Date(until).toISOString());
        continue;
      }
      const finish = (outcome: Parameters<typeof deps.store.finishDigest>[2]) => {
        for (const digest of digests) writes.push(deps.store.finishDigest(digest.id, at, outcome));
      };
      const user = users.get(userId);
      if (!user?.active || !user.email) {
        finish("no-address");
        continue;
      }
      const ids = new Set(digests.map((d) => d.id));
      const mine = entries.filter((e) => ids.has(e.digestId));
      if (mine.length === 0) {
        finish("empty");
        continue;
      }
      const lines: DigestLine[] = mine.map((e) => {
        const senderName = names.get(e.senderId) ?? e.senderId;
        return {
          roomLabel: e.roomType === "group" ? (e.roomName ?? "Group") : `Direct chat with ${senderName}`,
          senderName,
          createdAt: e.createdAt,
          body: e.body,
          link: roomLink(deps.publicUrl, e.roomId),
        };
      });
      try {
        await send({ to: user.email, userName: user.name, lines, chatLink: `${deps.publicUrl}/` });
      } catch {
        failed++;
        for (const digest of digests) {
          const wait = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (digest.attempts - 1));
          writes.push(deps.store.retryDigest(digest.id, new Date(now + wait).toISOString()));
        }
        continue;
      }
      finish("sent");
      sent++;
    }
    await Promise.all(writes);
    if (claimed.length < SEND_BATCH) break;
  }
  return { sent, failed };
}

/** Claimed digests by user, in the order claimed. */
function byUser<T extends { userId: string }>(digests: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const digest of digests) {
    const list = groups.get(digest.userId);
    if (list) list.push(digest);
    else groups.set(digest.userId, [digest]);
  }
  return groups;
}

/** The users of `userIds` who may not be notified at `now`. */
async function heldUsers(deps: DigestDeps, userIds: readonly string[], now: number): Promise<Set<string>> {
  if (!deps.availability) return new Set();
  const held = await deps.availability.heldUntil(userIds, now);
  return new Set(userIds.filter((id) => (held.get(id) ?? null) !== null));
}
