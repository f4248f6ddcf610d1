/**
 * The JSON bodies the HTTP routes answer with (PROTOCOL.md §HTTP, and the server API for the PHP
 * back end), one named type each. `HttpResponses` maps every route to its body, and the server
 * sends through `reply(res, route, …)`, so a handler that sends another shape fails the type check
 * and the web UI reads the same types it is sent.
 */
import type { AuthErrorCode, ErrorBody, ErrorCode } from "./errors.js";
import type { Requests } from "./events.js";
import type { ChatFile, Message, SharedRoom, User, WorkSchedule } from "./types.js";

/** `GET /health`: the process is up. */
export interface HealthBody {
  status: "ok";
}

/** One dependency as `/ready` found it: `error` when the user directory failed in an unknown way. */
export type ReadyCheck = "ok" | "unavailable" | "error";

/** The dependencies `/ready` checks besides the user directory (`users`). */
export type ReadyDependency = "sqlite" | "database" | "redis" | "files";

/**
 * `GET /ready`: 200 with `ok` when every dependency answers, 503 with `unavailable` otherwise.
 * `sqlite` on SQLite; `database` (the PostgreSQL chat store) and, with REDIS_URL, `redis` on
 * PostgreSQL (v2.1); `files`, the file store (the disk folder writable, or the S3 bucket answering).
 */
export interface ReadyBody {
  status: "ok" | "unavailable";
  checks: { [D in ReadyDependency]?: ReadyCheck } & { users: ReadyCheck };
}

/** `POST /api/login`: a chat token for the user whose password matched. */
export interface LoginBody {
  token: string;
  user: User;
}

/** `GET /api/rooms`: a page of rooms, as `room:list` answers. */
export type RoomPageBody = Requests["room:list"]["result"];

/** `GET /api/rooms/:roomId/messages`: a page of history, as `message:history` answers. */
export type HistoryBody = Requests["message:history"]["result"];

/** `POST /api/rooms/:roomId/messages` and `POST /api/server/messages`: the stored message. */
export interface MessageBody {
  message: Message;
}

/** `GET /api/server/rooms/:externalKey`: a mirrored room as everyone in it sees it. */
/** (v2.3) `GET /api/push/key`: the VAPID public key a browser subscribes with (`applicationServerKey`). */
export interface PushKeyBody {
  publicKey: string;
}

/** (v2.3) `POST /api/push/subscriptions` (201): the subscription is kept; `DELETE` answers 204 with no body. */
export interface PushSubscribedBody {
  endpoint: string;
}

/** `POST /api/files`: the upload, ready to be sent with `message:send`'s `fileIds`. */
export interface FileBody {
  file: ChatFile;
}

export interface SharedRoomBody {
  room: SharedRoom;
}

/** `PUT /api/server/rooms/:externalKey`: the mirrored room after the sync, and what changed. */
export interface RoomSyncBody {
  room: SharedRoom;
  /** true (and status 201) when this call created the room */
  created: boolean;
  changed: boolean;
  /** user ids added to and removed from the room by this call */
  added: string[];
  removed: string[];
  /** disabled users left out of the room */
  skipped: string[];
}

/**
 * `PUT /api/server/records/:kind/:recordId`: the record's room after the sync (PROTOCOL v2.4 asks
 * for `{ room }`; the rest says what changed, as for a mirrored room).
 */
export type RecordSyncBody = RoomSyncBody;

/** `GET /api/server/users/:userId/unread`: the navbar badge; rooms with nothing unread are left out. */
export interface UnreadBody {
  userId: string;
  total: number;
  /** (v2.3) unread messages that mention the user (or everyone), over all rooms */
  mentions: number;
  rooms: { roomId: string; unread: number; mentions: number }[];
}

/** `POST /api/server/tokens`: a chat token minted for a user. */
export interface TokenBody {
  token: string;
  expiresAt: string;
  user: User;
}

/** `POST /api/server/users/:userId/disconnect`: tokens issued before this time are refused. */
export interface DisconnectBody {
  revokedBefore: string;
}

/** Every failed HTTP call, whatever the route: the error object an ack carries, or a sign-in refusal. */
export interface HttpErrorBody {
  error: Omit<ErrorBody, "code"> & { code: ErrorCode | AuthErrorCode };
}

/** (v2.4) `PUT /api/server/users/:userId/schedule`: the schedule kept, and what it means right now. */
export interface ScheduleBody {
  userId: string;
  schedule: WorkSchedule | null;
  available: boolean;
  availableAt: string | null;
}

/** (v2.4) `GET /api/server/urgent`: urgent messages, oldest first. */
export interface UrgentBody {
  urgent: { messageId: string; roomId: string; senderId: string; at: string }[];
}

/** Each HTTP route and the body of its successful answer. */
/** (v2.4) `GET /api/server/audit`: server API changes, oldest first. */
export interface AuditBody {
  entries: { id: string; at: string; action: string; target: string; details: Record<string, unknown> }[];
}

export interface HttpResponses {
  "GET /health": HealthBody;
  "GET /ready": ReadyBody;
  "POST /api/login": LoginBody;
  "GET /api/rooms": RoomPageBody;
  "GET /api/rooms/:roomId/messages": HistoryBody;
  "POST /api/rooms/:roomId/messages": MessageBody;
  "POST /api/files": FileBody;
  "POST /api/server/users/:userId/files": FileBody;
  "POST /api/server/messages": MessageBody;
  "POST /api/server/tokens": TokenBody;
  "GET /api/server/rooms/:externalKey": SharedRoomBody;
  "PUT /api/server/rooms/:externalKey": RoomSyncBody;
  "PUT /api/server/records/:kind/:recordId": RecordSyncBody;
  "GET /api/server/users/:userId/unread": UnreadBody;
  "POST /api/server/users/:userId/disconnect": DisconnectBody;
  "GET /api/server/audit": AuditBody;
  "PUT /api/server/rooms/:roomId/retention": { roomId: string; days: number | null };
  "DELETE /api/server/users/:userId/messages": { deleted: number };
  "PUT /api/server/users/:userId/schedule": ScheduleBody;
  "GET /api/server/urgent": UrgentBody;
  "GET /api/push/key": PushKeyBody;
  "POST /api/push/subscriptions": PushSubscribedBody;
}

export type HttpRoute = keyof HttpResponses;
