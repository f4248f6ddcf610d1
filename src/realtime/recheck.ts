/**
 * Connected users are checked against the directory again every AUTH_RECHECK_S: whoever was
 * disabled or deleted meanwhile is disconnected everywhere. If the directory can't be reached,
 * nobody is disconnected for it; the next round tries again.
 */
import type { Logger } from "../logger.js";
import type { UserDirectory } from "../users/types.js";
import type { Fanout } from "./fanout.js";
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
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void round(), deps.intervalS * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
