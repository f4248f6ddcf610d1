/**
 * Type-level checks of the HTTP bodies in the contract module, compiled by `npm run typecheck`
 * (not run). Every route has a named body, and a handler that answers with another shape through
 * `reply` fails the build here as it would in `src/http/`.
 */
import type { ServerResponse } from "node:http";
import { reply } from "../../src/http/respond.js";
import type {
  HttpResponses,
  HttpRoute,
  LoginBody,
  Message,
  Requests,
  SharedRoom,
  UnreadBody,
  User,
} from "../../src/protocol/index.js";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_: T): void {}

// every route of PROTOCOL.md §HTTP and of the server API, and no other
expectType<
  Equal<
    HttpRoute,
    | "GET /health"
    | "GET /ready"
    | "POST /api/login"
    | "GET /api/rooms"
    | "GET /api/rooms/:roomId/messages"
    | "POST /api/rooms/:roomId/messages"
    | "POST /api/files"
    | "POST /api/server/messages"
    | "POST /api/server/tokens"
    | "GET /api/server/rooms/:externalKey"
    | "PUT /api/server/rooms/:externalKey"
    | "PUT /api/server/records/:kind/:recordId"
    | "GET /api/server/users/:userId/unread"
    | "POST /api/server/users/:userId/disconnect"
    | "POST /api/server/users/:userId/files"
    | "GET /api/server/audit"
    | "PUT /api/server/rooms/:roomId/retention"
    | "DELETE /api/server/users/:userId/messages"
    | "PUT /api/server/users/:userId/schedule"
    | "GET /api/server/urgent"
    | "GET /api/push/key"
    | "POST /api/push/subscriptions"
  >
>(true);

// the HTTP twins of socket events answer exactly what the event's ack adds
expectType<Equal<HttpResponses["GET /api/rooms"], Requests["room:list"]["result"]>>(true);
expectType<Equal<HttpResponses["GET /api/rooms/:roomId/messages"], Requests["message:history"]["result"]>>(
  true,
);
expectType<Equal<HttpResponses["POST /api/rooms/:roomId/messages"], Requests["message:send"]["result"]>>(
  true,
);
expectType<Equal<LoginBody, { token: string; user: User }>>(true);
expectType<Equal<HttpResponses["GET /api/server/rooms/:externalKey"]["room"], SharedRoom>>(true);
expectType<Equal<UnreadBody["rooms"][number], { roomId: string; unread: number; mentions: number }>>(true);

export function checks(res: ServerResponse, message: Message): void {
  reply(res, "POST /api/rooms/:roomId/messages", 201, { message });
  // @ts-expect-error a sign-in answer carries the user too
  reply(res, "POST /api/login", 200, { token: "t" });
  // @ts-expect-error the message is wrapped in `{ message }`, as message:send acks it
  reply(res, "POST /api/server/messages", 201, message);
  // @ts-expect-error a route the contract does not name has no body type
  reply(res, "GET /api/nowhere", 200, {});
}
