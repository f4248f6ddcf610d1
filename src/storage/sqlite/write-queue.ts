/**
 * Group commit: the writes queued while earlier batches were being made durable run in a single
 * transaction, and each caller's promise settles after that transaction is durable. One fsync then
 * covers many sends, which is what makes ack-after-commit affordable. Each write runs in its own
 * savepoint, so one failing write (a conflict, a bad reference) does not undo the others.
 *
 * The fsync does not block the event loop. The connection runs with synchronous=NORMAL, so COMMIT
 * only hands the WAL frames to the OS, and the queue then syncs the WAL file itself on libuv's
 * thread pool (durable-sync.ts) before anyone is told: exactly the sync that synchronous=FULL
 * would have done inside COMMIT, on the same file, before the same acks.
 *
 * Up to MAX_IN_FLIGHT batches may be committed and not yet durable at once: the next batch commits
 * while the previous one's sync runs, and its own sync starts right away. Waiting for the previous
 * sync first was the largest part of a send's latency at ordinary load (see docs/performance.md).
 * Batches still become durable, are mirrored into memory and are acknowledged strictly in commit
 * order; reads see only what is durable (DurableReads keeps one snapshot per batch in flight); and
 * when a sync fails, every batch committed after it fails too, since its frames follow the lost
 * ones in the WAL. Nothing that is not yet durable is ever acknowledged, broadcast or read.
 */
import { unavailable } from "../../errors.js";
import type { DurableSync } from "./durable-sync.js";

/**
 * How many committed batches may wait for their sync at once. Two is enough for the next batch
 * not to wait for the previous sync; more would only make batches smaller under full load (more
 * commits for the same messages), and each needs its own read snapshot.
 */
export const MAX_IN_FLIGHT = 2;

/**
 * A batch of more writes than this waits for the previous sync instead of committing beside it.
 * Many writes in one event-loop turn mean the server is busy: then every commit's fixed cost
 * counts (throughput is CPU-bound), and waiting makes the batch larger. A few writes mean an
 * ordinary load, where the wait for the previous sync was most of a send's latency.
 */
export const OVERLAP_UP_TO = 8;

import type { SqliteDatabase } from "./open.js";

/** A write: runs inside the transaction; `apply` mirrors it into memory once it is durable. */
export type WriteOp<T> = () => { result: T; apply?: () => void };

interface Pending {
  op: WriteOp<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; result: unknown; apply?: () => void } | { ok: false; error: unknown };

export interface WriteQueueHooks {
  /** Called after each durable commit with the number of writes and the seconds it took. */
  onCommit?: (writes: number, seconds: number) => void;
  /** Turns a failure of the whole transaction (busy, disk full) into the error callers see. */
  mapFailure?: (error: unknown) => unknown;
}

/**
 * What the queue tells the store around each commit (to switch reads to the durable state). Calls
 * come in order: each `beforeCommit` is matched, oldest first, by one `afterSync`, or right away
 * by `commitFailed` when its transaction did not commit.
 */
export interface CommitListener {
  /** just before a batch's transaction: everything the database holds but this batch is either durable or in flight */
  beforeCommit(): void;
  /** the oldest batch in flight is durable (or failed): what it wrote may now be read */
  afterSync(): void;
  /** the newest batch did not commit (it was rolled back) */
  commitFailed(): void;
}

/** The part of DurableSync the queue uses (tests give it syncs that finish when they say). */
export type CommitSync = Pick<DurableSync, "afterCommit" | "close">;

/** A committed batch waiting for its sync, in commit order. */
interface InFlight {
  batch: Pending[];
  outcomes: Outcome[];
  started: number;
  synced: boolean;
  error: Error | null;
}

export class WriteQueue {
  private pending: Pending[] = [];
  private scheduled = false;
  /** committed batches whose WAL sync has not yet been handled, oldest first */
  private inFlight: InFlight[] = [];
  private closed = false;
  private idle: (() => void)[] = [];
  private tailCheckpointDue = false;
  private readonly begin;
  private readonly checkpoint;
  private readonly commit;
  private readonly rollback;
  /** Called inside the open transaction, better-sqlite3 makes this a savepoint. */
  private readonly inSavepoint: (op: WriteOp<unknown>) => ReturnType<WriteOp<unknown>>;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly sync: CommitSync,
    private readonly listener: CommitListener,
    private readonly hooks: WriteQueueHooks = {},
  ) {
    this.begin = db.prepare("BEGIN IMMEDIATE");
    this.commit = db.prepare("COMMIT");
    this.rollback = db.prepare("ROLLBACK");
    this.checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
    this.inSavepoint = db.transaction((op: WriteOp<unknown>) => op());
  }

  run<T>(op: WriteOp<T>): Promise<T> {
    if (this.closed)
      return Promise.reject(unavailable("The chat server is shutting down. Please try again in a moment."));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ op, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Resolves once everything queued so far is committed and durable (also used at shutdown). */
  drain(): Promise<void> {
    if (this.inFlight.length === 0 && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.idle.push(resolve);
      this.schedule();
    });
  }

  /** Commits what is queued, waits until it is durable, and refuses further writes. */
  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
    this.sync.close();
  }

  /**
   * Asks for a checkpoint between two batches. The background worker checkpoints concurrently, but
   * a checkpoint running beside commits can never catch up with the last frames, and the WAL only
   * starts over (instead of growing) once one has: so after each of the worker's, the queue copies
   * the few frames left at a moment when no batch is in flight and no read is pinned.
   */
  requestTailCheckpoint(): void {
    this.tailCheckpointDue = true;
  }

  /**
   * Whether the next batch must wait for a sync to finish. A due tail checkpoint waits until
   * nothing is in flight (a pinned snapshot keeps it from finishing, and without it the WAL grows
   * under steady load): one batch a second then waits for the previous sync, as every batch did.
   */
  private full(): boolean {
    if (this.inFlight.length === 0) return false;
    if (this.tailCheckpointDue || this.inFlight.length >= MAX_IN_FLIGHT) return true;
    return this.pending.length > OVERLAP_UP_TO;
  }

  private schedule(): void {
    if (this.scheduled || this.full()) return;
    this.scheduled = true;
    // the end of this event-loop turn: every write that arrived in it shares the commit
    setImmediate(() => this.commitBatch());
  }

  private commitBatch(): void {
    this.scheduled = false;
    if (this.full()) return;
    const batch = this.pending;
    if (batch.length === 0) {
      if (this.inFlight.length === 0) this.wakeIdle();
      return;
    }
    this.pending = [];
    if (this.tailCheckpointDue) {
      this.tailCheckpointDue = false;
      try {
        this.checkpoint.run();
      } catch {
        // busy: the next one will do
      }
    }
    const started = performance.now();
    const outcomes: Outcome[] = [];
    this.listener.beforeCommit();
    try {
      this.begin.run();
      for (const item of batch) {
        try {
          // a throwing write rolls back its own savepoint only
          const out = this.inSavepoint(item.op);
          outcomes.push({ ok: true, result: out.result, apply: out.apply });
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
      }
      this.commit.run();
    } catch (error) {
      if (this.db.inTransaction) this.rollback.run();
      this.listener.commitFailed();
      const failure = this.hooks.mapFailure ? this.hooks.mapFailure(error) : error;
      for (const item of batch) item.reject(failure);
      this.next();
      return;
    }
    const entry: InFlight = { batch, outcomes, started, synced: false, error: null };
    this.inFlight.push(entry);
    this.sync.afterCommit((error) => {
      entry.synced = true;
      entry.error = error;
      this.settleDurable();
    });
    // writes arriving from now on form the next batch, which may commit during this sync
    this.next();
  }

  /** Handles, in commit order, every batch at the head whose sync has finished. */
  private settleDurable(): void {
    while (this.inFlight[0]?.synced) {
      const head = this.inFlight.shift()!;
      this.listener.afterSync();
      if (head.error) {
        // committed, but not known to be on disk: nobody is told it is stored (a retry with the
        // same clientId finds the message if it was). Batches committed after it put their frames
        // after its frames in the WAL, so their own sync proves nothing: they fail the same way.
        for (const later of this.inFlight) later.error ??= head.error;
        const failure = this.hooks.mapFailure ? this.hooks.mapFailure(head.error) : head.error;
        for (const item of head.batch) item.reject(failure);
      } else {
        this.hooks.onCommit?.(head.batch.length, (performance.now() - head.started) / 1000);
        settle(head.batch, head.outcomes);
      }
    }
    this.next();
  }

  private next(): void {
    if (this.pending.length > 0) this.schedule();
    else if (this.inFlight.length === 0) this.wakeIdle();
  }

  private wakeIdle(): void {
    const waiting = this.idle;
    this.idle = [];
    for (const wake of waiting) wake();
  }
}

/** Mirrors each durable write into memory, then tells its caller. */
function settle(batch: Pending[], outcomes: Outcome[]): void {
  batch.forEach((item, i) => {
    const outcome = outcomes[i]!;
    if (!outcome.ok) {
      item.reject(outcome.error);
      return;
    }
    try {
      outcome.apply?.();
      item.resolve(outcome.result);
    } catch (error) {
      item.reject(error);
    }
  });
}
