/**
 * Group commit: every write of one event-loop turn runs in a single transaction, and each caller's
 * promise settles after that transaction commits. One fsync then covers many sends, which is what
 * makes ack-after-commit affordable. Each write runs in its own savepoint, so one failing write
 * (a conflict, a bad reference) does not undo the others.
 */
import { unavailable } from "../../errors.js";
import type { SqliteDatabase } from "./open.js";

/** A write: runs inside the transaction; `apply` mirrors it into memory after the commit. */
export type WriteOp<T> = () => { result: T; apply?: () => void };

interface Pending {
  op: WriteOp<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface WriteQueueHooks {
  /** Called after each commit with the number of writes and the seconds the transaction took. */
  onCommit?: (writes: number, seconds: number) => void;
  /** Turns a failure of the whole transaction (busy, disk full) into the error callers see. */
  mapFailure?: (error: unknown) => unknown;
}

export class WriteQueue {
  private pending: Pending[] = [];
  private scheduled = false;
  private closed = false;
  private readonly begin;
  private readonly commit;
  private readonly rollback;
  /** Called inside the open transaction, better-sqlite3 makes this a savepoint. */
  private readonly inSavepoint: (op: WriteOp<unknown>) => ReturnType<WriteOp<unknown>>;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly hooks: WriteQueueHooks = {},
  ) {
    this.begin = db.prepare("BEGIN IMMEDIATE");
    this.commit = db.prepare("COMMIT");
    this.rollback = db.prepare("ROLLBACK");
    this.inSavepoint = db.transaction((op: WriteOp<unknown>) => op());
  }

  run<T>(op: WriteOp<T>): Promise<T> {
    if (this.closed)
      return Promise.reject(unavailable("The chat server is shutting down. Please try again in a moment."));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ op, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything queued now (also used at shutdown). */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const started = performance.now();
    const outcomes: ({ ok: true; result: unknown; apply?: () => void } | { ok: false; error: unknown })[] =
      [];
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
      const failure = this.hooks.mapFailure ? this.hooks.mapFailure(error) : error;
      for (const item of batch) item.reject(failure);
      return;
    }
    this.hooks.onCommit?.(batch.length, (performance.now() - started) / 1000);
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

  /** Commits what is queued and refuses further writes. */
  close(): void {
    this.flush();
    this.closed = true;
  }
}
