/**
 * (v2.4) Retention and erasure: messages are deleted exactly as `message:delete` deletes them
 * (the store's own delete: `seq` kept, `deleted: true`, a new `rev`, files and search entries
 * gone), members online get `message:deleted`, and the files' bytes go after each commit. Work is
 * done in batches of short writes, one message each, handed over 25 at a time (one commit) with
 * a turn of the event loop between, so sends keep flowing while a run goes on.
 * Safe to run twice or on two nodes: a message already deleted is simply not found again.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import type { Message } from "../../protocol/index.js";
import type { AsyncChatStore } from "../../storage/async-chat-store.js";
import type { FileBytes } from "../files/bytes.js";

export const RETENTION_JOB = "retention";
export const RETENTION_EVERY_MS = 24 * 60 * 60 * 1000;
export const RETENTION_BATCH = 200;
/**
 * Deletes handed to the store at once: one commit each on SQLite instead of one per message,
 * small enough that a send waiting behind them waits a few milliseconds at most.
 */
const TOGETHER = 25;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface RetentionDeps {
  store: AsyncChatStore;
  bytes: Pick<FileBytes, "remove">;
  fanout: { messageDeleted(message: Message): void };
  /** RETENTION_DAYS; null keeps messages forever (rooms with their own retention aside) */
  defaultDays: number | null;
  /** the app's clock, in ms */
  now: () => number;
  batch?: number;
  /** `count` messages were deleted for their age (timewise_chat_messages_expired_total) */
  expired?: (count: number) => void;
}

/** Deletes the messages past their room's retention; resolves with how many. */
export async function runRetention(deps: RetentionDeps): Promise<number> {
  const now = deps.now();
  const before = (days: number) => new Date(now - days * DAY_MS).toISOString();
  const own = await deps.store.roomRetentions();
  let deleted = 0;
  const counted = { ...deps, onBatch: (count: number) => deps.expired?.(count) };
  for (const [roomId, days] of own) {
    deleted += await deleteAll(counted, () =>
      deps.store.expiredMessageIds({ before: before(days), roomId }, size(deps)),
    );
  }
  if (deps.defaultDays !== null) {
    const query = { before: before(deps.defaultDays), exceptRoomIds: [...own.keys()] };
    deleted += await deleteAll(counted, () => deps.store.expiredMessageIds(query, size(deps)));
  }
  return deleted;
}

/** Deletes every live message the user sent; resolves with how many. */
export async function eraseMessagesOf(
  deps: Omit<RetentionDeps, "defaultDays">,
  userId: string,
): Promise<number> {
  return deleteAll(deps, async () =>
    (await deps.store.messagesOfSender(userId, null, size(deps))).map((m) => m.id),
  );
}

const size = (deps: { batch?: number }) => deps.batch ?? RETENTION_BATCH;

async function deleteAll(
  deps: Omit<RetentionDeps, "defaultDays"> & { onBatch?: (count: number) => void },
  nextBatch: () => Promise<string[]>,
): Promise<number> {
  let deleted = 0;
  for (;;) {
    const ids = await nextBatch();
    if (ids.length === 0) return deleted;
    const before = deleted;
    const at = new Date(deps.now()).toISOString();
    const keys: string[] = [];
    for (let i = 0; i < ids.length; i += TOGETHER) {
      // queued together, so the store commits them as one (SQLite's group commit; one fsync)
      const outcomes = await Promise.all(
        ids.slice(i, i + TOGETHER).map((id) => deps.store.deleteMessage(id, at)),
      );
      for (const outcome of outcomes) {
        if (!outcome.changed) continue;
        deleted++;
        deps.fanout.messageDeleted(outcome.message);
        keys.push(...outcome.fileKeys);
      }
      // the live sends queued meanwhile get their commit before the next group
      await nextTurn();
    }
    if (keys.length > 0) await deps.bytes.remove(keys, "message_deleted");
    deps.onBatch?.(deleted - before);
    // a message another delete got to first comes back no more; a batch of only those ends it
    if (ids.length < size(deps)) return deleted;
    // let the sends, reads and socket traffic waiting behind this batch go first
    await nextTurn();
  }
}

/** The daily job (a `Job` of src/cluster/jobs/): once per day across the nodes. */
export function retentionJob(deps: RetentionDeps): { name: string; everyMs: number; run(): Promise<void> } {
  return {
    name: RETENTION_JOB,
    everyMs: RETENTION_EVERY_MS,
    run: async () => {
      await runRetention(deps);
    },
  };
}
