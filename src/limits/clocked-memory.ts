/**
 * A fixed-window limiter counted in this process's memory, on the app's clock instead of
 * Date.now(). rate-limiter-flexible's own RateLimiterMemory reads Date.now() and expires keys with
 * one setTimeout each, so a test could only see an allowance come back by sleeping. This one follows
 * the library's custom-limiter contract (RateLimiterCompatibleAbstract: the same answers, and
 * RateLimiterRes as the rejection), so callers and the Redis limiter's insurance take it unchanged.
 * Windows behave as the library's: the first point opens a window of `duration` seconds; points past
 * `points` inside it are refused until it ends.
 */
import { RateLimiterCompatibleAbstract, RateLimiterRes } from "rate-limiter-flexible";

interface Window {
  consumed: number;
  /** clock time the window ends at; Infinity for a key that never expires (duration 0) */
  endsAt: number;
}

export class ClockedMemoryLimiter extends RateLimiterCompatibleAbstract {
  private readonly windows = new Map<string, Window>();
  /** Expired windows are swept at most once per window length, so memory stays bounded without timers. */
  private nextSweepAt: number;
  // Own fields (defined, not assigned) over the base class's throwing accessors. The Redis limiter
  // copies blockDuration and execEvenly onto its insurance; both stay unused here.
  override readonly keyPrefix: string;
  override blockDuration = 0;
  override execEvenly = false;

  constructor(
    readonly points: number,
    readonly duration: number,
    keyPrefix: string,
    private readonly now: () => number,
  ) {
    super();
    this.keyPrefix = keyPrefix;
    this.nextSweepAt = now() + duration * 1000;
  }

  override async consume(key: string | number, pointsToConsume = 1): Promise<RateLimiterRes> {
    const res = this.add(key, pointsToConsume, this.duration);
    if (res.consumedPoints > this.points) throw res;
    return res;
  }

  override async penalty(key: string | number, points = 1): Promise<RateLimiterRes> {
    return this.add(key, points, this.duration);
  }

  override async reward(key: string | number, points = 1): Promise<RateLimiterRes> {
    return this.add(key, -points, this.duration);
  }

  override async get(key: string | number): Promise<RateLimiterRes | null> {
    const window = this.live(`${key}`);
    return window ? this.answer(window, false) : null;
  }

  override async set(key: string | number, points: number, secDuration: number): Promise<RateLimiterRes> {
    return this.answer(this.open(`${key}`, points, secDuration), true);
  }

  override async block(key: string | number, secDuration: number): Promise<RateLimiterRes> {
    return this.answer(this.open(`${key}`, this.points + 1, secDuration), true);
  }

  override async delete(key: string | number): Promise<boolean> {
    return this.windows.delete(`${key}`);
  }

  private add(key: string | number, points: number, seconds: number): RateLimiterRes {
    this.sweep();
    const window = this.live(`${key}`);
    if (!window) return this.answer(this.open(`${key}`, points, seconds), true);
    window.consumed += points;
    return this.answer(window, false);
  }

  private open(key: string, consumed: number, seconds: number): Window {
    const window = { consumed, endsAt: seconds > 0 ? this.now() + seconds * 1000 : Number.POSITIVE_INFINITY };
    this.windows.set(key, window);
    return window;
  }

  /** The key's window if it has not ended by the clock, else none (and it is forgotten). */
  private live(key: string): Window | undefined {
    const window = this.windows.get(key);
    if (window && window.endsAt <= this.now()) {
      this.windows.delete(key);
      return undefined;
    }
    return window;
  }

  private answer(window: Window, first: boolean): RateLimiterRes {
    const msBeforeNext = Number.isFinite(window.endsAt) ? window.endsAt - this.now() : -1;
    return new RateLimiterRes(
      Math.max(this.points - window.consumed, 0),
      msBeforeNext,
      window.consumed,
      first,
    );
  }

  private sweep(): void {
    const now = this.now();
    if (now < this.nextSweepAt) return;
    this.nextSweepAt = now + Math.max(this.duration, 1) * 1000;
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
  }
}
