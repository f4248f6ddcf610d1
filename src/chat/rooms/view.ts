/**
 * Turns the store's room state into the contract's Room objects.
 */
import type { Member, Room, SharedRoom } from "../../protocol/index.js";
import type { ChatStore, RoomState } from "../../storage/chat-store.js";

/** The room as every member sees it (what `room:updated` carries). */
export function sharedRoom(room: RoomState, store: ChatStore): SharedRoom {
  const members: Member[] = [];
  for (const m of room.members.values()) {
    members.push({
      userId: m.userId,
      name: store.userName(m.userId),
      role: m.role,
      joinedAt: m.joinedAt,
      readSeq: m.readSeq,
    });
  }
  members.sort(
    (a, b) => (room.members.get(a.userId)?.joinOrder ?? 0) - (room.members.get(b.userId)?.joinOrder ?? 0),
  );
  return {
    id: room.id,
    type: room.type,
    name: room.name,
    createdAt: room.createdAt,
    members,
    lastSeq: room.lastSeq,
    rev: room.rev,
    lastMessage: room.lastMessage,
  };
}

/** The room as one member sees it, with their read marker and unread count. */
export function roomFor(userId: string, room: RoomState, store: ChatStore): Room {
  const me = room.members.get(userId);
  const readSeq = me?.readSeq ?? 0;
  const unread = Math.max(0, room.lastSeq - readSeq - (me?.ownAfterRead ?? 0));
  return { ...sharedRoom(room, store), readSeq, unread };
}
