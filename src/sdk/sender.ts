/**
 * Sending: drains the outbox one message at a time, oldest first, so my messages arrive in the
 * order I wrote them; and throttles typing indicators.
 */
import { LIMITS, type Message } from "../protocol/index.js";
import type { ChatClient } from "./client.js";
import { ChatAuthError, ChatError, isRetryable } from "./errors.js";

/** Resend `typing: true` this often while the person keeps typing (the server forgets it after 6 s). */
const TYPING_REPEAT_MS = LIMITS.typingTimeoutMs / 2;
/** Say `typing: false` after this long without a keystroke. */
const TYPING_IDLE_MS = 4000;
/** Wait before resending after a timeout while still connected (the server may be busy). */
const RESEND_DELAY_MS = 1000;

interface Waiter {
  resolve(message: Message): void;
  reject(error: Error): void;
}

export class Sender {
  private flushing = false;
  private readonly waiters = new Map<string, Waiter>();
  private readonly typingRooms = new Map<string, { sentAt: number; idle: ReturnType<typeof setTimeout> }>();
  private wait: { timer: ReturnType<typeof setTimeout>; wake: () => void } | null = null;

  constructor(private readonly client: ChatClient) {}

  send(
    roomId: string,
    body: string,
    replyToId: string | null,
    fileIds: string[],
    urgent = false,
  ): Promise<Message> {
    const clientId = newClientId();
    const sent = new Promise<Message>((resolve, reject) => this.waiters.set(clientId, { resolve, reject }));
    this.client.outbox.add({
      clientId,
      roomId,
      body,
      replyToId,
      ...(fileIds.length > 0 ? { fileIds } : {}),
      ...(urgent ? { urgent } : {}),
      createdAt: new Date().toISOString(),
      state: "queued",
    });
    this.typing(roomId, false);
    this.client.state.changed();
    this.flush();
    return sent;
  }

  retry(clientId: string): void {
    this.client.outbox.retry(clientId);
    this.client.state.changed();
    this.flush();
  }

  discard(clientId: string): void {
    this.client.outbox.remove(clientId);
    this.waiters.get(clientId)?.reject(new Error("The message was discarded."));
    this.waiters.delete(clientId);
    this.client.state.changed();
  }

  /** Sends what is queued, if connected. Safe to call any time: one drain runs at once. */
  flush(): void {
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    const { client } = this;
    try {
      for (;;) {
        const item = client.outbox.next();
        if (!item || client.status !== "online") return;
        const { clientId, roomId, body, replyToId, fileIds, urgent } = item;
        try {
          const { message } = await client.request("message:send", {
            roomId,
            body,
            clientId,
            replyToId,
            ...(fileIds && fileIds.length > 0 ? { fileIds } : {}),
            ...(urgent === true ? { urgent } : {}),
          });
          client.outbox.remove(clientId);
          this.settle(clientId, message);
        } catch (error) {
          if (error instanceof ChatAuthError) return; // signed out: keep it for the next session
          if (isRetryable(error)) {
            const delay =
              error instanceof ChatError ? (error.retryAfterMs ?? RESEND_DELAY_MS) : RESEND_DELAY_MS;
            if (client.status === "online") await this.pause(delay);
            continue; // the loop stops by itself while offline; the next session resumes it
          }
          const failure =
            error instanceof ChatError ? error : new ChatError({ code: "INTERNAL", message: String(error) });
          client.outbox.fail(clientId, { code: failure.code, message: failure.message });
          this.settle(clientId, failure);
        } finally {
          client.state.changed();
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private settle(clientId: string, outcome: Message | Error): void {
    const waiter = this.waiters.get(clientId);
    this.waiters.delete(clientId);
    if (!waiter) return;
    if (outcome instanceof Error) waiter.reject(outcome);
    else waiter.resolve(outcome);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.wait = null;
        resolve();
      };
      this.wait = { timer: setTimeout(wake, ms), wake };
    });
  }

  typing(roomId: string, typing: boolean): void {
    const known = this.typingRooms.get(roomId);
    if (known) clearTimeout(known.idle);
    if (!typing) {
      if (known) {
        this.typingRooms.delete(roomId);
        this.emitTyping(roomId, false);
      }
      return;
    }
    const now = Date.now();
    const repeat = !known || now - known.sentAt >= TYPING_REPEAT_MS;
    if (repeat) this.emitTyping(roomId, true);
    this.typingRooms.set(roomId, {
      sentAt: repeat ? now : (known?.sentAt ?? now),
      idle: setTimeout(() => this.typing(roomId, false), TYPING_IDLE_MS),
    });
  }

  private emitTyping(roomId: string, typing: boolean): void {
    // a typing indicator is only worth anything now: never queue it for later
    if (this.client.status === "online") this.client.socket.emit("typing", { roomId, typing });
  }

  close(): void {
    for (const { idle } of this.typingRooms.values()) clearTimeout(idle);
    this.typingRooms.clear();
    if (this.wait) {
      clearTimeout(this.wait.timer);
      this.wait.wake();
    }
  }
}

/**
 * A random `clientId`. `crypto.randomUUID` exists only on HTTPS pages, and TimeWise may run on a
 * plain-HTTP intranet, so this uses `getRandomValues`, which works everywhere.
 */
export function newClientId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
