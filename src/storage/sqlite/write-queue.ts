/**
 * Group commit: the writes queued while the previous batch was being made durable run in a single
 * transaction, and each caller's promise settles after that transaction is durable. One fsync then
 * covers many sends, which is what makes ack-after-commit affordable. Each write runs in its own
 * savepoint, so one failing write (a conflict, a bad reference) does not undo the others.
 *
 * The fsync does not block the event loop. The connection runs with synchronous=NORMAL, so COMMIT
 * only hands the WAL frames to the OS, and the queue then syncs the WAL file itself on libuv's
 * thread pool (durable-sync.ts) before anyone is told: exactly the sync that synchronous=FULL
 * would have done inside COMMIT, on the same file, before the same acks. Until it completes no
 * other batch commits, and reads see the state before the batch (see DurableReads), so nothing
 * that is not yet durable is ever acknowledged, broadcast or read.
 */
import { unavailable } from "../../errors.js";
import type { DurableSync } from "./durable-sync.js";
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

/** What the queue tells the store around each commit (to switch reads to the durable state). */
export interface CommitListener {
  /** just before COMMIT: the database still holds only durable data */
  beforeCommit(): void;
  /** the batch is durable (or failed): the database is durable again */
  afterSync(): void;
}

export class WriteQueue {
  private pending: Pending[] = [];
  private scheduled = false;
  /** a committed batch whose WAL sync is still in flight */
  private syncing = false;
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
    private readonly sync: DurableSync,
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
    if (!this.syncing && this.pending.length === 0) return Promise.resolve();
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

  private schedule(): void {
    if (this.scheduled || this.syncing) return;
    this.scheduled = true;
    // the end of this event-loop turn: every write that arrived in it shares the commit
    setImmediate(() => this.commitBatch());
  }

  private commitBatch(): void {
    this.scheduled = false;
    if (this.syncing) return;
    const batch = this.pending;
    if (batch.length === 0) {
      this.wakeIdle();
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
      this.listener.afterSync();
      const failure = this.hooks.mapFailure ? this.hooks.mapFailure(error) : error;
      for (const item of batch) item.reject(failure);
      this.next();
      return;
    }
    this.syncing = true;
    this.sync.afterCommit((error) => {
      this.syncing = false;
      this.listener.afterSync();
      if (error) {
        // committed, but not known to be on disk: nobody is told it is stored (a retry with the
        // same clientId finds the message if it was)
        const failure = this.hooks.mapFailure ? this.hooks.mapFailure(error) : error;
        for (const item of batch) item.reject(failure);
      } else {
        this.hooks.onCommit?.(batch.length, (performance.now() - started) / 1000);
        settle(batch, outcomes);
      }
      this.next();
    });
  }

  private next(): void {
    if (this.pending.length > 0) this.schedule();
    else this.wakeIdle();
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
