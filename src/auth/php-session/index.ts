/**
 * Signing in with the PHP app's session cookie: the cookie gives a session id, the configured
 * store gives the session (read only), the decoder gives its data, and PHP_SESSION_USER_KEY gives
 * the user id. Every way this can go wrong ends in a contract code; nothing is ever written.
 * Session ids and cookies are secrets: they are never logged.
 */
import type { MysqlConfig, PhpSessionConfig } from "../../config/index.js";
import type { Logger } from "../../logger.js";
import { asUserId, DEFAULT_DECODE_LIMITS, decodeSession, lookup, SessionDecodeError } from "./decoder.js";
import { FileSessionStore } from "./files.js";
import { LaravelCookies } from "./laravel.js";
import type { SessionStore, StoredSession } from "./types.js";

export { SessionStoreUnavailableError } from "./types.js";

/** PHP's own session id alphabet (`session.sid_bits_per_character` 4, 5 or 6) and a sane length. */
export const SESSION_ID = /^[A-Za-z0-9,-]{22,256}$/;
/** How long to wait before reading a session again that PHP seemed to be rewriting. */
const TORN_READ_RETRY_MS = 25;

/** The outcome of reading a session: its user, or the refusal code. */
export type SessionResult =
  | { ok: true; userId: string }
  | { ok: false; code: "AUTH_INVALID" | "AUTH_EXPIRED" };

/** What the Cookie header says about the session cookie. */
export type CookieLookup = { kind: "absent" } | { kind: "invalid" } | { kind: "id"; id: string };

export class PhpSessions {
  constructor(
    private readonly store: SessionStore,
    private readonly cookieName: string,
    private readonly userKey: string,
    private readonly logger: Logger,
    /** set for a stock Laravel app, whose session cookie is encrypted with APP_KEY */
    private readonly laravel: LaravelCookies | null = null,
  ) {}

  /**
   * Finds the session cookie in a Cookie header. Sent twice (cookie tossing from a sibling
   * domain can plant a second one), not a well-formed id, or (Laravel) not opened by its key:
   * invalid, never guessed at.
   */
  cookie(header: string | undefined): CookieLookup {
    if (header === undefined) return { kind: "absent" };
    const values: string[] = [];
    for (const part of header.split(";")) {
      const eq = part.indexOf("=");
      if (eq < 0) continue;
      if (part.slice(0, eq).trim() === this.cookieName) values.push(part.slice(eq + 1).trim());
    }
    if (values.length === 0) return { kind: "absent" };
    if (values.length > 1) return { kind: "invalid" };
    const id = this.laravel ? this.laravel.open(values[0]!) : values[0]!;
    if (id === null || !SESSION_ID.test(id)) return { kind: "invalid" };
    return { kind: "id", id };
  }

  /** The signed-in user of session `id`. Throws SessionStoreUnavailableError when the store is down. */
  async userOf(id: string): Promise<SessionResult> {
    // validated again here: this is the last step before the id becomes a file name or a key
    if (!SESSION_ID.test(id)) return { ok: false, code: "AUTH_INVALID" };
    let stored = await this.store.load(id);
    if (!stored) return { ok: false, code: "AUTH_INVALID" };
    if (stored.expired) return { ok: false, code: "AUTH_EXPIRED" };
    let data = this.decode(stored);
    if (this.store.tornReads && (data === "retry" || stored.data.length === 0)) {
      // PHP truncates a session file before rewriting it: one more look after it is done
      await new Promise((resolve) => setTimeout(resolve, TORN_READ_RETRY_MS));
      stored = await this.store.load(id);
      if (!stored) return { ok: false, code: "AUTH_INVALID" };
      if (stored.expired) return { ok: false, code: "AUTH_EXPIRED" };
      data = this.decode(stored);
    }
    if (data === "refused" || data === "retry") return { ok: false, code: "AUTH_INVALID" };
    const userId = asUserId(lookup(data, this.userKey));
    return userId === null ? { ok: false, code: "AUTH_INVALID" } : { ok: true, userId };
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /** The session's data; "refused" for content refused on purpose, "retry" for what may be a torn read. */
  private decode(stored: StoredSession) {
    try {
      return decodeSession(stored.data).data;
    } catch (error) {
      if (!(error instanceof SessionDecodeError)) throw error;
      this.logger.info({ reason: error.message }, "a PHP session could not be read");
      return error.refused ? ("refused" as const) : ("retry" as const);
    }
  }
}

/**
 * Builds the reader for the configured store. Nothing connects until the first cookie arrives,
 * and the MySQL or Redis driver is only loaded for the store that uses it.
 */
export async function createPhpSessions(
  config: PhpSessionConfig,
  mysql: MysqlConfig | null,
  logger: Logger,
): Promise<PhpSessions> {
  let store: SessionStore;
  if (config.store === "files") {
    // Laravel's file driver names a session's file by its id alone
    const prefix = config.laravel ? "" : "sess_";
    store = new FileSessionStore(config.path, config.lifetimeS, DEFAULT_DECODE_LIMITS.maxBytes, prefix);
  } else if (config.store === "mysql") {
    if (!mysql) throw new Error("PHP_SESSION_STORE=mysql needs MYSQL_HOST");
    const { MysqlSessionStore } = await import("./mysql.js");
    store = new MysqlSessionStore(mysql, config);
  } else {
    if (!config.redisUrl) throw new Error("PHP_SESSION_STORE=redis needs PHP_SESSION_REDIS_URL or REDIS_URL");
    const { RedisSessionStore } = await import("./redis.js");
    store = new RedisSessionStore(config.redisUrl, config.redisPrefix);
  }
  const laravel = config.laravel ? new LaravelCookies(config.laravel, config.cookie) : null;
  return new PhpSessions(store, config.cookie, config.userKey, logger, laravel);
}
