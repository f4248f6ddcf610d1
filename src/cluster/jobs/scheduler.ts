/**
 * Periodic background jobs (later e-mail digests, retention and clean-ups) that run exactly
 * once per turn across all nodes. Every node adds the same jobs; at each turn a node first asks
 * its `JobClaims` whether it may run the job. With one node (SQLite) the answer is always yes;
 * with PostgreSQL it is yes only on the node holding the job's advisory lock
 * (src/storage/postgres/job-locks.ts), and another node takes the lock over when that one dies.
 *
 * A job may still, rarely, run twice around a takeover (the old node's connection died while its
 * run was under way), so every job must be safe to run again: delete what is expired, not "the
 * next 100 rows".
 */
import { type JobTimers, realTimers } from "./timers.js";

/** One periodic job. */
export interface Job {
  /** Unique in the installation: nodes agree on who runs the job by this name. */
  name: string;
  /** How often it runs, in ms. */
  everyMs: number;
  /** The work; a throw is reported and the job simply runs again at its next turn. */
  run(): Promise<void>;
}

/** Decides which node runs a job. */
export interface JobClaims {
  /** True when this node may run `name` now. Never throws: a problem means "not now". */
  claim(name: string): Promise<boolean>;
  /** Gives up every claim, so another node takes the jobs over at its next turn. */
  close(): Promise<void>;
}

/** What one turn of a job did. */
export type TurnOutcome = "ran" | "failed" | "not-ours" | "still-running" | "closed";

export interface SchedulerOptions {
  timers?: JobTimers;
  /** A job failed, or claiming it did; the scheduler carries on. */
  onProblem?: (message: string) => void;
}

/** The one node's claims when there is only one node: every job is its own. */
export const localClaims = (): JobClaims => ({
  claim: () => Promise.resolve(true),
  close: () => Promise.resolve(),
});

export class JobScheduler {
  private readonly timers: JobTimers;
  private readonly onProblem: (message: string) => void;
  private readonly names = new Set<string>();
  private readonly stops: (() => void)[] = [];
  private readonly running = new Map<string, Promise<TurnOutcome>>();
  private closing: Promise<void> | null = null;

  constructor(
    private readonly claims: JobClaims,
    options: SchedulerOptions = {},
  ) {
    this.timers = options.timers ?? realTimers;
    this.onProblem = options.onProblem ?? (() => {});
  }

  /** Starts running `job` every `job.everyMs` (its first turn comes after one interval). */
  add(job: Job): void {
    if (this.closing) throw new Error("The job scheduler is closed: add jobs before closing it.");
    if (this.names.has(job.name)) throw new Error(`A background job named "${job.name}" was already added.`);
    if (!(job.everyMs > 0)) throw new Error(`Background job "${job.name}" needs an interval above 0 ms.`);
    this.names.add(job.name);
    this.stops.push(this.timers.every(job.everyMs, () => this.turn(job).then(() => {})));
  }

  /** One turn of `job`: runs it if this node holds it and its last run has finished. */
  turn(job: Job): Promise<TurnOutcome> {
    if (this.closing) return Promise.resolve("closed");
    // a slow run is never overlapped by its next turn on the same node
    if (this.running.has(job.name)) return Promise.resolve("still-running");
    const outcome = this.runIfOurs(job).finally(() => this.running.delete(job.name));
    this.running.set(job.name, outcome);
    return outcome;
  }

  /** Stops the timers, waits for runs under way, and gives up the claims. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const stop of this.stops) stop();
      await Promise.allSettled(this.running.values());
      await this.claims.close();
    })();
    return this.closing;
  }

  private async runIfOurs(job: Job): Promise<TurnOutcome> {
    if (!(await this.claims.claim(job.name))) return "not-ours";
    if (this.closing) return "closed";
    try {
      await job.run();
      return "ran";
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      this.onProblem(`background job "${job.name}" failed (${why}); it runs again at its next turn`);
      return "failed";
    }
  }
}
