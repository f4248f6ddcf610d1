/**
 * Authenticates every Socket.io connection before it is accepted: a token from `auth.token` or an
 * `Authorization: Bearer` header, then the user in the directory. Refusals carry the contract's
 * codes in `err.data.code`; a directory that can't be reached is "unavailable" (retry), never
 * "unknown user".
 */
import type { IncomingMessage } from "node:http";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";
import type { AuthErrorCode } from "../protocol/index.js";
import type { Actor } from "../realtime/types.js";
import { DirectoryUnavailableError, type UserDirectory } from "../users/types.js";
import { TokenError, type TokenService } from "./tokens.js";

export class HandshakeError extends Error {
  readonly data: { code: AuthErrorCode };
  constructor(code: AuthErrorCode) {
    super(code === "AUTH_UNAVAILABLE" ? "unavailable" : "unauthorized");
    this.data = { code };
  }
}

export interface Authenticator {
  /** The user behind a handshake or an HTTP request; throws HandshakeError. */
  authenticate(auth: unknown, req: IncomingMessage): Promise<Actor>;
}

export function createAuthenticator(deps: {
  tokens: TokenService;
  directory: UserDirectory;
  logger: Logger;
  metrics: Metrics;
}): Authenticator {
  return {
    async authenticate(auth, req) {
      try {
        const token = presentedToken(auth, req);
        if (token === null) throw new HandshakeError("AUTH_REQUIRED");
        const { userId } = await deps.tokens.verify(token);
        const user = await deps.directory.findById(userId);
        if (!user) throw new HandshakeError("USER_UNKNOWN");
        if (!user.active) throw new HandshakeError("USER_DISABLED");
        return { id: user.id, name: user.name, scope: user.scope };
      } catch (error) {
        const refusal = toRefusal(error);
        deps.metrics.authRefusals.inc({ code: refusal.data.code });
        if (refusal.data.code === "AUTH_UNAVAILABLE")
          deps.logger.warn({ err: error }, "user directory unavailable");
        throw refusal;
      }
    },
  };
}

/** `auth.token` wins over the header; a present but non-string token is invalid, not missing. */
function presentedToken(auth: unknown, req: IncomingMessage): string | null {
  if (auth !== null && typeof auth === "object" && "token" in auth) {
    const token = (auth as { token: unknown }).token;
    if (typeof token !== "string" || token.length === 0) throw new HandshakeError("AUTH_INVALID");
    return token;
  }
  const header = req.headers.authorization;
  if (header === undefined) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new HandshakeError("AUTH_INVALID");
  return match[1]!;
}

function toRefusal(error: unknown): HandshakeError {
  if (error instanceof HandshakeError) return error;
  if (error instanceof TokenError) return new HandshakeError(error.code);
  if (error instanceof DirectoryUnavailableError) return new HandshakeError("AUTH_UNAVAILABLE");
  return new HandshakeError("AUTH_UNAVAILABLE");
}
