/**
 * The HTTP side of TimeWise Chat: health, readiness, metrics, password sign-in, and the REST
 * routes, which call the same services as the socket events.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { type Authenticator, HandshakeError } from "../auth/handshake.js";
import { LoginFailedError, type LoginService } from "../auth/login.js";
import type { FileService } from "../chat/files/service.js";
import type { MessageService } from "../chat/messages/service.js";
import type { RoomService } from "../chat/rooms/service.js";
import type { FailureCount } from "../limits/address-limits.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";
import { HTTP_STATUS, type ReadyBody, type ReadyDependency } from "../protocol/index.js";
import * as P from "../protocol/payloads.js";
import type { PushSubscriptionService } from "../push/subscriptions.js";
import type { EventLimits } from "../realtime/limits.js";
import type { Actor } from "../shared/actor.js";
import { toErrorBody } from "../shared/error-body.js";
import { parseInput } from "../shared/parse.js";
import { DirectoryUnavailableError, type UserDirectory } from "../users/types.js";
import type { ClientAddresses } from "./client-address.js";
import { receiveUpload } from "./file-upload.js";
import type { OriginPolicy } from "./origins.js";
import { ownOrigin } from "./own-origin.js";
import { matchPath } from "./paths.js";
import { servePushRoute } from "./push-routes.js";
import { readJson, reply, sendError } from "./respond.js";

export interface HttpDeps {
  origins: OriginPolicy;
  /** the client address behind trusted proxies, for per-address limits */
  clientAddresses: ClientAddresses;
  /** `/ready` requests per client address (each pings both databases) */
  readyLimit: FailureCount;
  authenticator: Authenticator;
  login: LoginService;
  rooms: RoomService;
  messages: MessageService;
  files: FileService;
  /** (v2.3) the Web Push key and subscriptions */
  push: PushSubscriptionService;
  /** FILES_MAX_BYTES */
  maxUploadBytes: number;
  limits: EventLimits;
  /** what `/ready` pings besides the directory: the chat store, and Redis on PostgreSQL */
  readyChecks: readonly ReadyProbe[];
  directory: UserDirectory;
  metrics: Metrics;
  logger: Logger;
}

/** One dependency of `/ready`: it is `ok` when `ping` resolves. */
export interface ReadyProbe {
  name: ReadyDependency;
  ping(): Promise<unknown>;
}

/** Query strings carry text, so numbers are converted here (and only here) before validation. */
const numberParam = z
  .string()
  .regex(/^\d{1,16}$/)
  .transform(Number)
  .optional();
const historyQuery = z.object({ beforeSeq: numberParam, afterSeq: numberParam, limit: numberParam });
/** `GET /api/rooms?limit=&cursor=` pages as `room:list` does. */
const roomsQuery = z.object({ limit: numberParam, cursor: z.string().optional() });
const messagesPath = /^\/api\/rooms\/([^/]+)\/messages$/;

export function createRequestHandler(deps: HttpDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      if (!applyCors(req, res, deps.origins)) return;
      const url = new URL(req.url ?? "/", "http://localhost");
      const route = `${req.method} ${url.pathname}`;
      if (route === "GET /health") return reply(res, "GET /health", 200, { status: "ok" });
      if (route === "GET /ready") {
        const wait = await deps.readyLimit.take(deps.clientAddresses.of(req));
        if (wait > 0) {
          return sendError(res, 429, "RATE_LIMITED", "Too many readiness checks from your address.", {
            retryAfterMs: wait,
          });
        }
        return await ready(res, deps);
      }
      if (route === "GET /metrics") {
        res.writeHead(200, { "content-type": deps.metrics.registry.contentType });
        res.end(await deps.metrics.registry.metrics());
        return;
      }
      if (route === "POST /api/login") {
        const body = (await readJson(req)) as { username?: unknown; password?: unknown } | null;
        const ip = deps.clientAddresses.of(req);
        return reply(res, route, 200, await deps.login.login(body?.username, body?.password, ip));
      }
      if (route === "GET /api/rooms") {
        const actor = await authenticate(req, deps);
        await deps.limits.take("reads", actor.id);
        const q = parseInput(roomsQuery, Object.fromEntries(url.searchParams));
        return reply(res, route, 200, await deps.rooms.list(actor, parseInput(P.roomList, q)));
      }
      if (route === "POST /api/files") {
        const actor = await authenticateWithCookie(req, deps);
        // its own allowance (RATE_LIMIT_UPLOADS), counted before a byte of the body is read
        await deps.limits.take("uploads", actor.id);
        const file = await receiveUpload(req, res, actor, deps.files, deps.maxUploadBytes);
        return reply(res, route, 201, { file });
      }
      const pushDeps = {
        push: deps.push,
        limits: deps.limits,
        authenticate: (r: IncomingMessage) => authenticateWithCookie(r, deps),
      };
      if (await servePushRoute(route, req, res, pushDeps)) return;
      const messages = matchPath(messagesPath, url.pathname);
      if (messages && (req.method === "GET" || req.method === "POST")) {
        const actor = await authenticate(req, deps);
        const roomId = messages[0]!;
        if (req.method === "GET") {
          await deps.limits.take("reads", actor.id);
          const q = parseInput(historyQuery, Object.fromEntries(url.searchParams));
          const p = parseInput(P.messageHistory, { roomId, ...q });
          return reply(
            res,
            "GET /api/rooms/:roomId/messages",
            200,
            await deps.messages.history(actor, p.roomId, {
              beforeSeq: p.beforeSeq,
              afterSeq: p.afterSeq,
              limit: p.limit ?? 50,
            }),
          );
        }
        await deps.limits.take("messages", actor.id);
        const body = await readJson(req);
        const p = parseInput(P.messageSend, { ...(isObject(body) ? body : {}), roomId });
        return reply(res, "POST /api/rooms/:roomId/messages", 201, {
          message: await deps.messages.send(actor, p),
        });
      }
      sendError(res, 404, "NOT_FOUND", "There is nothing at this address.");
    } catch (error) {
      if (res.headersSent) return;
      // refused before its body was read (an upload over the allowance, or unsigned): drop the
      // rest and close, rather than read a large body only to throw it away
      if (!req.complete && !req.readableEnded) {
        res.setHeader("connection", "close");
        req.resume();
      }
      if (error instanceof HandshakeError) {
        const { code, retryAfterMs } = error.data;
        const extra = retryAfterMs === undefined ? undefined : { retryAfterMs };
        return sendError(res, HTTP_STATUS[code], code, refusalMessage(error), extra);
      }
      if (error instanceof LoginFailedError) return sendError(res, 401, "AUTH_INVALID", error.message);
      const body = toErrorBody(error, deps.logger, { route: req.url });
      const { code, message, ...extra } = body;
      sendError(res, HTTP_STATUS[code], code, message, extra);
    }
  };
}

async function ready(res: ServerResponse, deps: HttpDeps): Promise<void> {
  const checks: ReadyBody["checks"] = { users: "ok" };
  await Promise.all(
    deps.readyChecks.map(async (probe) => {
      try {
        await probe.ping();
        checks[probe.name] = "ok";
      } catch {
        checks[probe.name] = "unavailable";
      }
    }),
  );
  try {
    await deps.directory.ping();
  } catch (error) {
    checks.users = error instanceof DirectoryUnavailableError ? "unavailable" : "error";
  }
  const ok = Object.values(checks).every((check) => check === "ok");
  reply(res, "GET /ready", ok ? 200 : 503, { status: ok ? "ok" : "unavailable", checks });
}

function authenticate(req: IncomingMessage, deps: HttpDeps): Promise<Actor> {
  if (req.headers.authorization === undefined) return Promise.reject(new HandshakeError("AUTH_REQUIRED"));
  return deps.authenticator.authenticate(undefined, req);
}

/**
 * A Bearer token, or else the PHP session cookie (with an allowed Origin, checked by the
 * authenticator as for sockets), so the chat page can upload with the session it already has.
 */
async function authenticateWithCookie(req: IncomingMessage, deps: HttpDeps): Promise<Actor> {
  if (req.headers.authorization !== undefined) return deps.authenticator.authenticate(undefined, req);
  return (await deps.authenticator.authenticateSocket(undefined, req)).user;
}

/**
 * CORS for the PHP app's pages: the exact origin is echoed back (never `*`), with credentials.
 * A request from an origin outside the list gets 403 before anything else happens.
 */
function applyCors(req: IncomingMessage, res: ServerResponse, origins: OriginPolicy): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (!origins.allows(origin, ownOrigin(req))) {
    sendError(
      res,
      403,
      "FORBIDDEN",
      "This page's address is not allowed to use TimeWise Chat. Add it to CORS_ORIGINS.",
    );
    return false;
  }
  res.setHeader("access-control-allow-origin", origin);
  res.setHeader("access-control-allow-credentials", "true");
  res.setHeader("vary", "Origin");
  if (req.method === "OPTIONS") {
    res.writeHead(204, {
      "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
      "access-control-allow-headers": "authorization, content-type",
      "access-control-max-age": "600",
    });
    res.end();
    return false;
  }
  return true;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function refusalMessage(error: HandshakeError): string {
  switch (error.data.code) {
    case "AUTH_REQUIRED":
      return "Sign in first: send a token as 'Authorization: Bearer <token>'.";
    case "AUTH_EXPIRED":
      return "Your sign-in has expired. Please sign in again.";
    case "AUTH_UNAVAILABLE":
      return "Sign-in is not possible right now. Please try again soon.";
    case "USER_DISABLED":
      return "This account is disabled.";
    case "RATE_LIMITED":
      return "Too many attempts from your address. Please wait and try again.";
    default:
      return "Your sign-in is not valid. Please sign in again.";
  }
}
