/**
 * Turns the environment into a validated `Config`, or into one readable line per bad variable.
 */

import { envSchema } from "./schema.js";
import { parseServerApiKeys, type ServerApiKey } from "./server-api-keys.js";

/** The development secret: tokens signed with it are worthless anywhere else. */
const DEV_JWT_SECRET = "timewise-chat-development-secret-do-not-use";
const DEV_CORS_ORIGINS = "http://localhost:*,http://127.0.0.1:*";

export interface Config {
  production: boolean;
  port: number;
  host: string;
  sqlitePath: string;
  /** the chat database's page cache; the other connections share as much again */
  sqliteCacheMb: number;
  /** null: the built-in user directory */
  mysql: MysqlConfig | null;
  users: UsersTableConfig;
  auth: AuthConfig;
  corsOrigins: string[];
  maxMessageLength: number;
  maxPayloadBytes: number;
  maxSocketsPerUser: number;
  /** MAX_GROUPS_PER_USER */
  maxGroupsPerUser: number;
  /** MAX_QUEUED_BYTES: a client's backlog of events before it is dropped */
  maxQueuedBytes: number;
  redisUrl: string | null;
  /** prefix of keys and channels in REDIS_URL */
  redisPrefix: string;
  /** null: the PHP session cookie is not accepted (tokens only) */
  phpSession: PhpSessionConfig | null;
  /** null: the server API for the PHP back end is off (404) */
  serviceApiKey: string | null;
  /**
   * Every key of the server API: SERVICE_API_KEY (as `default`, full access) and SERVER_API_KEYS.
   * Empty: the server API is off (404).
   */
  serverApiKeys: ServerApiKey[];
  /** null: no webhooks are sent */
  webhooks: WebhookConfig | null;
  rateLimits: RateLimits;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** Things worth a loud line at start-up (e.g. the development JWT secret). */
  warnings: string[];
}

/** Per-user allowances: `points` events per `seconds`. */
export type RateLimits = Record<
  "messages" | "typing" | "rooms" | "searches" | "reads",
  { points: number; seconds: number }
>;

export interface MysqlConfig {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  connectTimeoutMs: number;
  poolSize: number;
}

export interface UsersTableConfig {
  table: string;
  idColumn: string;
  loginColumn: string;
  nameColumns: string[];
  passwordColumn: string;
  activeColumn: string | null;
  scopeColumn: string | null;
}

export interface AuthConfig {
  jwtSecret: Uint8Array;
  issuer: string | null;
  audience: string | null;
  maxTtlS: number;
  loginTokenTtlS: number;
  recheckS: number;
}

/** How the PHP app's sessions are found and read (PHP_SESSION_*). */
export interface PhpSessionConfig {
  store: "files" | "mysql" | "redis";
  /** files: the folder with the `sess_<id>` files */
  path: string;
  cookie: string;
  /** the key, or dotted path, of the user id in the session */
  userKey: string;
  lifetimeS: number;
  /** mysql: the sessions table */
  table: {
    name: string;
    idColumn: string;
    dataColumn: string;
    timeColumn: string;
    timeIs: "last_activity" | "expires_at";
  };
  /** redis: the server (PHP_SESSION_REDIS_URL, else REDIS_URL) and key prefix */
  redisUrl: string | null;
  redisPrefix: string;
}

/** Where webhooks go and the secret that signs them. */
export interface WebhookConfig {
  url: string;
  secret: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

/** Validates `env` (normally `process.env`); throws ConfigError listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) =>
        `${issue.path.join(".") || "environment"}: ${issue.message} (got ${show(env, issue.path[0])})`,
    );
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === "production";
  const warnings: string[] = [];
  const problems: string[] = [];

  let secret = e.AUTH_JWT_SECRET;
  if (!secret) {
    if (production) problems.push("AUTH_JWT_SECRET: required when NODE_ENV=production (at least 32 bytes)");
    else {
      warnings.push(
        "AUTH_JWT_SECRET is not set: using a development secret. Set it to the PHP app's secret before real use.",
      );
      secret = DEV_JWT_SECRET;
    }
  }
  const store = e.PHP_SESSION_STORE;
  if (store === "mysql" && !e.MYSQL_HOST) {
    problems.push("PHP_SESSION_STORE: mysql needs MYSQL_HOST (the PHP app's database) to be set");
  }
  const sessionRedisUrl = e.PHP_SESSION_REDIS_URL ?? e.REDIS_URL ?? null;
  if (store === "redis" && !sessionRedisUrl) {
    problems.push("PHP_SESSION_STORE: redis needs PHP_SESSION_REDIS_URL (or REDIS_URL) to be set");
  }
  if (e.WEBHOOK_URL && !e.WEBHOOK_SECRET) {
    problems.push("WEBHOOK_SECRET: required when WEBHOOK_URL is set (at least 32 bytes)");
  }
  const serverApiKeys = parseServerApiKeys(e.SERVICE_API_KEY, e.SERVER_API_KEYS, problems);
  const corsOrigins = parseOrigins(e.CORS_ORIGINS ?? (production ? "" : DEV_CORS_ORIGINS), problems);
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    production,
    port: e.CHAT_PORT,
    host: e.CHAT_HOST,
    sqlitePath: e.SQLITE_PATH,
    sqliteCacheMb: e.SQLITE_CACHE_MB,
    mysql: e.MYSQL_HOST
      ? {
          host: e.MYSQL_HOST,
          port: e.MYSQL_PORT,
          user: e.MYSQL_USER,
          password: e.MYSQL_PASSWORD,
          database: e.MYSQL_DATABASE,
          connectTimeoutMs: e.MYSQL_CONNECT_TIMEOUT_MS,
          poolSize: e.MYSQL_POOL_SIZE,
        }
      : null,
    users: {
      table: e.USERS_TABLE,
      idColumn: e.USERS_ID_COLUMN,
      loginColumn: e.USERS_LOGIN_COLUMN,
      nameColumns: e.USERS_NAME_COLUMN,
      passwordColumn: e.USERS_PASSWORD_COLUMN,
      activeColumn: e.USERS_ACTIVE_COLUMN ?? null,
      scopeColumn: e.USERS_SCOPE_COLUMN ?? null,
    },
    auth: {
      jwtSecret: new TextEncoder().encode(secret),
      issuer: e.AUTH_JWT_ISSUER ?? null,
      audience: e.AUTH_JWT_AUDIENCE ?? null,
      maxTtlS: e.AUTH_JWT_MAX_TTL_S,
      loginTokenTtlS: e.AUTH_LOGIN_TOKEN_TTL_S,
      recheckS: e.AUTH_RECHECK_S,
    },
    corsOrigins,
    maxMessageLength: e.MAX_MESSAGE_LENGTH,
    maxPayloadBytes: e.MAX_PAYLOAD_BYTES,
    maxSocketsPerUser: e.MAX_SOCKETS_PER_USER,
    maxGroupsPerUser: e.MAX_GROUPS_PER_USER,
    maxQueuedBytes: e.MAX_QUEUED_BYTES,
    redisUrl: e.REDIS_URL ?? null,
    redisPrefix: e.REDIS_PREFIX,
    phpSession: store
      ? {
          store,
          path: e.PHP_SESSION_PATH,
          cookie: e.PHP_SESSION_COOKIE,
          userKey: e.PHP_SESSION_USER_KEY,
          lifetimeS: e.PHP_SESSION_LIFETIME_S,
          table: {
            name: e.PHP_SESSION_TABLE,
            idColumn: e.PHP_SESSION_ID_COLUMN,
            dataColumn: e.PHP_SESSION_DATA_COLUMN,
            timeColumn: e.PHP_SESSION_TIME_COLUMN,
            timeIs: e.PHP_SESSION_TIME_IS,
          },
          redisUrl: sessionRedisUrl,
          redisPrefix: e.PHP_SESSION_REDIS_PREFIX,
        }
      : null,
    serviceApiKey: e.SERVICE_API_KEY ?? null,
    serverApiKeys,
    webhooks: e.WEBHOOK_URL && e.WEBHOOK_SECRET ? { url: e.WEBHOOK_URL, secret: e.WEBHOOK_SECRET } : null,
    rateLimits: {
      messages: { points: e.RATE_LIMIT_MESSAGES, seconds: 10 },
      typing: { points: e.RATE_LIMIT_TYPING, seconds: 10 },
      rooms: { points: e.RATE_LIMIT_ROOM_OPS, seconds: 60 },
      searches: { points: e.RATE_LIMIT_SEARCHES, seconds: 60 },
      reads: { points: e.RATE_LIMIT_READS, seconds: 10 },
    },
    logLevel: e.LOG_LEVEL,
    warnings,
  };
}

/** Origins are compared exactly; the only pattern allowed is a `:*` port wildcard. */
function parseOrigins(value: string, problems: string[]): string[] {
  const origins = value
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o.length > 0);
  for (const origin of origins) {
    if (
      !/^https?:\/\/[A-Za-z0-9.-]+(:(\d{1,5}|\*))?$/.test(origin) &&
      !/^https?:\/\/\[[0-9a-fA-F:]+\](:(\d{1,5}|\*))?$/.test(origin)
    ) {
      problems.push(
        `CORS_ORIGINS: "${origin}" is not an origin like https://timewise.example.com or http://localhost:*`,
      );
    }
  }
  return origins;
}

/** Shows the offending value, except for secrets. */
function show(env: Record<string, string | undefined>, key: PropertyKey | undefined): string {
  if (typeof key !== "string") return "?";
  if (/SECRET|PASSWORD|KEY/.test(key)) return "a hidden value";
  const value = env[key];
  return value === undefined ? "nothing" : JSON.stringify(value);
}
