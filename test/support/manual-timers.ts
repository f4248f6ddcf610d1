/**
 * A timer source for the background job scheduler that tests move on by hand: `advance(ms)` fires
 * every interval due on the way, in time order, and waits for each tick's work to finish, so a
 * test of "every minute" runs in milliseconds and never races a real clock.
 */
import type { JobTimers } from "../../src/cluster/jobs/index.js";

interface Interval {
  ms: number;
  next: number;
  tick: () => Promise<void>;
}

export class ManualTimers implements JobTimers {
  /** The time as the timers see it, in ms since the test began. */
  now = 0;
  private readonly intervals = new Set<Interval>();

  every(ms: number, tick: () => Promise<void>): () => void {
    const interval = { ms, next: this.now + ms, tick };
    this.intervals.add(interval);
    return () => this.intervals.delete(interval);
  }

  /** How many intervals are running (a closed scheduler leaves none). */
  get active(): number {
    return this.intervals.size;
  }

  /** Moves time on by `ms`, running each tick that falls due (ties in the order they were set). */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      let due: Interval | undefined;
      for (const interval of this.intervals) {
        if (interval.next <= end && (due === undefined || interval.next < due.next)) due = interval;
      }
      if (due === undefined) break;
      this.now = due.next;
      due.next += due.ms;
      await due.tick();
    }
    this.now = end;
  }
}
