/**
 * Typing indicators: others in the room see "typing" until the typer says stop, or until
 * 6 seconds pass without another `typing: true`, when the server says stop itself. With
 * USERS_SCOPE_COLUMN only members of the typer's scope see it.
 */
import { LIMITS } from "../../protocol/index.js";
import type { Actor } from "../../shared/actor.js";
import { type ChatDeps, memberRoom } from "../context.js";
import { type ScopeKey, scopeKey } from "../scopes.js";

interface Typist {
  timer: NodeJS.Timeout;
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
    if (known) clearTimeout(known.timer);
    else this.deps.fanout.typing(roomId, actor.id, true, scope);
    const timer = setTimeout(() => this.stop(key), this.timeoutMs);
    timer.unref();
    this.typists.set(key, { timer, roomId, userId: actor.id, scope: known?.scope ?? scope });
  }

  /** A user who went offline stops typing everywhere. */
  userGone(userId: string): void {
    for (const [key, typist] of this.typists) if (typist.userId === userId) this.stop(key);
  }

  close(): void {
    for (const typist of this.typists.values()) clearTimeout(typist.timer);
    this.typists.clear();
  }

  private stop(key: string): void {
    const typist = this.typists.get(key);
    if (!typist) return;
    clearTimeout(typist.timer);
    this.typists.delete(key);
    this.deps.fanout.typing(typist.roomId, typist.userId, false, typist.scope);
  }
}
