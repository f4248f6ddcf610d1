/**
 * Schemas of every client→server payload. The server parses with them; the SDK and UI import only
 * the derived types (`import type`), so zod never reaches the browser bundle.
 * Unknown fields are dropped by parsing; fields only the server decides are simply not in a schema.
 */
import { z } from "zod";
import { codePointLength, LIMITS } from "./limits.js";
import type { QuietHours } from "./types.js";

// re-exported for the server code that imports them from here
export { codePointLength, LIMITS };

/**
 * Text a person typed: well-formed UTF-16 (no lone surrogates, which storage would silently
 * replace) and no NUL. Length limits in code points are applied by the caller.
 */
const text = z
  .string()
  .refine((s) => s.isWellFormed(), "must be valid Unicode text (no lone surrogates)")
  .refine((s) => !s.includes("\u0000"), "must not contain NUL characters");

/** Room and message ids: decimal strings, as issued by the server. */
export const entityId = z.string().regex(/^[1-9][0-9]{0,15}$/, 'must be an id string such as "42"');
/** User ids: the PHP app's positive integer ids, as strings. */
export const userId = z.string().regex(/^[1-9][0-9]{0,18}$/, 'must be a user id string such as "7"');
/** Text of `min`–`max` code points (the contract counts characters, not UTF-16 units). */
function textOf(min: number, max: number) {
  return text.refine(
    (s) => {
      const n = codePointLength(s);
      return n >= min && n <= max;
    },
    `must be ${min === max ? max : `${min} to ${max}`} characters long`,
  );
}

const seqNumber = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const roomName = text
  .transform((s) => s.trim())
  .refine((s) => s.length > 0, "must not be empty")
  .refine(
    (s) => codePointLength(s) <= LIMITS.roomNameMax,
    `must be at most ${LIMITS.roomNameMax} characters`,
  );
const userIdList = z.array(userId).max(LIMITS.membersPerRequest);

function limit(max: number) {
  return z.number().int().min(1).max(max).optional();
}

/** Binary data and arrays are not objects here. */
function isPlainObject(v: unknown): boolean {
  return Object.prototype.toString.call(v) === "[object Object]";
}

/** No payload, or a plain object. */
export const empty = z
  .custom<Record<string, never> | undefined>(
    (v) => v === undefined || isPlainObject(v),
    "must be an object such as {}",
  )
  .transform(() => ({}));
export const roomRef = z.object({ roomId: entityId });
/** An opaque paging cursor, as a previous answer's `next` gave it. */
const cursor = z.string().min(1).max(200);
/**
 * A record's kind: lower-case letters, digits, `_` and `-`, starting with a letter. It becomes part
 * of the room's key and of a link, so no other characters are taken.
 */
export const recordKind = z
  .string()
  .regex(
    new RegExp(`^[a-z][a-z0-9_-]{0,${LIMITS.recordKindMax - 1}}$`),
    `must be 1-${LIMITS.recordKindMax} lower-case letters, digits, _ or -, starting with a letter (such as timesheet)`,
  );
/** A record's id in the PHP app: letters, digits and `_ . : -` (no slash, no space). */
export const recordId = z
  .string()
  .regex(
    new RegExp(`^[A-Za-z0-9_.:-]{1,${LIMITS.recordIdMax}}$`),
    `must be 1-${LIMITS.recordIdMax} letters, digits or _ . : - (such as 2026-W49-7)`,
  );
/**
 * `room:list`'s filter: `true` only rooms on a record, `false` only the others, `{ kind }` only
 * rooms on records of that kind. Absent: every room, as before.
 */
const recordFilter = z.union([z.boolean(), z.object({ kind: recordKind })]);
/** `room:list`: no payload (or `{}`) still works, as in v1, and gives the first page. */
export const roomList = z.preprocess(
  (v) => (v === undefined ? {} : v),
  z.custom<object>(isPlainObject, "must be an object such as {}").pipe(
    z.object({
      limit: limit(LIMITS.roomPageMax),
      cursor: cursor.optional(),
      record: recordFilter.optional(),
    }),
  ),
);
/** `room:record`: the room of one record, for a member of it. */
export const roomRecord = z.object({ kind: recordKind, recordId });
export const roomMembers = z.object({
  roomId: entityId,
  limit: limit(LIMITS.membersPageMax),
  cursor: cursor.optional(),
});
export const userSearch = z.object({
  query: textOf(0, LIMITS.searchQueryMax),
  limit: limit(50),
});
export const roomDirect = z.object({ userId });
export const roomCreate = z.object({ name: roomName, memberIds: userIdList });
export const roomUpdate = z.object({ roomId: entityId, name: roomName });
export const roomAddMembers = z.object({ roomId: entityId, userIds: userIdList.min(1) });
export const roomSetRole = z.object({ roomId: entityId, userId, role: z.enum(["admin", "member"]) });
export const roomMember = z.object({ roomId: entityId, userId });
/** Files to attach: each an id from `POST /api/files`, each once. */
const fileIds = z
  .array(entityId)
  .max(LIMITS.filesPerMessage)
  .refine((ids) => new Set(ids).size === ids.length, "must not name the same file twice");
/**
 * The body's length is checked by the service (PAYLOAD_TOO_LARGE), since its limit is configurable;
 * so is a blank body, which is fine when files come with it.
 */
export const messageSend = z.object({
  roomId: entityId,
  body: text,
  clientId: textOf(1, LIMITS.clientIdMax),
  replyToId: entityId.nullish(),
  fileIds: fileIds.optional(),
  /** (v2.4) notify every member at once, past working hours and quiet hours: owners and admins of a group */
  urgent: z.boolean().optional(),
});
export const messageHistory = z
  .object({
    roomId: entityId,
    beforeSeq: seqNumber.optional(),
    afterSeq: seqNumber.optional(),
    limit: limit(100),
  })
  .refine(
    (p) => p.beforeSeq === undefined || p.afterSeq === undefined,
    "give beforeSeq or afterSeq, not both",
  );
export const messageChanges = z.object({ roomId: entityId, sinceRev: seqNumber, limit: limit(500) });
export const messageEdit = z.object({ messageId: entityId, body: text });
export const messageRef = z.object({ messageId: entityId });
export const messageReact = z.object({
  messageId: entityId,
  emoji: textOf(1, LIMITS.emojiMax).refine(
    (s) => s.trim() === s,
    "must be an emoji without spaces around it",
  ),
  on: z.boolean(),
});
export const messageSearch = z.object({
  query: textOf(1, LIMITS.searchQueryMax),
  roomId: entityId.optional(),
  limit: limit(50),
});
export const roomRead = z.object({ roomId: entityId, seq: seqNumber });
export const typing = z.object({ roomId: entityId, typing: z.boolean() });
/** A fresh token for the socket's user; a real one is a few hundred characters. */
export const sessionRefresh = z.object({
  token: z
    .string()
    .max(4096)
    .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/, "must be a token (a JWT)"),
});
export const presenceGet = z.object({ userIds: z.array(userId).max(LIMITS.presenceIdsMax) });
/** (extension) Whether the sending tab is visible now: pushes go only to users with no visible tab. */
export const presenceVisibility = z.object({ visible: z.boolean() });
/** (v2.3) A push service's address: only https, as the Push API hands out. */
const pushEndpoint = z
  .string()
  .max(LIMITS.pushEndpointMax)
  .refine((s) => URL.canParse(s) && new URL(s).protocol === "https:", "must be an https:// address");
const base64url = (bytes: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+=*$/, "must be base64url")
    // the decoded size from the length alone: this module also runs in browsers, without Buffer
    .refine(
      (s) => Math.floor((s.replace(/=+$/, "").length * 6) / 8) === bytes,
      `must be ${bytes} bytes in base64url`,
    );
/**
 * (v2.3) `POST /api/push/subscriptions`: a browser's `PushSubscription.toJSON()`. The browser's
 * public key is an uncompressed P-256 point (65 bytes) and its auth secret 16 bytes (RFC 8291).
 */
export const pushSubscribe = z.object({
  endpoint: pushEndpoint,
  expirationTime: z.number().nullable().optional(),
  keys: z.object({ p256dh: base64url(65), auth: base64url(16) }),
});
/** (v2.3) `DELETE /api/push/subscriptions`: the caller's own subscription to remove. */
export const pushUnsubscribe = z.object({ endpoint: pushEndpoint });
/** (v2.3) The caller's notification setting for one room. */
export const roomNotify = z.object({ roomId: entityId, notify: z.enum(["all", "mentions", "none"]) });
/** (v2.4) An IANA time zone the server's `Intl` knows, such as "Europe/Lisbon". */
export const timeZone = z
  .string()
  .max(64)
  .refine(isTimeZone, 'must be an IANA time zone such as "Europe/Lisbon" or "America/Toronto"');
/** (v2.4) A wall-clock time "HH:MM", 00:00 to 23:59. */
const clockTime = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'must be a time such as "08:00"');
/** An end may also be "24:00", the midnight that ends the day. */
const clockEnd = z.union([clockTime, z.literal("24:00")]);
const timeSpan = z
  .tuple([clockTime, clockEnd])
  .refine(([from, to]) => from !== to, "must start and end at different times");
const daySpans = z.array(timeSpan).max(LIMITS.spansPerDayMax);
/** (v2.4) `PUT /api/server/users/:id/schedule`: the same hours every week, or shifts; null removes it. */
export const workSchedule = z.union([
  z.object({
    timeZone,
    weekly: z
      .object({
        mon: daySpans.optional(),
        tue: daySpans.optional(),
        wed: daySpans.optional(),
        thu: daySpans.optional(),
        fri: daySpans.optional(),
        sat: daySpans.optional(),
        sun: daySpans.optional(),
      })
      .strict()
      .refine(
        (week) => Object.values(week).some((spans) => spans !== undefined && spans.length > 0),
        "must have working hours on at least one day (remove the schedule with null instead)",
      ),
  }),
  z.object({
    timeZone,
    shifts: z
      .array(
        z
          .object({ start: z.iso.datetime({ offset: true }), end: z.iso.datetime({ offset: true }) })
          .refine((s) => Date.parse(s.end) > Date.parse(s.start), "a shift must end after it starts"),
      )
      .min(1, "must have at least one shift (remove the schedule with null instead)")
      .max(LIMITS.shiftsMax),
  }),
]);
export const scheduleSet = workSchedule.nullable();
/** (v2.4) A user's quiet hours: every day from `from` to `to` (past midnight when `to` is earlier). */
export const quietHours = z
  .object({ timeZone, from: clockTime, to: clockTime })
  .refine((q) => q.from !== q.to, "from and to must be different times");

/** Whether `Intl` knows the zone (it throws a RangeError for one it doesn't). */
function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return zone.length > 0;
  } catch {
    return false;
  }
}

/**
 * (v2.3) The caller's notification settings; a field left out keeps its value. At least one
 * field is not required: `{}` changes nothing and answers the settings.
 */
export const userPrefsSet = z.custom<object>(isPlainObject, "must be an object such as {}").pipe(
  z.object({
    email: z.enum(["off", "digest"]).optional(),
    emailDelayMin: z.number().int().min(LIMITS.emailDelayMinMin).max(LIMITS.emailDelayMinMax).optional(),
    push: z.boolean().optional(),
    /** (v2.4) null removes them */
    quietHours: quietHours.nullable().optional(),
  }),
);

export type UserSearchInput = z.input<typeof userSearch>;
export type RoomRefInput = z.input<typeof roomRef>;
export type RoomListInput = { limit?: number; cursor?: string; record?: RecordFilter };
/** Which rooms `room:list` gives: on a record (`true`), not on one (`false`), or on a kind of record. */
export type RecordFilter = boolean | { kind: string };
export type RoomRecordInput = z.input<typeof roomRecord>;
export type RoomMembersInput = z.input<typeof roomMembers>;
export type RoomDirectInput = z.input<typeof roomDirect>;
export type RoomCreateInput = z.input<typeof roomCreate>;
export type RoomUpdateInput = z.input<typeof roomUpdate>;
export type RoomAddMembersInput = z.input<typeof roomAddMembers>;
export type RoomSetRoleInput = z.input<typeof roomSetRole>;
export type RoomMemberInput = z.input<typeof roomMember>;
export type MessageSendInput = z.input<typeof messageSend>;
export type MessageHistoryInput = z.input<typeof messageHistory>;
export type MessageChangesInput = z.input<typeof messageChanges>;
export type MessageEditInput = z.input<typeof messageEdit>;
export type MessageRefInput = z.input<typeof messageRef>;
export type MessageReactInput = z.input<typeof messageReact>;
export type MessageSearchInput = z.input<typeof messageSearch>;
export type RoomReadInput = z.input<typeof roomRead>;
export type TypingInput = z.input<typeof typing>;
export type SessionRefreshInput = z.input<typeof sessionRefresh>;
export type PresenceGetInput = z.input<typeof presenceGet>;
export type RoomNotifyInput = z.input<typeof roomNotify>;
export type PresenceVisibilityInput = z.input<typeof presenceVisibility>;
export type PushSubscribeInput = z.input<typeof pushSubscribe>;
export type PushUnsubscribeInput = z.input<typeof pushUnsubscribe>;
export type UserPrefsGetInput = Record<string, never>;
export type UserPrefsSetInput = {
  email?: "off" | "digest";
  emailDelayMin?: number;
  push?: boolean;
  quietHours?: QuietHours | null;
};

/**
 * The schema of every request event, keyed by event name. The server parses each payload with the
 * schema listed here, and the tests read each event's fields from it. `events.ts` checks that its
 * keys are exactly the contract's events, so an event without a schema is a type error.
 */
export const REQUEST_SCHEMAS = {
  "room:list": roomList,
  "room:members": roomMembers,
  "room:get": roomRef,
  "room:record": roomRecord,
  "user:search": userSearch,
  "room:direct": roomDirect,
  "room:create": roomCreate,
  "room:update": roomUpdate,
  "room:addMembers": roomAddMembers,
  "room:setRole": roomSetRole,
  "room:removeMember": roomMember,
  "room:leave": roomRef,
  "message:send": messageSend,
  "message:history": messageHistory,
  "message:changes": messageChanges,
  "message:edit": messageEdit,
  "message:delete": messageRef,
  "message:react": messageReact,
  "message:search": messageSearch,
  "room:read": roomRead,
  "presence:get": presenceGet,
  "presence:visibility": presenceVisibility,
  typing,
  "session:refresh": sessionRefresh,
  "room:notify": roomNotify,
  "user:prefs:get": empty,
  "user:prefs:set": userPrefsSet,
} as const satisfies Record<string, z.ZodType>;

export type RequestSchemas = typeof REQUEST_SCHEMAS;

/** What the schema of `E` hands to its handler once a payload passed. */
export type RequestInput<E extends keyof RequestSchemas> = z.output<RequestSchemas[E]>;

/**
 * The top-level field names a request's payload may carry, read from its schema (through the
 * `room:list` preprocess pipe), for the docs check and the payload tests.
 */
export function requestFields(event: keyof RequestSchemas): string[] {
  return fieldsOf(REQUEST_SCHEMAS[event]);
}

function fieldsOf(schema: z.ZodType): string[] {
  if (schema instanceof z.ZodObject) return Object.keys(schema.shape);
  if (schema instanceof z.ZodPipe) {
    const out = fieldsOf(schema.out as z.ZodType);
    return out.length ? out : fieldsOf(schema.in as z.ZodType);
  }
  return [];
}
