/**
 * Where the job scheduler gets its ticks. Production uses real intervals; tests pass their own
 * source and move time on by hand, so a test of "runs every minute" never waits a minute.
 */

export interface JobTimers {
  /** Calls `tick` every `ms` until the returned function is called. */
  every(ms: number, tick: () => Promise<void>): () => void;
}

/** Real intervals, unref'd: a pending job never keeps the process alive. */
export const realTimers: JobTimers = {
  every(ms, tick) {
    const timer = setInterval(() => void tick(), ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};
