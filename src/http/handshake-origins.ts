/**
 * The origin check of Socket.io handshakes. A page whose address is not allowed (CORS_ORIGINS, or
 * the server's own pages) is refused with 403 and an answer that says what to do, over
 * long-polling and over a WebSocket upgrade alike, and the operator sees the address in the log.
 * A request without an Origin header is not a browser page: it goes on to sign-in as usual.
 */
import type { Server as HttpServer, IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { LRUCache } from "lru-cache";
import type { Logger } from "../logger.js";
import type { OriginPolicy } from "./origins.js";
import { ownOrigin } from "./own-origin.js";

/** What a refused page is told. It names no secret, so a hostile page may read it too. */
export const ORIGIN_REFUSED =
  "This page may not connect to TimeWise Chat. If it is one of yours, add its address to CORS_ORIGINS on the chat server.";

/** Socket.io's `allowRequest` option. */
export type AllowRequest = (
  req: IncomingMessage,
  callback: (message: string | null, allowed: boolean) => void,
) => void;

export function guardHandshakes(
  httpServer: HttpServer,
  origins: OriginPolicy,
  logger: Logger,
  path: string,
): AllowRequest {
  // each address is logged at most once in 10 minutes: enough to spot a page missing from
  // CORS_ORIGINS, too little for a hostile page to flood the log
  const logged = new LRUCache<string, true>({ max: 1000, ttl: 10 * 60_000 });
  const allowed = (req: IncomingMessage): boolean => {
    const origin = req.headers.origin;
    if (origin === undefined || origins.allows(origin, ownOrigin(req))) return true;
    const shown = origin.slice(0, 200);
    if (!logged.has(shown)) {
      logged.set(shown, true);
      logger.warn(
        { origin: shown },
        "refused a chat connection from a page at this address; add it to CORS_ORIGINS if it is yours",
      );
    }
    return false;
  };

  // Engine.IO answers every refused upgrade with 400, so refused upgrades are answered here first;
  // Engine.IO's own listener then finds the socket already closed
  httpServer.prependListener("upgrade", (req: IncomingMessage, socket: Duplex) => {
    if (!req.url?.startsWith(`${path}/`) || allowed(req)) return;
    socket.on("error", () => {}); // the page may hang up first
    const body = JSON.stringify({ error: { code: "FORBIDDEN", message: ORIGIN_REFUSED } });
    socket.end(
      `HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    socket.destroy();
  });

  return (req, callback) => (allowed(req) ? callback(null, true) : callback(ORIGIN_REFUSED, false));
}
