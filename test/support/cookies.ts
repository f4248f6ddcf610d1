/**
 * Connecting socket.io clients the way a browser on a PHP page does: with the PHP session cookie
 * and the page's Origin header (Node's client sends neither unless told).
 */
import { openSocket, refusalOf, sessionOf, type TestSocket } from "./client.js";

/** The page origin the cookie tests allow in CORS_ORIGINS. */
export const PAGE_ORIGIN = "http://timewise.test";

export interface CookieConnection {
  cookie?: string;
  origin?: string | null;
  auth?: Record<string, unknown>;
  transports?: ("websocket" | "polling")[];
}

function open(url: string, c: CookieConnection): TestSocket {
  const headers: Record<string, string> = {};
  if (c.cookie !== undefined) headers.cookie = c.cookie;
  const origin = c.origin === undefined ? PAGE_ORIGIN : c.origin;
  if (origin !== null) headers.origin = origin;
  return openSocket(url, c.auth ?? {}, { extraHeaders: headers, transports: c.transports ?? ["websocket"] });
}

/** Connects and resolves with the socket and its session user once `session` arrived. */
export async function connectWithCookie(
  url: string,
  c: CookieConnection,
): Promise<{ socket: TestSocket; userId: string }> {
  const { socket, user } = await sessionOf(open(url, c));
  return { socket, userId: user.id };
}

/** Connects expecting a refusal; resolves with its message and code. */
export function refusedWithCookie(
  url: string,
  c: CookieConnection,
): Promise<{ message: string; code: string | undefined }> {
  return refusalOf(open(url, c));
}

/** Resolves true once the socket is disconnected by the server (polled by tests). */
export function watchDisconnect(socket: TestSocket): () => boolean {
  let gone = !socket.connected;
  socket.on("disconnect", () => {
    gone = true;
  });
  return () => gone;
}
