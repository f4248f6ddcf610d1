/**
 * `session:refresh { token }` (extension): a token socket hands over a fresh token for the same
 * user before its first one expires, so a long-lived tab is not disconnected every token lifetime.
 * The new token is checked exactly like a handshake token (signature, claims, revocation).
 */
import { TokenError, type TokenRevocations, type TokenService } from "../auth/tokens.js";
import { AppError } from "../errors.js";
import type { EventHandler } from "./handler.js";

export function sessionRefreshHandler(deps: {
  tokens: TokenService;
  revocations: TokenRevocations;
}): EventHandler<"session:refresh"> {
  return {
    limit: "reads",
    handle: async (actor, p, socket) => {
      if (socket.data.via !== "token") {
        throw new AppError("BAD_REQUEST", "This connection signed in with the PHP session, not a token.");
      }
      let verified: Awaited<ReturnType<TokenService["verify"]>>;
      try {
        verified = await deps.tokens.verify(p.token);
      } catch (error) {
        if (error instanceof TokenError) throw new AppError("FORBIDDEN", "That token is not valid.");
        throw error;
      }
      const revokedBefore = await deps.revocations.tokensRevokedBefore(verified.userId);
      const revoked =
        revokedBefore !== null && (verified.issuedAt === null || verified.issuedAt <= revokedBefore);
      // a token of another user would switch identities mid-connection: reconnect for that
      if (revoked || verified.userId !== actor.id) {
        throw new AppError("FORBIDDEN", "That token is not valid for this connection.");
      }
      socket.data.token = { expiresAt: verified.expiresAt, issuedAt: verified.issuedAt };
      socket.data.onTokenChange?.();
      return { expiresAt: new Date(verified.expiresAt * 1000).toISOString() };
    },
  };
}
