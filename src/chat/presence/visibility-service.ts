/**
 * (extension) `presence:visibility`: a socket says whether its tab is visible. The socket's
 * disconnect takes it off again, so a closed tab never keeps pushes away.
 */
import type { ServerSocket } from "../../realtime/types.js";
import type { Actor } from "../../shared/actor.js";
import type { VisibilityTracker } from "./visibility.js";

export class VisibilityService {
  /** sockets whose disconnect is already watched */
  private readonly watched = new WeakSet<ServerSocket>();

  constructor(
    private readonly tracker: VisibilityTracker,
    private readonly problem: (err: unknown) => void,
  ) {}

  async set(actor: Actor, socket: ServerSocket, visible: boolean): Promise<void> {
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
