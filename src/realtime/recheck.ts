/**
 * Connected users are checked against the directory again every AUTH_RECHECK_S: whoever was
 * disabled or deleted meanwhile is disconnected everywhere. Sockets that signed in with the PHP
 * session cookie also have their session read again (see session-recheck.ts). If the directory
 * or the session store can't be reached, nobody is disconnected for it; the next round tries again.
 */
import type { PhpSessions } from "../auth/php-session/index.js";
import type { Logger } from "../logger.js";
import type { UserDirectory } from "../users/types.js";
import type { Fanout } from "./fanout.js";
import { recheckSessions } from "./session-recheck.js";
import type { ChatServer } from "./types.js";

const CHUNK = 500;

export function startRecheck(deps: {
  io: ChatServer;
  directory: UserDirectory & {
    refresh?: (ids: readonly string[]) => Promise<Map<string, { active: boolean }>>;
  };
  fanout: Fanout;
  logger: Logger;
  intervalS: number;
  /** set when the PHP session cookie is accepted */
  sessions?: PhpSessions | null;
}): () => void {
  let running = false;
  const round = async () => {
    if (running) return;
    running = true;
    try {
      const ids = new Set<string>();
      for (const socket of deps.io.of("/").sockets.values()) ids.add(socket.data.user.id);
      const all = [...ids];
      for (let i = 0; i < all.length; i += CHUNK) {
        const chunk = all.slice(i, i + CHUNK);
        const found = deps.directory.refresh
          ? await deps.directory.refresh(chunk)
          : await deps.directory.findByIds(chunk);
        for (const id of chunk) {
          const user = found.get(id);
          if (user?.active) continue;
          deps.logger.info(
            { userId: id, reason: user ? "disabled" : "deleted" },
            "disconnecting a user who lost access",
          );
          deps.fanout.disconnectUser(id);
        }
      }
    } catch (err) {
      deps.logger.warn({ err }, "could not re-check connected users; will try again");
    }
    try {
      if (deps.sessions) await recheckSessions(deps.io, deps.sessions, deps.logger);
    } catch (err) {
      deps.logger.warn({ err }, "could not re-check PHP sessions; will try again");
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void round(), deps.intervalS * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
