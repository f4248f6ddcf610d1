/**
 * Connecting socket.io clients the way a browser on a PHP page does: with the PHP session cookie
 * and the page's Origin header (Node's client sends neither unless told).
 */
import { io as connectClient, type ManagerOptions, type SocketOptions } from "socket.io-client";
import type { ChatClient } from "./harness.js";

/** The page origin the cookie tests allow in CORS_ORIGINS. */
export const PAGE_ORIGIN = "http://timewise.test";

export interface CookieConnection {
  cookie?: string;
  origin?: string | null;
  auth?: Record<string, unknown>;
  transports?: ("websocket" | "polling")[];
}

function open(url: string, c: CookieConnection): ChatClient {
  const headers: Record<string, string> = {};
  if (c.cookie !== undefined) headers.cookie = c.cookie;
  const origin = c.origin === undefined ? PAGE_ORIGIN : c.origin;
  if (origin !== null) headers.origin = origin;
  const options: Partial<ManagerOptions & SocketOptions> = {
    auth: c.auth ?? {},
    extraHeaders: headers,
    transports: c.transports ?? ["websocket"],
    reconnection: false,
    forceNew: true,
  };
  return connectClient(url, options);
}

/** Connects and resolves with the socket and its session user once `session` arrived. */
export function connectWithCookie(
  url: string,
  c: CookieConnection,
): Promise<{ socket: ChatClient; userId: string }> {
  const socket = open(url, c);
  return new Promise((resolve, reject) => {
    socket.once("session", ({ user }) => resolve({ socket, userId: user.id }));
    socket.once("connect_error", (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** Connects expecting a refusal; resolves with its message and code. */
export function refusedWithCookie(
  url: string,
  c: CookieConnection,
): Promise<{ message: string; code: string | undefined }> {
  const socket = open(url, c);
  return new Promise((resolve, reject) => {
    socket.once("session", () => {
      socket.close();
      reject(new Error("the connection was accepted"));
    });
    socket.once("connect_error", (err: Error & { data?: { code?: string } }) => {
      socket.close();
      resolve({ message: err.message, code: err.data?.code });
    });
  });
}

/** Resolves true once the socket is disconnected by the server (polled by tests). */
export function watchDisconnect(socket: ChatClient): () => boolean {
  let gone = !socket.connected;
  socket.on("disconnect", () => {
    gone = true;
  });
  return () => gone;
}
