/**
 * Read-marker writes: moving a member's read marker forward. Kept apart from message writes so
 * everything about read markers in the store sits in one file; it runs as one write of the same
 * group-commit queue and is mirrored into the open room once durable.
 */
import { notFound } from "../../errors.js";
import type { RoomMirror } from "./room-mirror.js";
import type { Statements } from "./statements.js";
import type { WriteQueue } from "./write-queue.js";

export class ReadWrites {
  constructor(
    private readonly s: Statements,
    private readonly queue: WriteQueue,
    private readonly mirror: RoomMirror,
  ) {}

  /** Moves the member's marker to `seq` (never back, never past the last message); answers the marker. */
  markRead(roomId: string, userId: string, seq: number): Promise<number> {
    return this.queue.run(() => {
      const id = Number(roomId);
      const counters = this.s.roomCounters.get(id) as { last_seq: number } | undefined;
      const member = this.s.member.get(id, userId) as { read_seq: number } | undefined;
      if (!counters || !member) throw notFound();
      const target = Math.min(seq, counters.last_seq);
      if (target <= member.read_seq) return { result: member.read_seq };
      const own = this.s.ownMessagesAfter.get(id, userId, target) as number;
      this.s.setRead.run(target, own, id, userId);
      return {
        result: target,
        apply: () => {
          const state = this.mirror.rooms.get(roomId)?.members.get(userId);
          if (state) {
            state.readSeq = target;
            state.ownAfterRead = own;
          }
        },
      };
    });
  }
}
