/**
 * Typing indicators: others in the room see "typing" until the typer says stop, or until
 * 6 seconds (the app's `typingTimeoutMs`) pass without another `typing: true`, when the server
 * says stop itself. With
 * USERS_SCOPE_COLUMN only members of the typer's scope see it.
 */
import { LIMITS } from "../../protocol/index.js";
import type { Actor } from "../../shared/actor.js";
import { type ChatDeps, memberRole } from "../context.js";
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
  /** the last pending `set` per room and user, so their events apply in order */
  private readonly checks = new Map<string, Promise<void>>();

  constructor(
    private readonly deps: ChatDeps,
    private readonly timeoutMs: number = LIMITS.typingTimeoutMs,
    private readonly timers: TypingTimers = REAL_TYPING_TIMERS,
  ) {}

  /**
   * Starts or stops the actor's typing indicator. The membership check is a database read on
   * PostgreSQL, so one user's events in one room are applied in the order they came: a quick
   * `true` then `false` never ends up typing.
   */
  set(actor: Actor, roomId: string, typing: boolean): Promise<void> {
    const key = `${roomId}:${actor.id}`;
    const turn = (this.checks.get(key) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => memberRole(this.deps, actor, roomId))
      .then(() => this.apply(actor, roomId, typing, key));
    this.checks.set(key, turn);
    turn
      .finally(() => {
        if (this.checks.get(key) === turn) this.checks.delete(key);
      })
      .catch(() => undefined);
    return turn;
  }

  private apply(actor: Actor, roomId: string, typing: boolean, key: string): void {
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
