/**
 * The objects of the TimeWise Chat client contract (PROTOCOL.md §Objects), as they travel on the wire.
 * Ids are strings, times are ISO-8601 UTC strings. Shared by the server, the SDK and the web UI.
 */

/** A person from the user directory (the PHP app's users table or the built-in directory). */
export interface User {
  id: string;
  name: string;
  /**
   * (v2.3) the sign-in name, which `@login` mentions use: on `user:search` results and on the
   * `session` user, so a UI can complete mentions and spot its own
   */
  login?: string;
  /**
   * (v2.4) whether they may be notified away from the chat now (inside their working hours and
   * outside their quiet hours); only on users who share a room with the caller
   */
  available?: boolean;
  /** (v2.4) when not available: when their next working period starts (null when available) */
  availableAt?: string | null;
}

/** What a member may do in a group: the owner and admins manage it, members chat. */
export type Role = "owner" | "admin" | "member";

/** A one-to-one conversation, or a named group. */
export type RoomType = "direct" | "group";

/** A user's place in a room. `readSeq` is their read marker. */
export interface Member {
  userId: string;
  name: string;
  role: Role;
  joinedAt: string;
  readSeq: number;
}

/** A chat message. `seq` orders a room's history; `rev` is the room change that last touched it. */
export interface Message {
  id: string;
  roomId: string;
  seq: number;
  rev: number;
  senderId: string;
  body: string;
  clientId: string | null;
  replyToId: string | null;
  createdAt: string;
  editedAt: string | null;
  deleted: boolean;
  /** emoji → ids of the users who reacted with it, in the order they reacted */
  reactions: Record<string, string[]>;
  /** the files sent with it, in the order they were given; empty when none (and once deleted) */
  files: ChatFile[];
  /**
   * (v2.3) ids of the members its body mentions with `@login`, in the order they first appear;
   * resolved by the server when it is sent or edited, never taken from a payload; empty once deleted
   */
  mentions: string[];
  /** (v2.3) the body has `@all` or `@here`, in a group (never in a direct room) */
  mentionsAll: boolean;
}

/** (v2.3) When a room notifies a member: every message, only mentions of them, or never. */
export type NotifyLevel = "all" | "mentions" | "none";

/** (v2.4) A day of the week, as a working-hours schedule names it. */
export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";

/** (v2.4) A span of wall-clock time, `["08:00", "16:30"]`; an end before the start runs past midnight. */
export type TimeSpan = [from: string, to: string];

/**
 * (v2.4) When a user works, set by the PHP app (`PUT /api/server/users/:id/schedule`): the same
 * hours each week in an IANA time zone, or a list of shifts (ISO instants).
 */
export type WorkSchedule =
  | { timeZone: string; weekly: Partial<Record<Weekday, TimeSpan[]>> }
  | { timeZone: string; shifts: { start: string; end: string }[] };

/** (v2.4) Hours a user chose not to be notified in, every day; `from` after `to` wraps past midnight. */
export interface QuietHours {
  timeZone: string;
  from: string;
  to: string;
}

/** (v2.3) A user's own notification settings (`user:prefs:get` / `user:prefs:set`). */
export interface UserPrefs {
  /** a digest email of what they missed, or none; default "digest" when they have an email address */
  email: "off" | "digest";
  /** minutes a notifying message waits unread before it goes into a digest (1–1440, default 10) */
  emailDelayMin: number;
  /** Web Push to their browsers (default true) */
  push: boolean;
  /** (v2.4) hours they get no email, push or webhook notification in (default null: none) */
  quietHours: QuietHours | null;
}

/**
 * A file attached to a message (PROTOCOL v2.2 `File`). Called ChatFile here so it never hides
 * the browser's own `File` in the SDK and the web UI.
 */
export interface ChatFile {
  id: string;
  /** the name it was uploaded with, cleaned of folders and control characters */
  name: string;
  size: number;
  /** the type read from the file's bytes, never taken from the client */
  type: string;
  /** pixels, for images */
  width: number | null;
  height: number | null;
  /**
   * where to download it: a path on the chat server with a link signed for the user who got
   * this message, working without a cookie or header for FILES_URL_TTL_S (src/files/links.ts)
   */
  url: string;
  /** a small preview of an image (longest side 360 px), or null; signed like `url` */
  thumbnailUrl: string | null;
}

/**
 * The TimeWise record a room is the conversation of (a timesheet, leave request, shift, project),
 * set by the PHP app through `PUT /api/server/records/:kind/:recordId` (PROTOCOL v2.4).
 */
export interface RoomRecord {
  /** what sort of record: `timesheet`, `leave`, `shift`, `project`… (the PHP app's words) */
  kind: string;
  /** the record's id in the PHP app */
  id: string;
  /** what the room is called after: the record's title */
  title: string;
  /** the record's page in the PHP app (http or https only) */
  url: string;
}

/** A room as everyone in it sees it (what `room:updated` carries). */
export interface SharedRoom {
  id: string;
  type: RoomType;
  name: string | null;
  createdAt: string;
  /**
   * Members in join order. In a `room:list` answer at most `LIMITS.listMembersMax` of them (the
   * caller always included); `memberCount` says how many there are in all.
   */
  members: Member[];
  /** how many members the room has (more than `members.length` when the list was shortened) */
  memberCount: number;
  lastSeq: number;
  rev: number;
  lastMessage: Message | null;
  /**
   * The record this room belongs to, or null for an ordinary room. Its members are set by the
   * PHP app only: users can't leave or rename it, nor add or remove people (FORBIDDEN).
   */
  record: RoomRecord | null;
}

/**
 * A room as one user sees it: the shared view plus that user's read marker, unread and mention
 * counts, and notification setting.
 */
export interface Room extends SharedRoom {
  readSeq: number;
  unread: number;
  /** (v2.3) unread messages, not the caller's own, that mention the caller or everyone */
  mentions: number;
  /** (v2.3) the caller's notification setting for this room */
  notify: NotifyLevel;
}

/** Whether a user is connected, and when they were last seen. */
export interface Presence {
  online: boolean;
  lastSeenAt: string | null;
  /** (v2.4) whether they may be notified away from the chat now (working hours, quiet hours) */
  available?: boolean;
  /** (v2.4) when not available: when their next working period starts (null when available) */
  availableAt?: string | null;
}
