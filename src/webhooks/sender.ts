/**
 * Webhook delivery to the PHP app. `send` only puts the event in a bounded in-memory queue and
 * returns: chat sends never wait for the PHP app. Deliveries run in the background, a few at a
 * time, each with a timeout; a failure is retried with exponential backoff, and an event that
 * still fails after the retry budget is dropped and counted in the log and in the metrics, by type.
 *
 * When the queue is full, what matters least goes first: presence changes (they churn, and the
 * next one says the same thing more freshly), then room updates; message events are only dropped
 * when nothing else is left to drop. A new event pushes out the oldest queued event of lower
 * importance, or of the same one for presence and rooms (the newer state wins); a new message
 * event with only messages queued is dropped itself, so the PHP app never sees a gap in the middle.
 *
 * Every request is signed: `X-TimeWise-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`
 * with `X-TimeWise-Timestamp` (Unix seconds), so a receiver can reject forged and replayed calls.
 * A retry keeps the event's `id` (`X-TimeWise-Delivery`): receivers de-duplicate on it.
 */
import { createHmac, randomUUID } from "node:crypto";
import { Counter, type Registry } from "prom-client";
import type { WebhookConfig } from "../config/index.js";
import type { Logger } from "../logger.js";

export type WebhookType = "message.created" | "presence.changed" | "room.updated" | "notification";

/** What the PHP app receives as the JSON body. */
export interface WebhookEvent {
  id: string;
  type: WebhookType;
  createdAt: string;
  data: unknown;
}

export interface WebhookOptions {
  /** events waiting (new and retrying) at most; more are dropped */
  maxQueue: number;
  /** tries per event, the first included */
  maxAttempts: number;
  /** wait before the first retry; doubles for each further one, up to maxDelayMs */
  baseDelayMs: number;
  maxDelayMs: number;
  /** per request */
  timeoutMs: number;
  /** requests in flight at once */
  concurrency: number;
}

/** About 1 + 2 + 4 + 8 + 16 + 32 + 60 s of retries: rides out a PHP deploy or restart. */
export const DEFAULT_WEBHOOK_OPTIONS: WebhookOptions = {
  maxQueue: 10_000,
  maxAttempts: 8,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  timeoutMs: 5000,
  concurrency: 4,
};

/** How much each type matters when the queue is full: the lowest is dropped first. */
const IMPORTANCE: Record<WebhookType, number> = {
  "presence.changed": 0,
  "room.updated": 1,
  "message.created": 2,
  // (v2.3) a user's notifying messages, sent once, after their digest delay
  notification: 2,
};

/** How often at most a "dropped" line is logged; drops in between are summed into the next one. */
const DROP_LOG_INTERVAL_MS = 10_000;

interface Pending {
  event: WebhookEvent;
  body: string;
  attempts: number;
}

export class WebhookSender {
  private readonly options: WebhookOptions;
  private readonly ready: Pending[] = [];
  /** events waiting for their next try, with the timer that brings them back */
  private readonly retrying = new Map<Pending, NodeJS.Timeout>();
  private inflight = 0;
  private closed = false;
  private readonly aborts = new Set<AbortController>();
  private dropped = 0;
  private unloggedDrops = 0;
  private dropLogTimer: NodeJS.Timeout | null = null;
  private readonly outcomes: Counter<"outcome" | "type"> | null;

  constructor(
    private readonly config: WebhookConfig,
    private readonly logger: Logger,
    options: Partial<WebhookOptions> = {},
    registry?: Registry,
    private readonly now: () => number = Date.now,
  ) {
    this.options = { ...DEFAULT_WEBHOOK_OPTIONS, ...options };
    this.outcomes = registry
      ? new Counter({
          name: "timewise_chat_webhooks_total",
          help: "Webhook deliveries, by outcome (delivered, retried, dropped) and event type",
          labelNames: ["outcome", "type"] as const,
          registers: [registry],
        })
      : null;
  }

  /** Queues an event; returns at once, never throws. */
  send(type: WebhookType, data: unknown): void {
    if (this.closed) return;
    const event: WebhookEvent = {
      id: randomUUID(),
      type,
      createdAt: new Date(this.now()).toISOString(),
      data,
    };
    const item: Pending = { event, body: JSON.stringify(event), attempts: 0 };
    if (this.ready.length + this.retrying.size + this.inflight >= this.options.maxQueue) {
      const victim = this.evictable(type);
      if (!victim) {
        this.drop("queue full", item);
        return;
      }
      this.remove(victim);
      this.drop("queue full", victim);
    }
    this.ready.push(item);
    this.pump();
  }

  /**
   * The queued event a new `type` may push out: the oldest of the least importance below it (or
   * equal to it, except for messages). Events in flight are never taken back.
   */
  private evictable(type: WebhookType): Pending | undefined {
    const rank = IMPORTANCE[type];
    let victim: Pending | undefined;
    // retries are older than anything still waiting for its first try
    for (const item of [...this.retrying.keys(), ...this.ready]) {
      const itemRank = IMPORTANCE[item.event.type];
      const allowed = itemRank < rank || (itemRank === rank && type !== "message.created");
      if (allowed && (victim === undefined || itemRank < IMPORTANCE[victim.event.type])) victim = item;
    }
    return victim;
  }

  private remove(item: Pending): void {
    const timer = this.retrying.get(item);
    if (timer) {
      clearTimeout(timer);
      this.retrying.delete(item);
      return;
    }
    const index = this.ready.indexOf(item);
    if (index >= 0) this.ready.splice(index, 1);
  }

  /** Events dropped so far (retry budget spent, or queue full). */
  get droppedCount(): number {
    return this.dropped;
  }

  /** Events dropped so far, by type. */
  readonly droppedByType: Record<WebhookType, number> = {
    "message.created": 0,
    "presence.changed": 0,
    "room.updated": 0,
    notification: 0,
  };

  /** Stops: pending retries are abandoned (and counted as dropped), requests in flight aborted. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.retrying.values()) clearTimeout(timer);
    const abandoned = this.ready.length + this.retrying.size;
    this.retrying.clear();
    this.ready.length = 0;
    for (const controller of this.aborts) controller.abort();
    if (this.dropLogTimer) clearTimeout(this.dropLogTimer);
    if (abandoned > 0 || this.unloggedDrops > 0) {
      this.logger.warn({ dropped: this.unloggedDrops + abandoned }, "webhook events dropped at shutdown");
    }
  }

  private pump(): void {
    while (!this.closed && this.inflight < this.options.concurrency && this.ready.length > 0) {
      const item = this.ready.shift()!;
      this.inflight += 1;
      void this.deliver(item).finally(() => {
        this.inflight -= 1;
        this.pump();
      });
    }
  }

  private async deliver(item: Pending): Promise<void> {
    item.attempts += 1;
    let failure: string | null = null;
    const controller = new AbortController();
    this.aborts.add(controller);
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs);
    try {
      const timestamp = String(Math.floor(this.now() / 1000));
      const signature = createHmac("sha256", this.config.secret)
        .update(`${timestamp}.${item.body}`)
        .digest("hex");
      const response = await fetch(this.config.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "TimeWise-Chat-Webhooks/1",
          "x-timewise-event": item.event.type,
          "x-timewise-delivery": item.event.id,
          "x-timewise-timestamp": timestamp,
          "x-timewise-signature": `sha256=${signature}`,
        },
        body: item.body,
        redirect: "manual",
        signal: controller.signal,
      });
      await response.body?.cancel().catch(() => {});
      if (response.status < 200 || response.status > 299) failure = `HTTP ${response.status}`;
    } catch (error) {
      failure = controller.signal.aborted ? "timeout" : error instanceof Error ? error.name : "error";
    } finally {
      clearTimeout(timer);
      this.aborts.delete(controller);
    }
    if (this.closed) return;
    if (failure === null) {
      this.outcomes?.inc({ outcome: "delivered", type: item.event.type });
      return;
    }
    if (item.attempts >= this.options.maxAttempts) {
      this.drop("retry budget spent", item, failure);
      return;
    }
    this.outcomes?.inc({ outcome: "retried", type: item.event.type });
    const delay = Math.min(this.options.baseDelayMs * 2 ** (item.attempts - 1), this.options.maxDelayMs);
    this.logger.debug(
      { type: item.event.type, attempt: item.attempts, failure, delay },
      "webhook failed; will retry",
    );
    const retry = setTimeout(() => {
      this.retrying.delete(item);
      this.ready.push(item);
      this.pump();
    }, delay);
    retry.unref();
    this.retrying.set(item, retry);
  }

  /** Counts a dropped event; logs at once, then at most once per interval with the sum. */
  private drop(reason: string, item: Pending, failure?: string): void {
    this.dropped += 1;
    this.unloggedDrops += 1;
    this.droppedByType[item.event.type] += 1;
    this.outcomes?.inc({ outcome: "dropped", type: item.event.type });
    if (this.dropLogTimer) return;
    this.logDrops(reason, item, failure);
    this.dropLogTimer = setTimeout(() => {
      this.dropLogTimer = null;
      if (this.unloggedDrops > 0) this.logDrops(reason);
    }, DROP_LOG_INTERVAL_MS);
    this.dropLogTimer.unref();
  }

  private logDrops(reason: string, item?: Pending, failure?: string): void {
    this.logger.warn(
      {
        dropped: this.unloggedDrops,
        droppedTotal: this.dropped,
        reason,
        ...(item ? { type: item.event.type, delivery: item.event.id, attempts: item.attempts, failure } : {}),
      },
      "webhook events dropped",
    );
    this.unloggedDrops = 0;
  }
}
