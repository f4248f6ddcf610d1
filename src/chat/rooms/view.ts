/**
 * Turns the store's room state into the contract's Room objects. Member names come from one
 * `userNames` read per answer (not one read per member), which matters when the store is a
 * database server.
 */
import type { Member, Room, SharedRoom } from "../../protocol/index.js";
import type { AsyncChatStore } from "../../storage/async-chat-store.js";
import type { MemberState, StoredRoom } from "../../storage/chat-store.js";

/** How a room is shown: how many members at most, and who must be among them. */
export interface ViewOptions {
  /** at most this many members (the rest are counted in `memberCount` only) */
  maxMembers?: number;
  /** kept in a shortened list whatever their place (the caller, who needs their own role) */
  keep?: string;
  /** only these members are shown and counted (USERS_SCOPE_COLUMN); default: everyone */
  visible?: (userId: string) => boolean;
}

/** The names of users, as `AsyncChatStore.userNames` gives them. */
export type Names = ReadonlyMap<string, string>;

/** The room's members in join order. */
export function orderedMembers(room: StoredRoom): MemberState[] {
  return [...room.members.values()].sort((a, b) => a.joinOrder - b.joinOrder);
}

export function toMember(m: MemberState, names: Names): Member {
  return {
    userId: m.userId,
    name: names.get(m.userId) ?? `User ${m.userId}`,
    role: m.role,
    joinedAt: m.joinedAt,
    readSeq: m.readSeq,
  };
}

/** The members a view shows, and how many it counts. */
function pick(room: StoredRoom, options: ViewOptions): { shown: MemberState[]; count: number } {
  const visible = options.visible;
  const all = visible ? orderedMembers(room).filter((m) => visible(m.userId)) : orderedMembers(room);
  const max = options.maxMembers ?? Number.POSITIVE_INFINITY;
  let shown = all;
  if (all.length > max) {
    const kept = all.find((m) => m.userId === options.keep);
    const others = all.filter((m) => m !== kept).slice(0, kept ? max - 1 : max);
    shown = kept ? [...others, kept].sort((a, b) => a.joinOrder - b.joinOrder) : others;
  }
  return { shown, count: all.length };
}

function shared(room: StoredRoom, shown: MemberState[], count: number, names: Names): SharedRoom {
  return {
    id: room.id,
    type: room.type,
    name: room.name,
    createdAt: room.createdAt,
    members: shown.map((m) => toMember(m, names)),
    memberCount: count,
    lastSeq: room.lastSeq,
    rev: room.rev,
    lastMessage: room.lastMessage,
    record: room.record,
  };
}

/** The user's read marker and unread count in a room. */
export function unreadOf(userId: string, room: StoredRoom): { readSeq: number; unread: number } {
  const me = room.members.get(userId);
  const readSeq = me?.readSeq ?? 0;
  return { readSeq, unread: Math.max(0, room.lastSeq - readSeq - (me?.ownAfterRead ?? 0)) };
}

/** The room as every member sees it (what `room:updated` carries). */
export async function sharedRoom(
  room: StoredRoom,
  store: AsyncChatStore,
  options: ViewOptions = {},
): Promise<SharedRoom> {
  const { shown, count } = pick(room, options);
  const names = await store.userNames(shown.map((m) => m.userId));
  return shared(room, shown, count, names);
}

/** The room as one member sees it, with their read marker and unread count. */
export async function roomFor(
  userId: string,
  room: StoredRoom,
  store: AsyncChatStore,
  options: ViewOptions = {},
): Promise<Room> {
  return (await roomsFor(userId, [room], store, options))[0]!;
}

/**
 * Several rooms as one member sees them, with one read of names and one of the member's own
 * settings and mention counts for all of them.
 */
export async function roomsFor(
  userId: string,
  rooms: readonly StoredRoom[],
  store: AsyncChatStore,
  options: ViewOptions = {},
): Promise<Room[]> {
  const picked = rooms.map((room) => pick(room, options));
  const ids = new Set(picked.flatMap((p) => p.shown.map((m) => m.userId)));
  const [names, views] = await Promise.all([
    store.userNames([...ids]),
    store.memberViews(
      userId,
      rooms.map((r) => r.id),
    ),
  ]);
  return rooms.map((room, i) => ({
    ...shared(room, picked[i]!.shown, picked[i]!.count, names),
    ...unreadOf(userId, room),
    mentions: views.get(room.id)?.mentions ?? 0,
    notify: views.get(room.id)?.notify ?? "all",
  }));
}
