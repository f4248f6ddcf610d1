/**
 * Typing indicators: others in the room see "typing" until the typer says stop, or until
 * 6 seconds pass without another `typing: true`, when the server says stop itself.
 */
import { LIMITS } from "../../protocol/index.js";
import type { Actor } from "../../realtime/types.js";
import { type ChatDeps, memberRoom } from "../context.js";

export class TypingService {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly deps: ChatDeps,
    private readonly timeoutMs: number = LIMITS.typingTimeoutMs,
  ) {}

  set(actor: Actor, roomId: string, typing: boolean): void {
    memberRoom(this.deps, actor, roomId);
    const key = `${roomId}:${actor.id}`;
    const timer = this.timers.get(key);
    if (!typing) {
      if (timer) this.stop(key, roomId, actor.id);
      return;
    }
    if (timer) clearTimeout(timer);
    else this.deps.fanout.typing(roomId, actor.id, true);
    const expiry = setTimeout(() => this.stop(key, roomId, actor.id), this.timeoutMs);
    expiry.unref();
    this.timers.set(key, expiry);
  }

  /** A user who went offline stops typing everywhere. */
  userGone(userId: string): void {
    for (const key of this.timers.keys()) {
      const [roomId, typer] = key.split(":");
      if (typer === userId && roomId) this.stop(key, roomId, userId);
    }
  }

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private stop(key: string, roomId: string, userId: string): void {
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.deps.fanout.typing(roomId, userId, false);
  }
}
