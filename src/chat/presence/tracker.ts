/**
 * Who is online: a user is online while any of their sockets is connected. Behind an interface
 * because with several nodes the count must live in shared storage (Redis), not in one process.
 */
export interface PresenceTracker {
  /** Counts a new socket; true when the user just came online. */
  connected(userId: string): Promise<boolean>;
  /** Counts a closed socket; true when the user just went offline. */
  disconnected(userId: string): Promise<boolean>;
  isOnline(userId: string): Promise<boolean>;
}

/** The single-node tracker: socket counts in memory. */
export class MemoryPresence implements PresenceTracker {
  private readonly sockets = new Map<string, number>();

  async connected(userId: string): Promise<boolean> {
    const count = (this.sockets.get(userId) ?? 0) + 1;
    this.sockets.set(userId, count);
    return count === 1;
  }

  async disconnected(userId: string): Promise<boolean> {
    const count = (this.sockets.get(userId) ?? 1) - 1;
    if (count > 0) {
      this.sockets.set(userId, count);
      return false;
    }
    this.sockets.delete(userId);
    return true;
  }

  async isOnline(userId: string): Promise<boolean> {
    return this.sockets.has(userId);
  }
}
