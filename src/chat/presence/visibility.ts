/**
 * (extension) Which users have a visible, connected tab: Web Push goes only to users without one.
 * A socket counts as visible only after it said `presence:visibility { visible: true }` (a tab
 * opened in the background never says so) and stops counting when it says false or disconnects.
 * With several nodes the answer must hold across them, so it lives in Redis (redis-visibility.ts);
 * a single node keeps it in memory.
 */

/** Visible sockets per user. */
export interface VisibilityTracker {
  /** Records whether `socketId` of `userId` is visible now. */
  set(userId: string, socketId: string, visible: boolean): Promise<void>;
  /** The users of `userIds` with at least one visible socket. */
  visibleAmong(userIds: readonly string[]): Promise<Set<string>>;
  close(): Promise<void>;
}

/** The single-node tracker. */
export class MemoryVisibility implements VisibilityTracker {
  private readonly sockets = new Map<string, Set<string>>();

  async set(userId: string, socketId: string, visible: boolean): Promise<void> {
    const mine = this.sockets.get(userId) ?? new Set<string>();
    if (visible) mine.add(socketId);
    else mine.delete(socketId);
    if (mine.size > 0) this.sockets.set(userId, mine);
    else this.sockets.delete(userId);
  }

  async visibleAmong(userIds: readonly string[]): Promise<Set<string>> {
    return new Set(userIds.filter((id) => this.sockets.has(id)));
  }

  async close(): Promise<void> {
    this.sockets.clear();
  }
}
