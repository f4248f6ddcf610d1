/**
 * Caps on what one client address may cost the server before it has proved who it is: refused
 * handshakes (each may have cost a token check and a directory lookup), session-cookie lookups
 * that found no session (each is a read of the PHP session store), and `/ready` (each pings both
 * databases). The address is the one ClientAddresses found, so behind a trusted proxy every client
 * has its own allowance. Counted across nodes when several share Redis.
 */
import { type RateLimiterLike, RateLimiterRes } from "rate-limiter-flexible";
import { createLimiter, type SharedCounts } from "./limiter.js";

/** `points` per `seconds` for one address. */
export interface Allowance {
  points: number;
  seconds: number;
}

/** The caps per client address. */
export interface AddressLimits {
  /** refused Socket.io handshakes; over it, every handshake from there is refused for a while */
  refusedHandshakes: Allowance;
  /** session cookies that named no session; over it, no more cookies from there are looked up */
  unknownSessions: Allowance;
  /** `GET /ready` requests */
  ready: Allowance;
}

/** Far above what a page that reconnects, or a monitor that polls, ever needs. */
export const DEFAULT_ADDRESS_LIMITS: AddressLimits = {
  refusedHandshakes: { points: 60, seconds: 60 },
  unknownSessions: { points: 20, seconds: 60 },
  ready: { points: 60, seconds: 60 },
};

/**
 * Counts failures of one kind per address; once over, `wait` says how long the address must wait.
 * None of it ever throws: should the counting store fail (Redis down and its in-memory fallback
 * too), a cap lets traffic through rather than refusing sign-ins that would have worked.
 */
export class FailureCount {
  constructor(
    private readonly limiter: RateLimiterLike,
    private readonly points: number,
  ) {}

  /** Milliseconds until `address` may try again, or 0 when it may now. */
  async wait(address: string): Promise<number> {
    try {
      const state = await this.limiter.get(address);
      if (!state || state.consumedPoints < this.points) return 0;
      return Math.max(1, Math.ceil(state.msBeforeNext));
    } catch {
      return 0;
    }
  }

  /** Counts one failure of `address`. */
  async fail(address: string): Promise<void> {
    await this.take(address);
  }

  /** Counts one use of `address` and answers the wait when it was one too many (else 0). */
  async take(address: string): Promise<number> {
    try {
      await this.limiter.consume(address);
      return 0;
    } catch (error) {
      return error instanceof RateLimiterRes ? Math.max(1, Math.ceil(error.msBeforeNext)) : 0;
    }
  }
}

/** The three caps, built once per app. */
export function createAddressLimits(
  limits: AddressLimits,
  shared?: SharedCounts,
  now: () => number = Date.now,
): Record<keyof AddressLimits, FailureCount> {
  const make = (name: string, a: Allowance) =>
    new FailureCount(createLimiter({ name, points: a.points, seconds: a.seconds }, shared, now), a.points);
  return {
    refusedHandshakes: make("ip-refused-handshakes", limits.refusedHandshakes),
    unknownSessions: make("ip-unknown-sessions", limits.unknownSessions),
    ready: make("ip-ready", limits.ready),
  };
}
