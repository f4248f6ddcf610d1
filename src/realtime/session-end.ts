/**
 * Ending a live connection on the server's initiative: the client is told why (`session:ended`)
 * just before the disconnect, so it can reconnect with a fresh token or sign the user out instead
 * of guessing from a bare "io server disconnect".
 */
import type { SessionEndedCode } from "../protocol/index.js";
import type { ServerSocket } from "./types.js";

export function endSession(socket: ServerSocket, code: SessionEndedCode): void {
  if (!socket.connected) return;
  socket.emit("session:ended", { code });
  // Engine.IO flushes what is already queued (the event above) before it closes the transport
  socket.disconnect(true);
}

/** Whether a token socket's token is past its `exp` at `nowMs`. */
export function tokenExpired(socket: ServerSocket, nowMs: number): boolean {
  const token = socket.data.token;
  return token !== undefined && token.expiresAt * 1000 <= nowMs;
}

/** Whether a token socket's token was issued at or before `revokedBefore` (its user's revocation). */
export function tokenRevoked(socket: ServerSocket, revokedBefore: number | null): boolean {
  const token = socket.data.token;
  if (token === undefined) return false;
  return revokedBefore !== null && (token.issuedAt === null || token.issuedAt <= revokedBefore);
}
