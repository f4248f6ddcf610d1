/**
 * The server-to-server API for the PHP back end, under `/api/server/`. It exists only when a key
 * is configured (SERVICE_API_KEY, full access, or the scoped SERVER_API_KEYS; otherwise every route
 * answers 404, as for an unknown address), and every call must carry `Authorization: Bearer <key>`,
 * compared in constant time. A key without the route's scope is 403. Wrong keys are counted per
 * address: past WRONG_KEYS_PER_MINUTE, that address gets 429 with Retry-After, right key or not,
 * so keys cannot be guessed at speed. Browsers are turned away (a request with an Origin header is
 * 403): the key belongs on the server.
 *
 *   POST /api/server/users/:userId/files       upload a file as the user (multipart, part `file`)
 *   POST /api/server/messages                  post into a room, as a user or as TimeWise (system)
 *   PUT  /api/server/rooms/:externalKey        create or update a mirrored group room (idempotent)
 *   GET  /api/server/rooms/:externalKey        a mirrored room
 *   PUT  /api/server/records/:kind/:recordId   attach a conversation to a record, sync its members
 *   GET  /api/server/users/:userId/unread      unread total and per room (the navbar badge)
 *   POST /api/server/tokens                    mint a chat token for a user
 *   POST /api/server/users/:userId/disconnect  close the user's sockets now and revoke their tokens
 *   PUT  /api/server/rooms/:roomId/retention   (v2.4) a room's own retention { days | null }
 *   GET  /api/server/users/:userId/export      (v2.4) the user's messages and files, as a ZIP
 *   DELETE /api/server/users/:userId/messages  (v2.4) delete every message the user sent
 *   GET  /api/server/audit?since=&after=&limit= (v2.4) the audit log, oldest first
 *
 * Every route that changes data records one audit entry (`audit(...)`), never with secrets.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type RateLimiterLike, RateLimiterRes } from "rate-limiter-flexible";
import { z } from "zod";
import type { TokenService } from "../auth/tokens.js";
import type { FileBytes } from "../chat/files/bytes.js";
import type { FileService } from "../chat/files/service.js";
import type { MessageService } from "../chat/messages/service.js";
import { SYSTEM_SENDER } from "../chat/messages/system.js";
import type { RecordService } from "../chat/records/service.js";
import { eraseMessagesOf } from "../chat/retention/service.js";
import type { RoomSyncService } from "../chat/rooms/sync.js";
import { sharedRoom, unreadOf } from "../chat/rooms/view.js";
import type { Config } from "../config/index.js";
import type { ServerApiKey } from "../config/server-api-keys.js";
import { AppError, badRequest, notFound } from "../errors.js";
import type { FileLinks } from "../files/links.js";
import type { FileStore } from "../files/store.js";
import { createLimiter, type SharedCounts } from "../limits/limiter.js";
import type { Logger } from "../logger.js";
import { HTTP_STATUS, LIMITS, type UnreadBody } from "../protocol/index.js";
import * as P from "../protocol/payloads.js";
import type { Fanout } from "../realtime/fanout.js";
import { toErrorBody } from "../shared/error-body.js";
import { parseInput } from "../shared/parse.js";
import type { AsyncChatStore } from "../storage/async-chat-store.js";
import type { UserDirectory } from "../users/types.js";
import type { ClientAddresses } from "./client-address.js";
import { receiveUpload } from "./file-upload.js";
import { matchPath } from "./paths.js";
import { readJson, reply, sendError } from "./respond.js";
import { allows, keyRing } from "./service-key.js";
import { sendUserExport } from "./user-export.js";

export interface ServerApiDeps {
  config: Config;
  tokens: TokenService;
  directory: UserDirectory;
  store: AsyncChatStore;
  messages: MessageService;
  /** uploads on behalf of a user, with the same limits and quota as theirs */
  files: FileService;
  /** FILES_MAX_BYTES */
  maxUploadBytes: number;
  roomSync: RoomSyncService;
  records: RecordService;
  fanout: Fanout;
  /** file links in answers are signed for the system user: the PHP back end is the reader */
  links: FileLinks;
  logger: Logger;
  /** with several nodes: wrong keys are counted across them */
  shared?: SharedCounts | undefined;
  /** the caller's address behind TRUST_PROXY, so wrong keys are counted per client, not per proxy */
  clientAddresses: ClientAddresses;
  /** (v2.4) erasure removes files' bytes; export reads them */
  fileBytes: Pick<FileBytes, "remove">;
  fileStore: Pick<FileStore, "get">;
  /** the app's clock: token times and wrong-key windows (default Date.now) */
  now?: () => number;
}

/** Wrong keys one address may send per minute before it is refused outright. */
export const WRONG_KEYS_PER_MINUTE = 10;

export const SERVER_API_PREFIX = "/api/server/";

/** Keys the PHP app chooses for mirrored rooms: `team:42`, `dept:sales`, `project:9`. */
const externalKey = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,100}$/, "must be 1-100 letters, digits or _ . : - (such as team:42)");
const memberList = z.array(P.userId).max(5000);

const postMessage = z
  .object({
    roomId: P.entityId.optional(),
    roomKey: externalKey.optional(),
    /** a user id, or absent/null for TimeWise itself */
    senderId: P.userId.nullish(),
    body: P.messageSend.shape.body,
    clientId: P.messageSend.shape.clientId,
    replyToId: P.messageSend.shape.replyToId,
    /** files the sender uploaded (POST /api/server/users/:userId/files), not attached yet */
    fileIds: P.messageSend.shape.fileIds,
  })
  .refine(
    (p) => (p.roomId === undefined) !== (p.roomKey === undefined),
    "give exactly one of roomId and roomKey",
  );
const upsertRoom = z.object({
  name: P.roomCreate.shape.name,
  memberIds: memberList.min(1),
  ownerId: P.userId.optional(),
  adminIds: memberList.optional(),
});
/** A record's conversation: the title it is named after, its link back, exactly its members. */
const attachRecord = z.object({
  title: P.roomCreate.shape.name,
  url: z
    .string()
    .max(LIMITS.recordUrlMax)
    .refine(isWebLink, "must be an http:// or https:// address (the record's page in TimeWise)"),
  memberIds: memberList.min(1),
});
const mintToken = z.object({ userId: P.userId, ttlS: z.number().int().min(60).max(31_536_000).optional() });

const roomPath = /^\/api\/server\/rooms\/([^/]+)$/;
const recordPath = /^\/api\/server\/records\/([^/]+)\/([^/]+)$/;
const userPath = /^\/api\/server\/users\/([^/]+)\/(unread|disconnect|files|export|messages)$/;
const retentionPath = /^\/api\/server\/rooms\/([^/]+)\/retention$/;
const setRetention = z.object({ days: z.number().int().min(1).max(36_500).nullable() });
const auditQuery = z.object({
  since: z.iso.datetime().optional(),
  after: P.entityId.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export function createServerApi(deps: ServerApiDeps) {
  const keys = deps.config.serverApiKeys;
  const findKey = keys.length === 0 ? null : keyRing(keys);
  const wrongKeys = createLimiter(
    { name: "server-api-wrong-keys", points: WRONG_KEYS_PER_MINUTE, seconds: 60 },
    deps.shared,
    deps.now,
  );
  const now = deps.now ?? Date.now;
  /** One line at each route that changes data: what, on what, and details without secrets. */
  const audit = (action: string, target: string, details: Record<string, unknown> = {}) =>
    deps.store.appendAudit({ at: new Date(now()).toISOString(), action, target, details });

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      if (findKey === null) return sendError(res, 404, "NOT_FOUND", "There is nothing at this address.");
      if (req.headers.origin !== undefined) {
        return sendError(res, 403, "FORBIDDEN", "The server API is for the PHP back end, not for web pages.");
      }
      const key = await authorize(req, deps.clientAddresses.of(req), findKey, wrongKeys, deps.logger);
      const url = new URL(req.url ?? "/", "http://localhost");
      const route = `${req.method} ${url.pathname}`;
      const need = (scope: Parameters<typeof allows>[1]) => {
        if (allows(key, scope)) return;
        deps.logger.warn({ key: key.name, scope }, "server API call outside its key's scopes");
        throw new AppError("FORBIDDEN", `This key may not do that: it needs the "${scope}" scope.`);
      };

      if (route === "POST /api/server/messages") {
        need("messages");
        const p = parseInput(postMessage, await readJson(req));
        const roomId = p.roomId ?? (await deps.store.roomByExternalKey(p.roomKey!))?.id;
        if (roomId === undefined) throw notFound();
        // a file belongs to the user who uploaded it, and TimeWise itself uploads none
        if (p.senderId == null && p.fileIds !== undefined && p.fileIds.length > 0) {
          throw badRequest("fileIds: files are sent by the user who uploaded them; give their senderId.");
        }
        const input = {
          roomId,
          body: p.body,
          clientId: p.clientId,
          replyToId: p.replyToId,
          fileIds: p.fileIds,
        };
        const message =
          p.senderId == null
            ? await deps.messages.sendAsSystem(input)
            : await deps.messages.send(await activeUser(deps, p.senderId), input);
        await audit("messages.post", `room:${roomId}`, {
          messageId: message.id,
          senderId: p.senderId ?? null,
        });
        return reply(res, route, 201, { message });
      }
      if (route === "POST /api/server/tokens") {
        need("tokens");
        const p = parseInput(mintToken, await readJson(req));
        const user = await activeUser(deps, p.userId);
        // After a disconnect, tokens issued in that same second are refused: mint past it.
        const revoked = await deps.store.tokensRevokedBefore(user.id);
        const nowS = Math.floor(now() / 1000);
        const iat = revoked !== null && revoked >= nowS ? revoked + 1 : nowS;
        const ttlS = Math.min(p.ttlS ?? deps.config.auth.loginTokenTtlS, deps.config.auth.maxTtlS);
        const token = await deps.tokens.sign(user.id, ttlS, iat);
        // the token itself is a secret: only who and for how long
        await audit("tokens.mint", `user:${user.id}`, { ttlS });
        return reply(res, route, 200, {
          token,
          expiresAt: new Date((iat + ttlS) * 1000).toISOString(),
          user: { id: user.id, name: user.name },
        });
      }
      if (route === "GET /api/server/audit") {
        need("rooms");
        const q = parseInput(auditQuery, Object.fromEntries(url.searchParams));
        const entries = await deps.store.auditEntries({ since: q.since, afterId: q.after, limit: q.limit });
        return reply(res, route, 200, { entries });
      }
      const retention = matchPath(retentionPath, url.pathname);
      if (retention && req.method === "PUT") {
        need("rooms");
        const roomId = parseInput(P.entityId, retention[0]!);
        const p = parseInput(setRetention, await readJson(req));
        await deps.store.setRoomRetention(roomId, p.days);
        await audit("rooms.retention", `room:${roomId}`, { days: p.days });
        return reply(res, "PUT /api/server/rooms/:roomId/retention", 200, { roomId, days: p.days });
      }
      const room = matchPath(roomPath, url.pathname);
      if (room && (req.method === "PUT" || req.method === "GET")) {
        need("rooms");
        const externalKeyValue = parseInput(externalKey, room[0]!);
        if (req.method === "GET") {
          const found = await deps.store.roomByExternalKey(externalKeyValue);
          if (!found) throw notFound();
          return reply(res, "GET /api/server/rooms/:externalKey", 200, {
            room: deps.links.room(await sharedRoom(found, deps.store), SYSTEM_SENDER.id),
          });
        }
        const p = parseInput(upsertRoom, await readJson(req));
        const result = await deps.roomSync.sync({ externalKey: externalKeyValue, ...p });
        await audit("rooms.sync", `room:${result.room.id}`, {
          externalKey: externalKeyValue,
          created: result.created,
        });
        return reply(res, "PUT /api/server/rooms/:externalKey", result.created ? 201 : 200, {
          ...result,
          room: deps.links.room(result.room, SYSTEM_SENDER.id),
        });
      }
      const record = matchPath(recordPath, url.pathname);
      if (record && req.method === "PUT") {
        need("rooms");
        const kind = parseInput(P.recordKind, record[0]!);
        const recordId = parseInput(P.recordId, record[1]!);
        const p = parseInput(attachRecord, await readJson(req));
        const result = await deps.records.attach({ kind, recordId, ...p });
        await audit("records.attach", `room:${result.room.id}`, { kind, recordId, created: result.created });
        return reply(res, "PUT /api/server/records/:kind/:recordId", result.created ? 201 : 200, {
          ...result,
          room: deps.links.room(result.room, SYSTEM_SENDER.id),
        });
      }
      const user = matchPath(userPath, url.pathname);
      if (user) {
        const userId = parseInput(P.userId, user[0]!);
        if (user[1] === "unread" && req.method === "GET") {
          need("unread");
          return reply(res, "GET /api/server/users/:userId/unread", 200, await unread(deps.store, userId));
        }
        if (user[1] === "files" && req.method === "POST") {
          need("messages");
          // the same upload as the user's own POST /api/files: streamed, their limits and quota
          const file = await receiveUpload(
            req,
            res,
            await activeUser(deps, userId),
            deps.files,
            deps.maxUploadBytes,
          );
          await audit("files.upload", `user:${userId}`, { fileId: file.id, size: file.size });
          return reply(res, "POST /api/server/users/:userId/files", 201, { file });
        }
        if (user[1] === "disconnect" && req.method === "POST") {
          need("disconnect");
          const revokedBefore = await deps.store.revokeTokens(userId, Math.floor(now() / 1000));
          deps.fanout.disconnectUser(userId);
          deps.logger.info({ userId }, "user disconnected by the server API");
          await audit("users.disconnect", `user:${userId}`);
          return reply(res, "POST /api/server/users/:userId/disconnect", 200, {
            revokedBefore: new Date(revokedBefore * 1000).toISOString(),
          });
        }
        if (user[1] === "export" && req.method === "GET") {
          need("messages");
          await audit("users.export", `user:${userId}`);
          return sendUserExport(res, userId, {
            store: deps.store,
            files: deps.fileStore,
            logger: deps.logger,
          });
        }
        if (user[1] === "messages" && req.method === "DELETE") {
          need("messages");
          const deleted = await eraseMessagesOf(
            { store: deps.store, bytes: deps.fileBytes, fanout: deps.fanout, now },
            userId,
          );
          await audit("users.erase", `user:${userId}`, { deleted });
          return reply(res, "DELETE /api/server/users/:userId/messages", 200, { deleted });
        }
      }
      sendError(res, 404, "NOT_FOUND", "There is nothing at this address.");
    } catch (error) {
      if (res.headersSent) return;
      // refused before its body was read (an upload for an unknown user, a key without the
      // scope): drop the rest and close, rather than leave the client writing into nothing
      if (!req.complete && !req.readableEnded) {
        res.setHeader("connection", "close");
        req.resume();
      }
      if (error instanceof KeyError) return sendError(res, 401, error.code, error.message);
      if (error instanceof Throttled) {
        return sendError(res, 429, "RATE_LIMITED", error.message, { retryAfterMs: error.retryAfterMs });
      }
      const { code, message, ...extra } = toErrorBody(error, deps.logger, { route: req.url });
      sendError(res, HTTP_STATUS[code], code, message, extra);
    }
  };
}

/** An absolute http or https address, so a record's link can never run script (`javascript:`). */
function isWebLink(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol, username, password } = new URL(value);
  return (protocol === "http:" || protocol === "https:") && username === "" && password === "";
}

/**
 * The badge: unread messages and mentions in total and per room (rooms with none are left out).
 * Two reads: the rooms, then the mention counts of those with something unread.
 */
async function unread(store: AsyncChatStore, userId: string): Promise<UnreadBody> {
  const unreadRooms = (await store.roomsOf(userId))
    .map((state) => ({ roomId: state.id, unread: unreadOf(userId, state).unread }))
    .filter((r) => r.unread > 0);
  const views = await store.memberViews(
    userId,
    unreadRooms.map((r) => r.roomId),
  );
  const rooms = unreadRooms.map((r) => ({ ...r, mentions: views.get(r.roomId)?.mentions ?? 0 }));
  return {
    userId,
    total: rooms.reduce((sum, r) => sum + r.unread, 0),
    mentions: rooms.reduce((sum, r) => sum + r.mentions, 0),
    rooms,
  };
}

async function activeUser(deps: ServerApiDeps, userId: string) {
  const user = await deps.directory.findById(userId);
  if (!user?.active) throw notFound("user");
  return { id: user.id, name: user.name, scope: user.scope };
}

class KeyError extends Error {
  constructor(readonly code: "AUTH_REQUIRED" | "AUTH_INVALID") {
    super(
      code === "AUTH_REQUIRED"
        ? "Send the service key as 'Authorization: Bearer <SERVICE_API_KEY>'."
        : "The service key is not valid.",
    );
  }
}

/** Too many wrong keys from this address. */
class Throttled extends Error {
  constructor(readonly retryAfterMs: number) {
    super("Too many wrong keys from this address. Wait, then try again with the right key.");
  }
}

/**
 * The key the call carries, or an error: 429 while its address is throttled (checked before the
 * key, so a guess during the wait tells nothing), 401 for a missing or wrong key, which counts.
 */
async function authorize(
  req: IncomingMessage,
  ip: string,
  findKey: (presented: string) => ServerApiKey | null,
  wrongKeys: RateLimiterLike,
  logger: Logger,
): Promise<ServerApiKey> {
  const counted = await wrongKeys.get(ip);
  if (counted !== null && counted.consumedPoints >= WRONG_KEYS_PER_MINUTE) {
    throw new Throttled(Math.max(1000, counted.msBeforeNext));
  }
  const header = req.headers.authorization;
  if (header === undefined) throw new KeyError("AUTH_REQUIRED");
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  const key = match ? findKey(match[1]!) : null;
  if (key) return key;
  logger.warn({ ip }, "server API call with a wrong key");
  await wrongKeys.consume(ip).catch((error: unknown) => {
    if (!(error instanceof RateLimiterRes)) throw error;
  });
  throw new KeyError("AUTH_INVALID");
}
