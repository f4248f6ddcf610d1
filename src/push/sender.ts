/**
 * (v2.3) Delivers one notification to a user's browsers with Web Push (RFC 8030), the payload
 * encrypted for each subscription (RFC 8291, aes128gcm) and signed with VAPID (RFC 8292), by
 * the `web-push` library. Runs beside the send path, never in it: `deliver` returns at once.
 * A subscription the push service says is gone (404, 410) is removed; other failures are
 * retried a few times with growing waits, then dropped with a log line. At most `maxInFlight`
 * requests are open at once (a message to a big group must not open hundreds of connections);
 * the others wait their turn.
 */
import type { Agent } from "node:https";
import webPush from "web-push";
import type { VapidKeys } from "./vapid.js";

/** A browser's PushSubscription, as the browser's `toJSON()` gives it. */
export interface PushTarget {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** What the service worker shows: small, so it fits every push service's 4 KB limit. */
export interface PushPayload {
  roomId: string;
  messageId: string;
  /** the notification's title: the sender, and the group's name */
  title: string;
  /** the text, cut to PUSH_TEXT_MAX characters */
  body: string;
  /** where a click on the notification opens the chat */
  url: string;
}

/** How one delivery ended. */
export type PushOutcome = "sent" | "gone" | "failed";

export interface PushTimers {
  setTimeout(run: () => void, ms: number): unknown;
}

export interface PushSenderOptions {
  vapid: VapidKeys;
  /** PUSH_SUBJECT: a mailto: or https: address the push service can reach the operator at */
  subject: string;
  /** called when the push service says a subscription no longer exists */
  gone(endpoint: string): Promise<void>;
  problem(message: string, endpoint: string): void;
  /** waits before each retry, in ms (default 1 s, 5 s, 30 s) */
  retryDelaysMs?: readonly number[];
  timers?: PushTimers;
  /** tests trust their loopback push service's certificate with this */
  agent?: Agent;
  /** how long the push service keeps a message for an offline browser, in seconds */
  ttlS?: number;
  /** requests open at once (default 8) */
  maxInFlight?: number;
  /** hears how each delivery ended (the metrics) */
  outcome?: (outcome: PushOutcome) => void;
}

const DEFAULT_RETRIES = [1_000, 5_000, 30_000] as const;
/** a text excerpt of at most this many characters, so the payload stays small */
export const PUSH_TEXT_MAX = 200;

export class PushSender {
  private readonly pending = new Set<Promise<void>>();
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly options: PushSenderOptions) {}

  /** Starts delivery to every target; failures are handled inside. */
  deliver(targets: readonly PushTarget[], payload: PushPayload): void {
    const body = JSON.stringify({ ...payload, body: excerpt(payload.body) });
    for (const target of targets) {
      const attempt = this.send(target, body, 0).finally(() => this.pending.delete(attempt));
      this.pending.add(attempt);
    }
  }

  /** Resolves when every delivery started so far has finished (for tests and shutdown). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private async send(target: PushTarget, body: string, tries: number): Promise<void> {
    const { vapid, subject, agent, ttlS } = this.options;
    try {
      await this.slot(() =>
        webPush.sendNotification(target, body, {
          vapidDetails: { subject, publicKey: vapid.publicKey, privateKey: vapid.privateKey },
          contentEncoding: "aes128gcm",
          TTL: ttlS ?? 86_400,
          timeout: 10_000,
          ...(agent ? { agent } : {}),
        }),
      );
      this.options.outcome?.("sent");
    } catch (error) {
      const status = error instanceof webPush.WebPushError ? error.statusCode : 0;
      if (status === 404 || status === 410) {
        this.options.outcome?.("gone");
        await this.options.gone(target.endpoint).catch((err: unknown) => {
          this.options.problem(`could not remove a gone push subscription: ${String(err)}`, target.endpoint);
        });
        return;
      }
      const delays = this.options.retryDelaysMs ?? DEFAULT_RETRIES;
      const wait = delays[tries];
      if (wait === undefined) {
        this.options.problem(
          `push failed ${tries + 1} times (last: ${status || String(error)})`,
          target.endpoint,
        );
        this.options.outcome?.("failed");
        return;
      }
      const timers = this.options.timers ?? { setTimeout: (run, ms) => setTimeout(run, ms).unref() };
      await new Promise<void>((resolve) => timers.setTimeout(resolve, wait));
      await this.send(target, body, tries + 1);
    }
  }

  /**
   * Runs `request` once fewer than `maxInFlight` are open. The slot is held for the request only,
   * not for the wait before a retry.
   */
  private async slot<T>(request: () => Promise<T>): Promise<T> {
    const max = this.options.maxInFlight ?? 8;
    while (this.inFlight >= max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight++;
    try {
      return await request();
    } finally {
      this.inFlight--;
      this.waiting.shift()?.();
    }
  }
}

function excerpt(text: string): string {
  const chars = [...text];
  return chars.length <= PUSH_TEXT_MAX ? text : `${chars.slice(0, PUSH_TEXT_MAX - 1).join("")}…`;
}
