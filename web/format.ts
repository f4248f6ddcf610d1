/** Names and times as people read them, in the browser's language. */
import type { ChatState, Room } from "../src/sdk/index.js";

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const weekdayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short" });
const shortDateFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
const longDateFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "long",
  day: "numeric",
  month: "long",
  year: "numeric",
});

/** Midnight of the day `date` falls on, in local time. */
function dayStart(date: Date): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

const DAY_MS = 86_400_000;

export function timeOf(iso: string): string {
  return timeFormat.format(new Date(iso));
}

/** For the room list: the time today, the weekday this week, else the date. */
export function shortWhen(iso: string, now = new Date()): string {
  const date = new Date(iso);
  const days = Math.round((dayStart(now) - dayStart(date)) / DAY_MS);
  if (days <= 0) return timeFormat.format(date);
  if (days < 7) return weekdayFormat.format(date);
  return shortDateFormat.format(date);
}

/** For day separators: "Today", "Yesterday", or the full date. */
export function dayLabel(iso: string, now = new Date()): string {
  const date = new Date(iso);
  const days = Math.round((dayStart(now) - dayStart(date)) / DAY_MS);
  if (days === 0) return "Today";
  if (days === 1) return "Yesterday";
  return longDateFormat.format(date);
}

/** Whether two times fall on the same local day. */
export function sameDay(a: string, b: string): boolean {
  return dayStart(new Date(a)) === dayStart(new Date(b));
}

/** A room's title: the group's name, or the other person's name in a direct chat. */
export function roomTitle(room: Room, meId: string | undefined): string {
  if (room.type === "group") return room.name ?? "Group";
  const other = room.members.find((m) => m.userId !== meId);
  return other?.name ?? "Just you";
}

/** The other person of a direct chat. */
export function directPeer(room: Room, meId: string | undefined): string | undefined {
  return room.type === "direct" ? room.members.find((m) => m.userId !== meId)?.userId : undefined;
}

/** "Alice", "Alice and Bob", "Alice, Bob and Carol", "Alice, Bob and 3 others". */
export function nameList(names: string[]): string {
  if (names.length <= 1) return names[0] ?? "";
  if (names.length > 3) return `${names.slice(0, 2).join(", ")} and ${names.length - 2} others`;
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/** "Online", or when the person was last seen. */
export function presenceText(state: ChatState, userId: string): string {
  const presence = state.presence(userId);
  if (!presence) return "";
  if (presence.online) return "Online";
  if (!presence.lastSeenAt) return "Offline";
  return `Last seen ${dayLabel(presence.lastSeenAt).toLowerCase()} at ${timeOf(presence.lastSeenAt)}`;
}

/** One line of a message for previews: deleted ones say so; files only, their names. */
export function preview(body: string, deleted: boolean, files: readonly { name: string }[] = []): string {
  if (deleted) return "Message deleted";
  const text = body.replace(/\s+/g, " ").trim();
  if (text !== "" || files.length === 0) return text;
  return `📎 ${files.map((f) => f.name).join(", ")}`;
}
