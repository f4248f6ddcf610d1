/**
 * Typing indicators: others in the room see "typing" until the typer says stop, or until
 * 6 seconds (the app's `typingTimeoutMs`) pass without another `typing: true`, when the server
 * says stop itself. With
 * USERS_SCOPE_COLUMN only members of the typer's scope see it.
 */
import { LIMITS } from "../../protocol/index.js";
import type { Actor } from "../../shared/actor.js";
import { type ChatDeps, memberRoom } from "../context.js";
import { type ScopeKey, scopeKey } from "../scopes.js";

/**
 * How the service schedules its automatic stop. The app passes real timers; a test passes ones it
 * fires by hand, so it checks the timeout without waiting for it.
 */
export interface TypingTimers {
  start(callback: () => void, ms: number): unknown;
  cancel(handle: unknown): void;
}

/** Node's timers, unref'd so a pending typing stop never keeps the process alive. */
export const REAL_TYPING_TIMERS: TypingTimers = {
  start: (callback, ms) => setTimeout(callback, ms).unref(),
  cancel: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface Typist {
  timer: unknown;
  roomId: string;
  userId: string;
  /** where the indicator was shown (undefined: the whole room, without scopes) */
  scope: ScopeKey | undefined;
}

export class TypingService {
  private readonly typists = new Map<string, Typist>();

  constructor(
    private readonly deps: ChatDeps,
    private readonly timeoutMs: number = LIMITS.typingTimeoutMs,
    private readonly timers: TypingTimers = REAL_TYPING_TIMERS,
  ) {}

  set(actor: Actor, roomId: string, typing: boolean): void {
    memberRoom(this.deps, actor, roomId);
    const key = `${roomId}:${actor.id}`;
    const known = this.typists.get(key);
    if (!typing) {
      if (known) this.stop(key);
      return;
    }
    const scope = this.deps.scopes.enabled ? scopeKey(actor.scope) : undefined;
    if (known) this.timers.cancel(known.timer);
    else this.deps.fanout.typing(roomId, actor.id, true, scope);
    const timer = this.timers.start(() => this.stop(key), this.timeoutMs);
    this.typists.set(key, { timer, roomId, userId: actor.id, scope: known?.scope ?? scope });
  }

  /** A user who went offline stops typing everywhere. */
  userGone(userId: string): void {
    for (const [key, typist] of this.typists) if (typist.userId === userId) this.stop(key);
  }

  close(): void {
    for (const typist of this.typists.values()) this.timers.cancel(typist.timer);
    this.typists.clear();
  }

  private stop(key: string): void {
    const typist = this.typists.get(key);
    if (!typist) return;
    this.timers.cancel(typist.timer);
    this.typists.delete(key);
    this.deps.fanout.typing(typist.roomId, typist.userId, false, typist.scope);
  }
}
