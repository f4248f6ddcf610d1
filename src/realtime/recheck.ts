/**
 * Live connections are checked again every AUTH_RECHECK_S: a socket whose token expired or was
 * revoked, whose user was disabled, deleted or moved to another scope (USERS_SCOPE_COLUMN), is told
 * `session:ended` and disconnected. Sockets that signed in with the PHP session cookie also have
 * their session read again (see session-recheck.ts). If the directory or the session store can't
 * be reached, nobody is disconnected for it; the next round tries again. A token socket is also
 * checked at the moment its token expires, so it does not outlive it by up to a whole interval.
 */
import type { PhpSessions } from "../auth/php-session/index.js";
import type { TokenRevocations } from "../auth/tokens.js";
import type { Logger } from "../logger.js";
import type { DirectoryUser, UserDirectory } from "../users/types.js";
import { endSession, tokenExpired, tokenRevoked } from "./session-end.js";
import { recheckSessions } from "./session-recheck.js";
import type { ChatServer, ServerSocket } from "./types.js";

const CHUNK = 500;
/** setTimeout's longest delay; a later expiry is caught by the periodic round instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface RecheckDeps {
  io: ChatServer;
  directory: UserDirectory & {
    refresh?: (ids: readonly string[]) => Promise<Map<string, DirectoryUser>>;
  };
  /** tokens of a user issued at or before this second are revoked (server API "disconnect") */
  revocations: TokenRevocations;
  logger: Logger;
  intervalS: number;
  /** the clock, in milliseconds (injectable for tests) */
  now: () => number;
  /** set when the PHP session cookie is accepted */
  sessions?: PhpSessions | null;
}

export interface Recheck {
  /** Runs one round now (tests, and the token-expiry timers); resolves when it is done. */
  runNow(): Promise<void>;
  /** Starts the timer that ends `socket` when its token expires. */
  watchExpiry(socket: ServerSocket): void;
  stop(): void;
}

export function startRecheck(deps: RecheckDeps): Recheck {
  const { io, logger } = deps;
  const sockets = () => [...io.of("/").sockets.values()];

  /** Ends token sockets that expired or were revoked; answers the ones still open. */
  const checkTokens = async (): Promise<void> => {
    const now = deps.now();
    const live: ServerSocket[] = [];
    for (const socket of sockets()) {
      if (tokenExpired(socket, now)) {
        logger.info({ userId: socket.data.user.id }, "ending a connection whose token expired");
        endSession(socket, "AUTH_EXPIRED");
      } else if (socket.data.token) live.push(socket);
    }
    // one revocation read per user, not per socket; a chunk at a time so the database is not flooded
    const userIds = [...new Set(live.map((socket) => socket.data.user.id))];
    const revoked = new Map<string, number | null>();
    for (let i = 0; i < userIds.length; i += CHUNK) {
      const chunk = userIds.slice(i, i + CHUNK);
      const found = await Promise.all(chunk.map((id) => deps.revocations.tokensRevokedBefore(id)));
      for (const [j, id] of chunk.entries()) revoked.set(id, found[j] ?? null);
    }
    for (const socket of live) {
      if (tokenRevoked(socket, revoked.get(socket.data.user.id) ?? null)) {
        logger.info({ userId: socket.data.user.id }, "ending a connection whose token was revoked");
        endSession(socket, "AUTH_INVALID");
      }
    }
  };

  const checkUsers = async (): Promise<void> => {
    const byUser = new Map<string, ServerSocket[]>();
    for (const socket of sockets()) {
      const list = byUser.get(socket.data.user.id);
      if (list) list.push(socket);
      else byUser.set(socket.data.user.id, [socket]);
    }
    const all = [...byUser.keys()];
    for (let i = 0; i < all.length; i += CHUNK) {
      const chunk = all.slice(i, i + CHUNK);
      const found = deps.directory.refresh
        ? await deps.directory.refresh(chunk)
        : await deps.directory.findByIds(chunk);
      for (const id of chunk) {
        const user = found.get(id);
        for (const socket of byUser.get(id) ?? []) {
          const code = !user
            ? "USER_UNKNOWN"
            : !user.active
              ? "USER_DISABLED"
              : user.scope !== socket.data.user.scope
                ? "SCOPE_CHANGED"
                : null;
          if (code === null) continue;
          logger.info({ userId: id, reason: code }, "ending a connection of a user who lost access");
          endSession(socket, code);
        }
      }
    }
  };

  let running: Promise<void> | null = null;
  const round = (): Promise<void> => {
    running ??= (async () => {
      try {
        await checkTokens();
      } catch (err) {
        logger.warn({ err }, "could not re-check tokens; will try again");
      }
      try {
        await checkUsers();
      } catch (err) {
        logger.warn({ err }, "could not re-check connected users; will try again");
      }
      try {
        if (deps.sessions) await recheckSessions(io, deps.sessions, logger);
      } catch (err) {
        logger.warn({ err }, "could not re-check PHP sessions; will try again");
      }
    })().finally(() => {
      running = null;
    });
    return running;
  };

  const watchExpiry = (socket: ServerSocket): void => {
    const token = socket.data.token;
    if (!token) return;
    const delay = Math.min(Math.max(0, token.expiresAt * 1000 - deps.now()), MAX_TIMER_MS);
    const expiry = setTimeout(() => {
      if (tokenExpired(socket, deps.now())) endSession(socket, "AUTH_EXPIRED");
    }, delay);
    expiry.unref();
    const clear = () => clearTimeout(expiry);
    socket.once("disconnect", clear);
    // a refreshed token moves the expiry: the old timer goes, a new one is set
    socket.data.onTokenChange = () => {
      clear();
      socket.off("disconnect", clear);
      watchExpiry(socket);
    };
  };

  const timer = setInterval(() => void round(), deps.intervalS * 1000);
  timer.unref();
  return { runNow: round, watchExpiry, stop: () => clearInterval(timer) };
}
