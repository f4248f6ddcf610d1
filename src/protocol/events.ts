/**
 * The event map of the contract. Socket.io's generics take these, so every `emit` and `on` in the
 * server, the SDK and the UI is checked against one definition.
 */
import type { Ack, SessionEndedCode } from "./errors.js";
import type * as P from "./payloads.js";
import type { Member, Message, Presence, Room, SharedRoom, User, UserPrefs } from "./types.js";

/** Every request event: what the client sends and what a successful ack adds to `{ ok: true }`. */
export interface Requests {
  /** `next` is the cursor of the following page, or null on the last one */
  "room:list": { input: P.RoomListInput; result: { rooms: Room[]; next: string | null } };
  "room:members": { input: P.RoomMembersInput; result: { members: Member[]; next: string | null } };
  "room:get": { input: P.RoomRefInput; result: { room: Room } };
  /** (v2.4) the room of a TimeWise record, for a member of it; NOT_FOUND for anyone else */
  "room:record": { input: P.RoomRecordInput; result: { room: Room } };
  "user:search": { input: P.UserSearchInput; result: { users: User[] } };
  "room:direct": { input: P.RoomDirectInput; result: { room: Room } };
  "room:create": { input: P.RoomCreateInput; result: { room: Room } };
  "room:update": { input: P.RoomUpdateInput; result: { room: Room } };
  "room:addMembers": { input: P.RoomAddMembersInput; result: { room: Room } };
  "room:setRole": { input: P.RoomSetRoleInput; result: { room: Room } };
  "room:removeMember": { input: P.RoomMemberInput; result: { room: Room } };
  "room:leave": { input: P.RoomRefInput; result: Record<string, never> };
  "message:send": { input: P.MessageSendInput; result: { message: Message } };
  "message:history": { input: P.MessageHistoryInput; result: { messages: Message[]; hasMore: boolean } };
  "message:changes": {
    input: P.MessageChangesInput;
    result: { messages: Message[]; rev: number; hasMore: boolean };
  };
  "message:edit": { input: P.MessageEditInput; result: { message: Message } };
  "message:delete": { input: P.MessageRefInput; result: { message: Message } };
  "message:react": { input: P.MessageReactInput; result: { message: Message } };
  "message:search": { input: P.MessageSearchInput; result: { messages: Message[] } };
  "room:read": { input: P.RoomReadInput; result: { readSeq: number } };
  "presence:get": { input: P.PresenceGetInput; result: { presence: Record<string, Presence> } };
  /**
   * (extension) whether this tab is visible now; a socket counts as visible only after it said
   * `visible: true`, so a tab that never says so (a background one) gets pushes
   */
  "presence:visibility": { input: P.PresenceVisibilityInput; result: Record<string, never> };
  typing: { input: P.TypingInput; result: Record<string, never> };
  /** (extension) a fresh token for the same user, so a live socket outlives its first token */
  "session:refresh": { input: P.SessionRefreshInput; result: { expiresAt: string } };
  /** (v2.3) the caller's notification setting for a room */
  "room:notify": { input: P.RoomNotifyInput; result: { room: Room } };
  /** (v2.3) the caller's notification settings, defaults filled in */
  "user:prefs:get": { input: P.UserPrefsGetInput; result: { prefs: UserPrefs } };
  "user:prefs:set": { input: P.UserPrefsSetInput; result: { prefs: UserPrefs } };
}

export type RequestEvent = keyof Requests;

/** The names of every request event, for code that iterates over them (tests, the SDK). */
export const REQUEST_EVENTS = [
  "room:list",
  "room:members",
  "room:get",
  "room:record",
  "user:search",
  "room:direct",
  "room:create",
  "room:update",
  "room:addMembers",
  "room:setRole",
  "room:removeMember",
  "room:leave",
  "message:send",
  "message:history",
  "message:changes",
  "message:edit",
  "message:delete",
  "message:react",
  "message:search",
  "room:read",
  "presence:get",
  "presence:visibility",
  "typing",
  "session:refresh",
  "room:notify",
  "user:prefs:get",
  "user:prefs:set",
] as const satisfies readonly RequestEvent[];

/** Fails the type check when an event of `Requests` is missing from REQUEST_EVENTS. */
type MissingFromList = Exclude<RequestEvent, (typeof REQUEST_EVENTS)[number]>;
const everyEventListed: [MissingFromList] extends [never] ? true : MissingFromList = true;
void everyEventListed;

/** Fails the type check unless REQUEST_SCHEMAS has a schema for exactly the events of `Requests`. */
type SchemaGap =
  | Exclude<RequestEvent, keyof P.RequestSchemas>
  | Exclude<keyof P.RequestSchemas, RequestEvent>;
const everyEventHasASchema: [SchemaGap] extends [never] ? true : SchemaGap = true;
void everyEventHasASchema;

/** Client→server events. The ack is optional only for `typing` and `presence:visibility`. */
export type ClientToServerEvents = {
  [E in Exclude<RequestEvent, "typing" | "presence:visibility">]: (
    payload: Requests[E]["input"],
    ack: (response: Ack<Requests[E]["result"]>) => void,
  ) => void;
} & {
  typing: (payload: P.TypingInput, ack?: (response: Ack<Record<string, never>>) => void) => void;
  "presence:visibility": (
    payload: P.PresenceVisibilityInput,
    ack?: (response: Ack<Record<string, never>>) => void,
  ) => void;
};

/** Server→client events. */
export interface ServerToClientEvents {
  /**
   * `expiresAt` (extension): when the socket's token expires (ISO time), null for a cookie socket.
   * Refresh with `session:refresh` before then, or the server ends the session.
   */
  session: (payload: { user: User; expiresAt?: string | null }) => void;
  /**
   * (extension) The server is ending this connection: the token expired or was revoked, the user
   * was disabled, deleted or moved to another scope, or the PHP session ended. Sent just before the
   * disconnect; reconnect with a fresh token (for AUTH_EXPIRED, SCOPE_CHANGED) or sign out.
   */
  "session:ended": (payload: { code: SessionEndedCode }) => void;
  "message:new": (message: Message) => void;
  "message:updated": (message: Message) => void;
  "message:deleted": (message: Message) => void;
  "room:updated": (room: SharedRoom) => void;
  "room:removed": (payload: { roomId: string }) => void;
  "room:read": (payload: { roomId: string; userId: string; seq: number }) => void;
  typing: (payload: { roomId: string; userId: string; typing: boolean }) => void;
  presence: (payload: { userId: string } & Presence) => void;
}
