/**
 * Turns the store's room state into the contract's Room objects.
 */
import type { Member, Room, SharedRoom } from "../../protocol/index.js";
import type { ChatStore, MemberState, StoredRoom } from "../../storage/chat-store.js";

/** How a room is shown: how many members at most, and who must be among them. */
export interface ViewOptions {
  /** at most this many members (the rest are counted in `memberCount` only) */
  maxMembers?: number;
  /** kept in a shortened list whatever their place (the caller, who needs their own role) */
  keep?: string;
  /** only these members are shown and counted (USERS_SCOPE_COLUMN); default: everyone */
  visible?: (userId: string) => boolean;
}

/** The room's members in join order. */
export function orderedMembers(room: StoredRoom): MemberState[] {
  return [...room.members.values()].sort((a, b) => a.joinOrder - b.joinOrder);
}

export function toMember(m: MemberState, store: ChatStore): Member {
  return {
    userId: m.userId,
    name: store.userName(m.userId),
    role: m.role,
    joinedAt: m.joinedAt,
    readSeq: m.readSeq,
  };
}

/** The room as every member sees it (what `room:updated` carries). */
export function sharedRoom(room: StoredRoom, store: ChatStore, options: ViewOptions = {}): SharedRoom {
  const visible = options.visible;
  const all = visible ? orderedMembers(room).filter((m) => visible(m.userId)) : orderedMembers(room);
  const max = options.maxMembers ?? Number.POSITIVE_INFINITY;
  let shown = all;
  if (all.length > max) {
    const kept = all.find((m) => m.userId === options.keep);
    const others = all.filter((m) => m !== kept).slice(0, kept ? max - 1 : max);
    shown = kept ? [...others, kept].sort((a, b) => a.joinOrder - b.joinOrder) : others;
  }
  return {
    id: room.id,
    type: room.type,
    name: room.name,
    createdAt: room.createdAt,
    members: shown.map((m) => toMember(m, store)),
    memberCount: all.length,
    lastSeq: room.lastSeq,
    rev: room.rev,
    lastMessage: room.lastMessage,
  };
}

/** The room as one member sees it, with their read marker and unread count. */
export function roomFor(userId: string, room: StoredRoom, store: ChatStore, options: ViewOptions = {}): Room {
  const me = room.members.get(userId);
  const readSeq = me?.readSeq ?? 0;
  const unread = Math.max(0, room.lastSeq - readSeq - (me?.ownAfterRead ?? 0));
  return { ...sharedRoom(room, store, options), readSeq, unread };
}
