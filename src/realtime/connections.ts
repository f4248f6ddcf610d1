/**
 * The life of a connection: authenticated at the handshake, joined to its user's and rooms'
 * channels, told its `session`, and on the way out counted off presence and typing.
 */
import { type Authenticator, HandshakeError } from "../auth/handshake.js";
import type { PresenceService } from "../chat/presence/service.js";
import { scopeKey } from "../chat/scopes.js";
import type { TypingService } from "../chat/typing/service.js";
import type { ClientAddresses } from "../http/client-address.js";
import type { FailureCount } from "../limits/address-limits.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";
import type { HandshakeErrorData } from "../protocol/index.js";
import type { AsyncChatStore } from "../storage/async-chat-store.js";
import { roomChannel, roomScopeChannel, userChannel } from "./fanout.js";
import { type HandlerRuntime, type HandlerTable, registerHandlers } from "./handler.js";
import { limitQueuedBytes } from "./outbound-limit.js";
import type { ChatServer, ServerSocket } from "./types.js";

export interface ConnectionDeps {
  io: ChatServer;
  authenticator: Authenticator;
  store: AsyncChatStore;
  presence: PresenceService;
  typing: TypingService;
  handlers: HandlerTable;
  runtime: HandlerRuntime;
  logger: Logger;
  metrics: Metrics;
  maxSocketsPerUser: number;
  /** called for every accepted socket (the re-check starts its token-expiry timer) */
  onConnected?: (socket: ServerSocket) => void;
  /** caps refused handshakes per client address */
  refusedHandshakes?: { addresses: ClientAddresses; count: FailureCount };
  /** MAX_QUEUED_BYTES */
  maxQueuedBytes: number;
  /** USERS_SCOPE_COLUMN is set: sockets join their scope's channel of each room too */
  scoped: boolean;
}

export function acceptConnections(deps: ConnectionDeps): void {
  const { io, store, metrics } = deps;
  const socketsPerUser = new Map<string, number>();
  const roomsAtConnect = new WeakMap<ServerSocket, ReadonlySet<string>>();
  // a client that stops reading is dropped before its queue grows without bound, and is refused
  // new requests while their answers pile up
  const outbound = limitQueuedBytes(io, deps.logger, deps.maxQueuedBytes);
  const runtime: HandlerRuntime = { ...deps.runtime, backlogged: outbound.backlogged };

  const cap = deps.refusedHandshakes;
  io.use((socket, next) => {
    const address = cap?.addresses.of(socket.request) ?? "";
    // an address with too many refusals is refused before any token check or directory lookup
    const waited = cap ? cap.count.wait(address) : Promise.resolve(0);
    const identified = waited.then((wait) => {
      if (wait > 0) {
        metrics.authRefusals.inc({ code: "RATE_LIMITED" });
        throw new HandshakeError("RATE_LIMITED", wait);
      }
      return deps.authenticator
        .authenticateSocket(socket.handshake.auth, socket.request)
        .catch(async (error: unknown) => {
          // the client's fault (a bad token or cookie) counts; the server's (directory down) does not
          const code = error instanceof HandshakeError ? error.data.code : "AUTH_UNAVAILABLE";
          if (cap && code !== "AUTH_UNAVAILABLE" && code !== "RATE_LIMITED") {
            await cap.count.fail(address);
          }
          throw error;
        });
    });
    identified.then(
      (identity) => {
        const user = identity.user;
        if ((socketsPerUser.get(user.id) ?? 0) >= deps.maxSocketsPerUser) {
          metrics.authRefusals.inc({ code: "TOO_MANY_CONNECTIONS" });
          const err = new Error("too_many_connections") as Error & { data: HandshakeErrorData };
          err.data = { code: "TOO_MANY_CONNECTIONS" };
          return next(err);
        }
        // the slot is taken here, not at "connection", so simultaneous handshakes can't all pass
        socketsPerUser.set(user.id, (socketsPerUser.get(user.id) ?? 0) + 1);
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          const left = (socketsPerUser.get(user.id) ?? 1) - 1;
          if (left > 0) socketsPerUser.set(user.id, left);
          else {
            socketsPerUser.delete(user.id);
            deps.typing.userGone(user.id);
          }
        };
        socket.once("disconnect", release);
        socket.conn.once("close", release);
        socket.data.user = user;
        socket.data.via = identity.via;
        if (identity.via === "cookie") socket.data.sessionId = identity.sessionId;
        else socket.data.token = identity.token;
        // the rooms are read before the socket counts as connected, so it joins their channels at
        // once at "connection" and misses no broadcast sent after that
        store.roomIdsOf(user.id).then(
          (roomIds) => {
            roomsAtConnect.set(socket, roomIds);
            next();
          },
          (error: unknown) => {
            release();
            deps.logger.warn({ err: error }, "could not read a user's rooms at the handshake");
            next(new HandshakeError("AUTH_UNAVAILABLE"));
          },
        );
      },
      (error: unknown) =>
        next(error instanceof HandshakeError ? error : new HandshakeError("AUTH_UNAVAILABLE")),
    );
  });

  io.on("connection", (socket) => {
    const user = socket.data.user;
    metrics.connections.inc();
    registerHandlers(socket, deps.handlers, runtime);
    const roomIds = [...(roomsAtConnect.get(socket) ?? [])];
    roomsAtConnect.delete(socket);
    const scope = scopeKey(user.scope);
    socket.join([
      userChannel(user.id),
      ...roomIds.map(roomChannel),
      ...(deps.scoped ? roomIds.map((id) => roomScopeChannel(id, scope)) : []),
    ]);

    socket.on("disconnect", () => {
      metrics.connections.dec();
      deps.presence
        .socketDisconnected(user)
        .catch((err: unknown) => deps.logger.warn({ err }, "presence update failed"));
    });

    store
      .rememberUsers([{ id: user.id, name: user.name }])
      .catch((err: unknown) => deps.logger.warn({ err }, "could not remember a user's name"));
    deps.presence
      .socketConnected(user)
      .catch((err: unknown) => deps.logger.warn({ err }, "presence update failed"));
    deps.onConnected?.(socket);
    const token = socket.data.token;
    socket.emit("session", {
      user:
        user.login === undefined
          ? { id: user.id, name: user.name }
          : { id: user.id, name: user.name, login: user.login },
      expiresAt: token ? new Date(token.expiresAt * 1000).toISOString() : null,
    });
  });
}
