/**
 * The re-check of sockets that signed in with the PHP session cookie: each distinct session is
 * read again, and the sockets of a session that was destroyed, expired, logged out or now belongs
 * to someone else are disconnected. A store that can't be reached disconnects nobody.
 */
import type { PhpSessions } from "../auth/php-session/index.js";
import type { Logger } from "../logger.js";
import { endSession } from "./session-end.js";
import type { ChatServer, ServerSocket } from "./types.js";

/** Sessions read at once, so a large node does not flood the store. */
const PARALLEL = 20;

export async function recheckSessions(io: ChatServer, sessions: PhpSessions, logger: Logger): Promise<void> {
  const bySession = new Map<string, ServerSocket[]>();
  for (const socket of io.of("/").sockets.values()) {
    const id = socket.data.via === "cookie" ? socket.data.sessionId : undefined;
    if (id === undefined) continue;
    const list = bySession.get(id);
    if (list) list.push(socket);
    else bySession.set(id, [socket]);
  }
  const entries = [...bySession];
  for (let i = 0; i < entries.length; i += PARALLEL) {
    await Promise.all(
      entries.slice(i, i + PARALLEL).map(async ([sessionId, sockets]) => {
        const result = await sessions.userOf(sessionId);
        for (const socket of sockets) {
          if (result.ok && result.userId === socket.data.user.id) continue;
          const reason = result.ok ? "another user" : result.code === "AUTH_EXPIRED" ? "expired" : "ended";
          logger.info(
            { userId: socket.data.user.id, reason },
            "disconnecting a socket whose PHP session ended",
          );
          endSession(socket, result.ok ? "AUTH_INVALID" : result.code);
        }
      }),
    );
  }
}
