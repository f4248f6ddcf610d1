/**
 * Keeping the local state in step with the server: live events applied as they arrive (a gap in
 * their `rev`s is fetched by gap-fill.ts), and after every (re)connect a catch-up through
 * `room:list` and `message:changes` from each loaded room's cursor, so nothing is missed and
 * nothing is applied twice.
 */
import type { Room, ServerToClientEvents } from "../protocol/index.js";
import type { ChatClient } from "./client.js";
import { fetchChanges } from "./gap-fill.js";

type Forward = <E extends keyof ServerToClientEvents>(
  event: E,
  ...args: Parameters<ServerToClientEvents[E]>
) => void;

/** Applies every server event to the state, then passes it on to the client's listeners. */
export function wireEvents(client: ChatClient, forward: Forward): void {
  const { socket, state } = client;
  socket.on("session", (payload) => forward("session", payload));
  socket.on("session:ended", (payload) => forward("session:ended", payload));
  for (const event of ["message:new", "message:updated", "message:deleted"] as const) {
    socket.on(event, (message) => {
      if (state.applyMessage(message, true)) void client.refreshRoom(message.roomId);
      state.changed();
      client.gaps.check(message.roomId);
      forward(event, message);
    });
  }
  socket.on("room:updated", (room) => {
    // a room I was just added to: its per-user fields (unread, readSeq) only come with room:get
    if (state.applySharedRoom(room)) state.changed();
    else void client.refreshRoom(room.id).then(() => client.loadPresence(room.members.map((m) => m.userId)));
    forward("room:updated", room);
  });
  socket.on("room:removed", (payload) => {
    state.removeRoom(payload.roomId);
    state.changed();
    forward("room:removed", payload);
  });
  socket.on("room:read", (payload) => {
    if (!state.applyRead(payload.roomId, payload.userId, payload.seq))
      void client.refreshRoom(payload.roomId);
    state.changed();
    forward("room:read", payload);
  });
  socket.on("typing", (payload) => {
    state.applyTyping(payload.roomId, payload.userId, payload.typing);
    state.changed();
    forward("typing", payload);
  });
  socket.on("presence", (payload) => {
    const { userId, ...presence } = payload;
    state.applyPresence(userId, presence);
    state.changed();
    forward("presence", payload);
  });
}

/**
 * Runs after every `session`. Resolves true when the state matches the server, false when a newer
 * session or a disconnect overtook it (that session runs its own catch-up).
 */
export async function catchUp(client: ChatClient, generation: number): Promise<boolean> {
  const { state } = client;
  const stale = () => generation !== client.sessionGeneration || client.status !== "online";
  const rooms = await listAllRooms(client, stale);
  if (rooms === null) return false;
  // Loaded rooms need what they missed, from the cursor they stopped at; the others only need
  // the fresh room object (their messages load when opened).
  const gaps: { roomId: string; sinceRev: number }[] = [];
  for (const room of rooms) {
    const known = state.roomState(room.id);
    if (known?.loaded && known.catchingUp && room.rev > known.cursor) {
      gaps.push({ roomId: room.id, sinceRev: known.cursor });
    }
  }
  state.setRooms(rooms);
  const gapIds = new Set(gaps.map((g) => g.roomId));
  for (const room of rooms) if (!gapIds.has(room.id)) state.roomState(room.id)?.finishCatchUp(room.rev);
  state.changed();

  for (const gap of gaps) {
    const room = state.roomState(gap.roomId);
    const applied = await fetchChanges(client, gap.roomId, stale);
    if (stale()) return false;
    // null: I left the room meanwhile; else the cursor now covers all the server had
    if (applied !== null) room?.finishCatchUp(room.cursor);
    state.changed();
  }
  // live events that came past a missing rev during the catch-up: fetch what they skipped
  client.gaps.checkAll(rooms.map((r) => r.id));
  // a room list shortens big groups' member lists: an open room gets its full list again
  for (const room of rooms) {
    if (state.roomState(room.id)?.loaded && room.members.length < (room.memberCount ?? 0)) {
      await client.refreshRoom(room.id);
      if (stale()) return false;
    }
  }
  await client.loadPresence(state.contacts());
  return !stale();
}

/**
 * Every room, following `room:list`'s pages (a server without paging answers one page and no
 * `next`). A room that moved between pages is kept once. Null when the session went stale.
 */
async function listAllRooms(client: ChatClient, stale: () => boolean): Promise<Room[] | null> {
  const byId = new Map<string, Room>();
  let cursor: string | undefined;
  do {
    const limit = client.options.roomsPageSize;
    const page = await client.request("room:list", cursor === undefined ? { limit } : { limit, cursor });
    if (stale()) return null;
    for (const room of page.rooms) if (!byId.has(room.id)) byId.set(room.id, room);
    cursor = page.next ?? undefined;
  } while (cursor !== undefined);
  return [...byId.values()];
}
