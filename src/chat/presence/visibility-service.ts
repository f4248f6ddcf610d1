/**
 * (extension) `presence:visibility`: a socket says whether its tab is visible. The socket's
 * disconnect takes it off again, so a closed tab never keeps pushes away.
 */
import type { Actor } from "../../shared/actor.js";
import type { VisibilityTracker } from "./visibility.js";

/** What this needs of a connection: the chat services know no transport. */
export interface VisibleSocket {
  id: string;
  disconnected: boolean;
  once(event: "disconnect", listener: () => void): unknown;
}

export class VisibilityService {
  /** sockets whose disconnect is already watched */
  private readonly watched = new WeakSet<VisibleSocket>();

  constructor(
    private readonly tracker: VisibilityTracker,
    private readonly problem: (err: unknown) => void,
  ) {}

  async set(actor: Actor, socket: VisibleSocket, visible: boolean): Promise<void> {
    // a late message of a socket that is gone must not make it count again
    if (socket.disconnected) return;
    if (visible && !this.watched.has(socket)) {
      this.watched.add(socket);
      socket.once("disconnect", () => {
        this.tracker.set(actor.id, socket.id, false).catch(this.problem);
      });
    }
    await this.tracker.set(actor.id, socket.id, visible);
  }

  /** The users of `userIds` with a visible, connected tab on any node. */
  visibleAmong(userIds: readonly string[]): Promise<Set<string>> {
    return this.tracker.visibleAmong(userIds);
  }
}
