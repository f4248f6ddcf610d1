/**
 * Filling gaps in a room's `rev`s while connected. Every message change takes the room's next
 * `rev`, so a live event that comes with a `rev` past the cursor's next one means an event was
 * lost on the way (a node that died, a dropped packet). The event is shown at once; the missing
 * ones are fetched with `message:changes` from the cursor: at most one fetch per room at a time,
 * tried again later when it fails.
 */
import type { ChatClient } from "./client.js";

/** How long to wait before fetching a room's gap again after a failed (or fruitless) try. */
const GAP_RETRY_MS = 1000;

/**
 * Fetches `message:changes` from the room's cursor until the server has nothing more, applying
 * every message and moving the cursor over what each answer covers. Resolves the number of
 * messages applied, or null when `stale` says to stop or the room went away meanwhile.
 */
export async function fetchChanges(
  client: ChatClient,
  roomId: string,
  stale: () => boolean,
): Promise<number | null> {
  const { state } = client;
  let applied = 0;
  for (;;) {
    const room = state.roomState(roomId);
    if (!room) return null;
    const page = await client.request("message:changes", {
      roomId,
      sinceRev: room.cursor,
      limit: client.options.changesPageSize,
    });
    // a room left (or left and joined again) meanwhile has a cursor this answer does not fit
    if (stale() || state.roomState(roomId) !== room) return null;
    for (const message of page.messages) state.applyMessage(message, false);
    applied += page.messages.length;
    room.coveredTo(page.rev);
    state.changed();
    if (!page.hasMore) return applied;
  }
}

export class GapFiller {
  private readonly running = new Set<string>();
  private readonly retries = new Map<string, ReturnType<typeof setTimeout>>();
  private closed = false;

  constructor(private readonly client: ChatClient) {}

  /**
   * Starts fetching the room's missing changes if it has a gap, unless a fetch (or its retry) is
   * already on its way, or a catch-up after a reconnect is running (it fetches them itself).
   */
  check(roomId: string): void {
    const room = this.client.state.roomState(roomId);
    if (this.closed || !room?.hasGap() || room.catchingUp) return;
    if (this.running.has(roomId) || this.retries.has(roomId)) return;
    this.running.add(roomId);
    void this.fill(roomId).then((next) => {
      this.running.delete(roomId);
      if (next === "now") this.check(roomId);
      else if (next === "later") this.retryLater(roomId);
    });
  }

  /** Checks every room, e.g. after a catch-up. */
  checkAll(roomIds: Iterable<string>): void {
    for (const roomId of roomIds) this.check(roomId);
  }

  /** Stops retries (the client was closed). */
  close(): void {
    this.closed = true;
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
  }

  /** Fills the gap once; resolves whether to try again, now or later. */
  private async fill(roomId: string): Promise<"done" | "now" | "later"> {
    const client = this.client;
    const stale = () => this.closed || client.status !== "online";
    const before = client.state.roomState(roomId)?.cursor;
    try {
      const applied = await fetchChanges(client, roomId, stale);
      if (applied === null) return "done";
      // a message fetched late came after newer ones: only the server can count it as unread
      if (applied > 0) await client.refreshRoom(roomId);
    } catch {
      // busy server or lost connection: try again later (after a reconnect, catch-up does it)
      return "later";
    }
    const room = client.state.roomState(roomId);
    if (!room?.hasGap()) return "done";
    // more events came past the answer: fetch again now, or later if this answer moved nothing
    return room.cursor === before ? "later" : "now";
  }

  private retryLater(roomId: string): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.retries.delete(roomId);
      this.check(roomId);
    }, GAP_RETRY_MS);
    this.retries.set(roomId, timer);
  }
}
