/**
 * Authenticates every Socket.io connection before it is accepted: a token from `auth.token` or an
 * `Authorization: Bearer` header, else (when PHP_SESSION_STORE is set) the PHP session cookie,
 * then the user in the directory. A present token always wins: an invalid one is refused even
 * beside a valid cookie. Refusals carry the contract's codes in `err.data.code`; a directory or
 * session store that can't be reached is "unavailable" (retry), never "unknown user".
 */
import type { IncomingMessage } from "node:http";
import type { ClientAddresses } from "../http/client-address.js";
import { ownOrigin } from "../http/own-origin.js";
import type { FailureCount } from "../limits/address-limits.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";
import type { AuthErrorCode, HandshakeErrorData } from "../protocol/index.js";
import type { Actor } from "../shared/actor.js";
import { DirectoryUnavailableError, type UserDirectory } from "../users/types.js";
import type { PhpSessions } from "./php-session/index.js";
import { TokenError, type TokenRevocations, type TokenService } from "./tokens.js";

/** A refused handshake: `err.message` and `err.data` as the client's `connect_error` receives them. */
export class HandshakeError extends Error {
  readonly data: HandshakeErrorData & { code: AuthErrorCode | "RATE_LIMITED" };
  constructor(code: AuthErrorCode | "RATE_LIMITED", retryAfterMs?: number) {
    super(
      code === "AUTH_UNAVAILABLE" ? "unavailable" : code === "RATE_LIMITED" ? "rate_limited" : "unauthorized",
    );
    this.data = retryAfterMs === undefined ? { code } : { code, retryAfterMs };
  }
}

/** Who a socket is, and how it proved it (the re-check reloads a cookie socket's PHP session). */
export type SocketIdentity =
  | { user: Actor; via: "token"; token: { expiresAt: number; issuedAt: number | null } }
  | { user: Actor; via: "cookie"; sessionId: string };

export interface Authenticator {
  /** The user behind an HTTP request (tokens only); throws HandshakeError. */
  authenticate(auth: unknown, req: IncomingMessage): Promise<Actor>;
  /** The user behind a Socket.io handshake: a token, else the PHP session cookie; throws HandshakeError. */
  authenticateSocket(auth: unknown, req: IncomingMessage): Promise<SocketIdentity>;
}

export interface AuthenticatorDeps {
  tokens: TokenService;
  directory: UserDirectory;
  logger: Logger;
  metrics: Metrics;
  /** set when PHP_SESSION_STORE is: the cookie is accepted */
  sessions?: PhpSessions | null;
  /** cookie sign-in needs an Origin header these allow (cross-site WebSocket hijacking) */
  origins?: { allows(origin: string, own: string | undefined): boolean };
  /** tokens of a user issued at or before this second (server API "disconnect") are refused */
  revocations?: TokenRevocations;
  /** caps session-store lookups for cookies that name no session, per client address */
  unknownSessions?: { addresses: ClientAddresses; count: FailureCount };
}

export function createAuthenticator(deps: AuthenticatorDeps): Authenticator {
  const identify = async (auth: unknown, req: IncomingMessage, cookies: boolean) => {
    try {
      const found = await credentials(deps, auth, req, cookies);
      const user = await deps.directory.findById(found.userId);
      if (!user) throw new HandshakeError("USER_UNKNOWN");
      if (!user.active) throw new HandshakeError("USER_DISABLED");
      const actor: Actor = { id: user.id, name: user.name, scope: user.scope, login: user.login };
      if (found.sessionId !== null)
        return { user: actor, via: "cookie" as const, sessionId: found.sessionId };
      return { user: actor, via: "token" as const, token: found.token ?? { expiresAt: 0, issuedAt: null } };
    } catch (error) {
      const refusal = toRefusal(error);
      deps.metrics.authRefusals.inc({ code: refusal.data.code });
      if (refusal.data.code === "AUTH_UNAVAILABLE")
        deps.logger.warn({ err: error }, "user directory or PHP sessions unavailable");
      throw refusal;
    }
  };
  return {
    authenticate: async (auth, req) => (await identify(auth, req, false)).user,
    authenticateSocket: (auth, req) => identify(auth, req, true),
  };
}

/** The user id a request presents: its token, else (sockets only) its PHP session cookie. */
async function credentials(
  deps: AuthenticatorDeps,
  auth: unknown,
  req: IncomingMessage,
  cookies: boolean,
): Promise<{
  userId: string;
  sessionId: string | null;
  token?: { expiresAt: number; issuedAt: number | null };
}> {
  const token = presentedToken(auth, req);
  if (token !== null) {
    const verified = await deps.tokens.verify(token);
    const revokedBefore = (await deps.revocations?.tokensRevokedBefore(verified.userId)) ?? null;
    if (revokedBefore !== null && (verified.issuedAt === null || verified.issuedAt <= revokedBefore)) {
      throw new HandshakeError("AUTH_INVALID");
    }
    return {
      userId: verified.userId,
      sessionId: null,
      token: { expiresAt: verified.expiresAt, issuedAt: verified.issuedAt },
    };
  }
  const sessions = deps.sessions;
  if (!cookies || !sessions) throw new HandshakeError("AUTH_REQUIRED");
  const cookie = sessions.cookie(req.headers.cookie);
  if (cookie.kind === "absent") throw new HandshakeError("AUTH_REQUIRED");
  // Without an allowed Origin the cookie is not a credential at all: any site's page could send it.
  const origin = req.headers.origin;
  if (origin === undefined || !deps.origins?.allows(origin, ownOrigin(req))) {
    throw new HandshakeError("AUTH_REQUIRED");
  }
  if (cookie.kind === "invalid") throw new HandshakeError("AUTH_INVALID");
  // guessing session ids costs a store read each: an address that keeps guessing wrong is stopped
  const cap = deps.unknownSessions;
  const address = cap?.addresses.of(req) ?? "";
  const wait = cap ? await cap.count.wait(address) : 0;
  if (wait > 0) throw new HandshakeError("RATE_LIMITED", wait);
  const session = await sessions.userOf(cookie.id);
  if (!session.ok) {
    if (session.code === "AUTH_INVALID") await cap?.count.fail(address);
    throw new HandshakeError(session.code);
  }
  return { userId: session.userId, sessionId: cookie.id };
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
