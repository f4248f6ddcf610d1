/**
 * A clock for the app (`createApp`'s `now`) that the test moves: it reads the real time plus every
 * `advance()` so far. Real time still flows (token times stay plausible for the real clients), but a
 * test never sleeps to let time pass: a rate-limit window ends, or two writes get distinct
 * timestamps, because the test said so.
 */
export class TestClock {
  private offsetMs = 0;

  /** The app's current time in ms; pass as `startServer({ app: { now: clock.now } })`. */
  readonly now = (): number => Date.now() + this.offsetMs;

  /** Moves the app's time on by `ms`. */
  advance(ms: number): void {
    this.offsetMs += ms;
  }

  /** One millisecond on, so the next write is strictly later than the last one. */
  tick(): void {
    this.advance(1);
  }
}
