/**
 * The clean-up of files, a background job that runs once per turn across all nodes
 * (src/cluster/jobs/): uploads never attached to a message within UNATTACHED_TTL_MS are removed
 * (record and bytes), and the bytes of deletions a crash or a file store failure left behind are
 * removed too. Each run works in batches (a short write each, never one huge transaction) and is
 * safe to run again or on two nodes at once: every step removes what is due, whoever gets there
 * first, and removing missing bytes is not an error.
 */
import type { AsyncChatStore } from "../../storage/async-chat-store.js";
import type { FileBytes } from "./bytes.js";

/** How long an upload may wait for the message that carries it. */
export const UNATTACHED_TTL_MS = 24 * 60 * 60 * 1000;
/** How often the clean-up runs. */
export const FILE_CLEANUP_EVERY_MS = 15 * 60 * 1000;
/**
 * A deletion whose bytes are still there this long after it was made was left behind (its node
 * crashed, or the file store failed); younger ones are probably being removed right now.
 */
export const LEFT_OVER_AFTER_MS = 5 * 60 * 1000;
/** Records per write. */
export const FILE_CLEANUP_BATCH = 100;
/** Batches per run and per kind: what is left waits for the next run, so one run stays short. */
const MAX_BATCHES = 50;

export const FILE_CLEANUP_JOB = "files-cleanup";

export interface CleanupDeps {
  store: Pick<AsyncChatStore, "removeUnattachedFiles" | "pendingFileDeletions">;
  bytes: Pick<FileBytes, "remove">;
  /** the app's clock, in ms */
  now: () => number;
  /** records per write (default FILE_CLEANUP_BATCH) */
  batch?: number;
}

/** What one run removed. */
export interface CleanupOutcome {
  /** uploads never attached (records removed by this run) */
  unattached: number;
  /** left-over deletions whose bytes this run removed */
  leftOver: number;
}

/** The job to add to the scheduler (a `Job` of src/cluster/jobs/, which the services don't import). */
export function fileCleanupJob(deps: CleanupDeps): { name: string; everyMs: number; run(): Promise<void> } {
  return {
    name: FILE_CLEANUP_JOB,
    everyMs: FILE_CLEANUP_EVERY_MS,
    run: async () => {
      await cleanUpFiles(deps);
    },
  };
}

export async function cleanUpFiles(deps: CleanupDeps): Promise<CleanupOutcome> {
  const batch = deps.batch ?? FILE_CLEANUP_BATCH;
  const now = deps.now();
  const at = new Date(now).toISOString();
  // created at or before this: at least UNATTACHED_TTL_MS old
  const due = new Date(now - UNATTACHED_TTL_MS).toISOString();
  let unattached = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const keys = await deps.store.removeUnattachedFiles(due, batch, at);
    unattached += keys.length;
    await deps.bytes.remove(keys, "unattached");
    if (keys.length < batch) break;
  }
  const leftBefore = new Date(now - LEFT_OVER_AFTER_MS).toISOString();
  let leftOver = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const keys = await deps.store.pendingFileDeletions(leftBefore, batch);
    const removed = await deps.bytes.remove(keys, "left_over");
    leftOver += removed;
    // a key the store would not let go of comes back first next time: stop, try next run
    if (keys.length < batch || removed < keys.length) break;
  }
  return { unattached, leftOver };
}
