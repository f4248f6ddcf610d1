/**
 * The typed Socket.io server of TimeWise Chat, and what each socket carries.
 */
import type { Server, Socket } from "socket.io";
import type { ClientToServerEvents, ServerToClientEvents } from "../protocol/index.js";
import type { Actor } from "../shared/actor.js";

export interface SocketData {
  user: Actor;
  /** how the socket authenticated: a token, or the PHP session cookie */
  via: "token" | "cookie";
  /** the PHP session id of a cookie socket, reloaded by the re-check; a secret, never logged */
  sessionId?: string;
  /** a token socket: when its token expires and when it was issued (seconds), for the re-check */
  token?: { expiresAt: number; issuedAt: number | null };
  /** set by the re-check: moves the expiry timer after `session:refresh` changed `token` */
  onTokenChange?: () => void;
}

// biome-ignore lint/complexity/noBannedTypes: Socket.io's slot for server-to-server events, unused
type NoServerEvents = {};

export type ChatServer = Server<ClientToServerEvents, ServerToClientEvents, NoServerEvents, SocketData>;
export type ServerSocket = Socket<ClientToServerEvents, ServerToClientEvents, NoServerEvents, SocketData>;
