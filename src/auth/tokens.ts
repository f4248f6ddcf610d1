/**
 * Chat tokens: HS256 JWTs shared with the PHP app. Only HS256 is accepted; the checks on time
 * claims are the contract's (30 s skew, `exp` required, lifetime capped by AUTH_JWT_MAX_TTL_S).
 * `iss` and `aud` are required in production by default (AUTH_JWT_REQUIRE_ISS_AUD).
 */
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import type { AuthConfig } from "../config/index.js";
import { userId as userIdSchema } from "../protocol/payloads.js";

const CLOCK_SKEW_S = 30;
/** Real tokens are a few hundred bytes; refusing huge ones early keeps parsing cheap. */
const MAX_TOKEN_LENGTH = 4096;

export type TokenFailure = "AUTH_INVALID" | "AUTH_EXPIRED";

export class TokenError extends Error {
  constructor(
    readonly code: TokenFailure,
    reason: string,
  ) {
    super(reason);
    this.name = "TokenError";
  }
}

export interface VerifiedToken {
  userId: string;
  /** seconds since the epoch */
  expiresAt: number;
  /** `iat` in seconds since the epoch, or null when the token has none (for revocations) */
  issuedAt: number | null;
}

/** Where token revocations (server API "disconnect") are read: the chat store, on every node. */
export interface TokenRevocations {
  /** The second up to which the user's tokens are refused, or null. */
  tokensRevokedBefore(userId: string): Promise<number | null>;
}

export interface TokenService {
  /** `issuedAtS` overrides `iat` (the server API mints tokens that postdate a revocation). */
  sign(userId: string, ttlS?: number, issuedAtS?: number): Promise<string>;
  /** Throws TokenError with the refusal code. */
  verify(token: string): Promise<VerifiedToken>;
}

/** The token settings with the secret decided (AUTH_JWT_SECRET, or the installation's own). */
export type TokenSettings = AuthConfig & { jwtSecret: Uint8Array };

export function createTokenService(config: TokenSettings, now: () => number = Date.now): TokenService {
  return {
    async sign(userId, ttlS = config.loginTokenTtlS, issuedAtS) {
      const iat = issuedAtS ?? Math.floor(now() / 1000);
      let jwt = new SignJWT({})
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(userId)
        .setIssuedAt(iat)
        .setExpirationTime(iat + Math.min(ttlS, config.maxTtlS));
      // always carried, so the server's own tokens work whether or not the claims are required
      jwt = jwt.setIssuer(config.issuer).setAudience(config.audience);
      return jwt.sign(config.jwtSecret);
    },

    async verify(token) {
      if (token.length > MAX_TOKEN_LENGTH) throw new TokenError("AUTH_INVALID", "token too long");
      let payload: Awaited<ReturnType<typeof jwtVerify>>["payload"];
      try {
        ({ payload } = await jwtVerify(token, config.jwtSecret, {
          algorithms: ["HS256"],
          clockTolerance: CLOCK_SKEW_S,
          requiredClaims: ["exp"],
          currentDate: new Date(now()),
          ...(config.checkIssuer ? { issuer: config.issuer } : {}),
          ...(config.checkAudience ? { audience: config.audience } : {}),
        }));
      } catch (error) {
        if (error instanceof joseErrors.JWTExpired) throw new TokenError("AUTH_EXPIRED", "token expired");
        throw new TokenError("AUTH_INVALID", error instanceof Error ? error.name : "invalid token");
      }
      const nowS = Math.floor(now() / 1000);
      const exp = payload.exp as number;
      if (typeof payload.iat === "number" && payload.iat > nowS + CLOCK_SKEW_S) {
        throw new TokenError("AUTH_INVALID", "issued in the future");
      }
      const lifetime = typeof payload.iat === "number" ? exp - payload.iat : exp - nowS;
      if (lifetime > config.maxTtlS || exp - nowS > config.maxTtlS) {
        throw new TokenError("AUTH_INVALID", "lifetime longer than AUTH_JWT_MAX_TTL_S");
      }
      const sub: unknown = payload.sub;
      const id = typeof sub === "number" && Number.isSafeInteger(sub) ? String(sub) : sub;
      const parsed = userIdSchema.safeParse(id);
      if (!parsed.success) throw new TokenError("AUTH_INVALID", "sub is not a user id");
      return {
        userId: parsed.data,
        expiresAt: exp,
        issuedAt: typeof payload.iat === "number" ? payload.iat : null,
      };
    },
  };
}
