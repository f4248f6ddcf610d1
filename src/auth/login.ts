/**
 * Password sign-in (`POST /api/login`): checks a username and password against the user directory
 * and hands out a chat token. Unknown user, inactive user and wrong password get the same answer
 * after the same hashing work, so the answer does not reveal which logins exist.
 */
import { type RateLimiterLike, RateLimiterRes } from "rate-limiter-flexible";
import { z } from "zod";
import { AppError, badRequest } from "../errors.js";
import { createLimiter, type SharedCounts } from "../limits/limiter.js";
import type { Logger } from "../logger.js";
import type { LoginBody } from "../protocol/index.js";
import type { UserDirectory } from "../users/types.js";
import { DummyHash, MAX_PASSWORD_BYTES, shapeOf, verifyPassword } from "./passwords.js";
import type { TokenService } from "./tokens.js";

/** The one answer for every wrong sign-in; HTTP maps it to 401 AUTH_INVALID. */
export class LoginFailedError extends Error {
  readonly code = "AUTH_INVALID";
  constructor() {
    super("Wrong username or password.");
    this.name = "LoginFailedError";
  }
}

/** How many sign-ins are allowed before RATE_LIMITED. */
export interface LoginLimits {
  /** failed attempts from one IP address per `ipWindowS` (successes are not counted) */
  perIp: number;
  ipWindowS: number;
  /**
   * failed attempts for one user (the directory's id; a login nobody has by its normalized text)
   * per `usernameWindowS`; a success starts again from zero
   */
  perUsername: number;
  usernameWindowS: number;
}

/** Enough for people who mistype a few times; far too few to guess passwords. */
export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  perIp: 20,
  ipWindowS: 60,
  perUsername: 10,
  usernameWindowS: 300,
};

/** What a successful sign-in returns: the body of `POST /api/login`. */
export type LoginResult = LoginBody;

/** Password sign-in. */
export interface LoginService {
  /**
   * Throws AppError BAD_REQUEST or RATE_LIMITED, LoginFailedError, or DirectoryUnavailableError
   * (the directory is down: answer 503, not "wrong password").
   */
  login(username: unknown, password: unknown, ip: string): Promise<LoginResult>;
}

const credentials = z.object({
  username: z.string().min(1).max(255),
  password: z
    .string()
    .min(1)
    .max(MAX_PASSWORD_BYTES)
    .refine((p) => Buffer.byteLength(p) <= MAX_PASSWORD_BYTES, `must be at most ${MAX_PASSWORD_BYTES} bytes`),
});

/** Builds the sign-in service; with `shared` (several nodes) attempts are counted across all nodes. */
export function createLoginService(deps: {
  directory: UserDirectory;
  tokens: TokenService;
  logger: Logger;
  limits?: LoginLimits;
  shared?: SharedCounts;
  /** the clock of in-memory attempt windows (default Date.now) */
  now?: () => number;
}): LoginService {
  const { directory, tokens, logger } = deps;
  const limits = deps.limits ?? DEFAULT_LOGIN_LIMITS;
  const byIp = createLimiter(
    { name: "login-ip", points: limits.perIp, seconds: limits.ipWindowS },
    deps.shared,
    deps.now,
  );
  const byUser = createLimiter(
    { name: "login-user", points: limits.perUsername, seconds: limits.usernameWindowS },
    deps.shared,
    deps.now,
  );
  // Made now, so the first unknown-user sign-in does not wait for it (and is not slower either).
  const dummy = new DummyHash();

  return {
    async login(username, password, ip) {
      const parsed = credentials.safeParse({ username, password });
      if (!parsed.success) {
        throw badRequest(
          "Enter a username (up to 255 characters) and a password (up to 4096 characters).",
          parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
        );
      }
      const input = parsed.data;
      const ipKey = ip || "unknown";

      // Each attempt is counted up front (so parallel guesses are counted too) and forgiven when
      // it succeeds or was not the user's fault: only failures stay counted.
      await take(byIp, ipKey, logger, "ip");
      let user: Awaited<ReturnType<UserDirectory["findByLogin"]>>;
      try {
        user = await directory.findByLogin(input.username);
      } catch (error) {
        await byIp.reward(ipKey, 1);
        throw error;
      }
      // The directory decides which row a login names (MySQL's collation makes "ALICE" and
      // "alice " the same user), so the per-user count is keyed on the row's id.
      const userKey = user ? `id:${user.id}` : `name:${normalizeLogin(input.username)}`;
      try {
        await take(byUser, userKey, logger, "username");
      } catch (error) {
        await byIp.reward(ipKey, 1);
        throw error;
      }

      // A user without a hash we can read costs the same work as one with a wrong password.
      const hash = user?.passwordHash ?? null;
      dummy.follow(hash);
      const matches = shapeOf(hash)
        ? await verifyPassword(hash, input.password)
        : await dummy.verify(input.password);

      if (!user?.active || !matches) {
        const reason = !user ? "unknown user" : !matches ? "wrong password" : "inactive user";
        logger.info({ ip, reason }, "sign-in refused");
        throw new LoginFailedError();
      }

      await Promise.all([byUser.delete(userKey), byIp.reward(ipKey, 1)]);
      const token = await tokens.sign(user.id);
      logger.info({ ip, userId: user.id }, "signed in with a password");
      return { token, user: { id: user.id, name: user.name } };
    },
  };
}

/**
 * The key of a login no user has: what MySQL's usual case- and accent-insensitive collations
 * (utf8mb4_unicode_ci, …_general_ci) compare equal, and they ignore trailing spaces too.
 */
export function normalizeLogin(login: string): string {
  return login
    .normalize("NFD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(/ +$/, "");
}

/** Takes one point or throws RATE_LIMITED saying how long to wait. */
async function take(
  limiter: RateLimiterLike,
  key: string,
  logger: Logger,
  limit: "ip" | "username",
): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (error) {
    if (!(error instanceof RateLimiterRes)) throw error;
    logger.warn({ limit }, "sign-in rate limit reached");
    throw new AppError(
      "RATE_LIMITED",
      "Too many sign-in attempts. Please wait and try again.",
      undefined,
      Math.max(1, Math.ceil(error.msBeforeNext)),
    );
  }
}
