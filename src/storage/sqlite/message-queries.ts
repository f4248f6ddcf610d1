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

  changes(
    roomId: string,
    sinceRev: number,
    limit: number,
  ): { messages: Message[]; rev: number; hasMore: boolean } {
    const rows = this.durable.reads.changes.all(Number(roomId), sinceRev, limit + 1) as MessageRow[];
    const hasMore = rows.length > limit;
    if (hasMore) rows.pop();
    const messages = rows.map(toMessage);
    const roomRev = this.mirror.rooms.get(roomId)?.rev ?? sinceRev;
    const rev = hasMore ? messages.at(-1)!.rev : Math.max(roomRev, sinceRev);
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
