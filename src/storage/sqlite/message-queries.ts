/**
 * Message reads: one message, a room's history, its changes since a rev, and search. The first
 * three read through DurableReads, so they never see a commit before it is durable; search reads
 * the index on its own connection and leaves out what the room's durable rev doesn't cover yet.
 */
import type { Message } from "../../protocol/index.js";
import type { HistoryQuery } from "../chat-store.js";
import type { DurableReads } from "./durable-reads.js";
import type { RoomMirror } from "./room-mirror.js";
import { type MessageRow, toMessage } from "./rows.js";
import type { SearchQueries } from "./search.js";

export class MessageQueries {
  constructor(
    private readonly durable: DurableReads,
    private readonly mirror: RoomMirror,
    private readonly searches: SearchQueries,
  ) {}

  message(messageId: string): Message | undefined {
    const row = this.durable.reads.messageById.get(Number(messageId)) as MessageRow | undefined;
    return row ? toMessage(row) : undefined;
  }

  history(roomId: string, q: HistoryQuery): { messages: Message[]; hasMore: boolean } {
    const id = Number(roomId);
    const reads = this.durable.reads;
    const rows = (
      q.afterSeq !== undefined
        ? reads.after.all(id, q.afterSeq, q.limit + 1)
        : q.beforeSeq !== undefined
          ? reads.before.all(id, q.beforeSeq, q.limit + 1)
          : reads.latest.all(id, q.limit + 1)
    ) as MessageRow[];
    const hasMore = rows.length > q.limit;
    if (hasMore) rows.pop();
    if (q.afterSeq === undefined) rows.reverse();
    return { messages: rows.map(toMessage), hasMore };
  }

  /**
   * The changes after `sinceRev` and the cursor to continue from. The room's rev is read in the
   * same statement as the rows, not from the mirror: with several nodes on one file, the mirror
   * can lag behind rows another node committed, and the cursor must never fall behind (or run
   * ahead of) the rows it answers with.
   */
  changes(
    roomId: string,
    sinceRev: number,
    limit: number,
  ): { messages: Message[]; rev: number; hasMore: boolean } {
    const rows = this.durable.reads.changes.all({
      room: Number(roomId),
      since: sinceRev,
      limit: limit + 1,
    }) as ((MessageRow & { room_rev: number | null }) | { id: null; room_rev: number | null })[];
    const roomRev = rows[0]?.room_rev ?? null;
    const found = rows.filter((r): r is MessageRow & { room_rev: number | null } => r.id !== null);
    const hasMore = found.length > limit;
    if (hasMore) found.pop();
    const messages = found.map(toMessage);
    // a closed or unknown room has no rev of its own: the cursor stays where the caller was
    const rev = hasMore ? messages.at(-1)!.rev : Math.max(roomRev ?? sinceRev, sinceRev);
    return { messages, rev, hasMore };
  }

  search(roomIds: readonly string[], query: string, limit: number): Message[] {
    // the index is read on its own connection, which may already see a batch whose sync is in
    // flight: such messages (newer than the room's durable rev) are left out until it completes
    return this.searches
      .search(roomIds, query, limit)
      .filter((m) => m.rev <= (this.mirror.rooms.get(m.roomId)?.rev ?? -1));
  }
}
