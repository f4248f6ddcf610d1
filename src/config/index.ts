/**
 * Turns the environment into a validated `Config`, or into one readable line per bad variable.
 */

import { trustedProxyProblem } from "../http/client-address.js";
import { type FilesConfig, parseFilesConfig } from "./files.js";
import { type LaravelCookieConfig, parseLaravelKeys } from "./laravel.js";
import { type MysqlTlsConfig, parseMysqlTls } from "./mysql-tls.js";
import { type PushConfig, parsePushConfig } from "./push.js";
import { redactUrlPassword } from "./redact.js";
import { envSchema } from "./schema.js";
import { parseServerApiKeys, type ServerApiKey } from "./server-api-keys.js";

/**
 * Secrets anyone can read (the old built-in development secret, the examples in the docs): a
 * token signed with one of them would let anyone sign in as anyone, so they are never accepted.
 */
export const PUBLIC_SECRETS: readonly string[] = [
  "timewise-chat-development-secret-do-not-use",
  "the-same-long-random-secret-the-php-app-uses",
  "the-first-long-random-secret",
];
/** What the PHP kit puts in its tokens unless told otherwise. */
const DEFAULT_ISSUER = "timewise";
const DEFAULT_AUDIENCE = "timewise-chat";
const DEV_CORS_ORIGINS = "http://localhost:*,http://127.0.0.1:*";

export interface Config {
  production: boolean;
  port: number;
  host: string;
  sqlitePath: string;
  /** the chat database's page cache; the other connections share as much again */
  sqliteCacheMb: number;
  /** CHAT_DATABASE_URL: the chat data in PostgreSQL; null: in SQLite at `sqlitePath` */
  chatDatabase: ChatDatabaseConfig | null;
  /** null: the built-in user directory */
  mysql: MysqlConfig | null;
  users: UsersTableConfig;
  auth: AuthConfig;
  corsOrigins: string[];
  /** TRUST_PROXY: proxies whose X-Forwarded-For is believed (empty: none) */
  trustProxy: string[];
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
  /** (v2.3) SMTP_URL, SMTP_FROM and CHAT_PUBLIC_URL; null: no email digests */
  digests: DigestConfig | null;
  /** (v2.3) PUSH_*: the VAPID keys (null: kept in the chat database) and the operator's address */
  push: PushConfig;
  rateLimits: RateLimits;
  /** uploads: where they are kept (FILES_STORE, FILES_DIR, S3_*), their size limits and link lifetime */
  files: FilesConfig;
  /** (v2.4) RETENTION_DAYS: messages older than this are deleted daily; null keeps them forever */
  retentionDays: number | null;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** Things worth a loud line at start-up. */
  warnings: string[];
}

/** Per-user allowances: `points` events per `seconds`. */
export type RateLimits = Record<
  "messages" | "typing" | "rooms" | "searches" | "reads" | "uploads",
  { points: number; seconds: number }
>;

/** CHAT_DATABASE_*: the PostgreSQL chat database and how long its statements may wait. */
export interface ChatDatabaseConfig {
  url: string;
  poolSize: number;
  /** CHAT_DATABASE_LOCK_TIMEOUT_MS: PostgreSQL's lock_timeout on every connection */
  lockTimeoutMs: number;
  /** CHAT_DATABASE_STATEMENT_TIMEOUT_MS: statement_timeout and idle_in_transaction_session_timeout */
  statementTimeoutMs: number;
}

export interface MysqlConfig {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  connectTimeoutMs: number;
  poolSize: number;
  /** null: no TLS (MYSQL_SSL=off) */
  ssl: MysqlTlsConfig | null;
}

export interface UsersTableConfig {
  table: string;
  idColumn: string;
  loginColumn: string;
  nameColumns: string[];
  passwordColumn: string;
  activeColumn: string | null;
  scopeColumn: string | null;
  /** (v2.3) the email address column; used only when the table has it */
  emailColumn: string;
}

export interface AuthConfig {
  /** AUTH_JWT_SECRET; null: the installation's own secret, made and kept in the chat database */
  jwtSecret: Uint8Array | null;
  /** the `iss` the server signs and (when `checkIssuer`) requires */
  issuer: string;
  /** the `aud` the server signs and (when `checkAudience`) requires */
  audience: string;
  checkIssuer: boolean;
  checkAudience: boolean;
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
  /** set for a stock Laravel app: its session cookie is encrypted, and its session files carry no `sess_` prefix */
  laravel: LaravelCookieConfig | null;
}

/** (v2.3) Where email digests go out, and where their links point. */
export interface DigestConfig {
  smtpUrl: string;
  from: string;
  /** the chat's public address, without a trailing slash */
  publicUrl: string;
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

  const secret = e.AUTH_JWT_SECRET;
  const requireIssAud = e.AUTH_JWT_REQUIRE_ISS_AUD ? e.AUTH_JWT_REQUIRE_ISS_AUD === "true" : production;
  if (!secret && production) {
    problems.push("AUTH_JWT_SECRET: required when NODE_ENV=production (at least 32 bytes)");
  }
  if (secret && PUBLIC_SECRETS.includes(secret.trim())) {
    problems.push(
      "AUTH_JWT_SECRET: this value is published (in the docs or an old version) and is not a secret; set a long random one",
    );
  }
  if (e.MYSQL_HOST?.includes("://")) {
    problems.push(
      `MYSQL_HOST: a host name or address, not a URL; the port, user and password have their own MYSQL_* settings (got ${JSON.stringify(redactUrlPassword(e.MYSQL_HOST))})`,
    );
  }
  const mysqlSsl = parseMysqlTls(
    {
      mode: e.MYSQL_SSL,
      host: e.MYSQL_HOST,
      ca: e.MYSQL_SSL_CA,
      cert: e.MYSQL_SSL_CERT,
      key: e.MYSQL_SSL_KEY,
    },
    problems,
  );
  const store = e.PHP_SESSION_STORE;
  if (store === "mysql" && !e.MYSQL_HOST) {
    problems.push("PHP_SESSION_STORE: mysql needs MYSQL_HOST (the PHP app's database) to be set");
  }
  const sessionRedisUrl = e.PHP_SESSION_REDIS_URL ?? e.REDIS_URL ?? null;
  if (store === "redis" && !sessionRedisUrl) {
    problems.push("PHP_SESSION_STORE: redis needs PHP_SESSION_REDIS_URL (or REDIS_URL) to be set");
  }
  const laravel = parseLaravelKeys(
    { appKey: e.LARAVEL_APP_KEY, previousKeys: e.LARAVEL_PREVIOUS_KEYS, cipher: e.LARAVEL_CIPHER, store },
    problems,
  );
  if (e.CHAT_DATABASE_STATEMENT_TIMEOUT_MS <= e.CHAT_DATABASE_LOCK_TIMEOUT_MS) {
    // a statement cancelled first would hide the lock wait behind a vaguer "statement timeout"
    problems.push(
      `CHAT_DATABASE_STATEMENT_TIMEOUT_MS: must be longer than CHAT_DATABASE_LOCK_TIMEOUT_MS (${e.CHAT_DATABASE_LOCK_TIMEOUT_MS} ms)`,
    );
  }
  if (e.WEBHOOK_URL && !e.WEBHOOK_SECRET) {
    problems.push("WEBHOOK_SECRET: required when WEBHOOK_URL is set (at least 32 bytes)");
  }
  if (e.SMTP_URL && !e.SMTP_FROM) problems.push("SMTP_FROM: required when SMTP_URL is set");
  if (e.SMTP_URL && !e.CHAT_PUBLIC_URL) {
    problems.push("CHAT_PUBLIC_URL: required when SMTP_URL is set (digests link to the chat)");
  }
  const serverApiKeys = parseServerApiKeys(e.SERVICE_API_KEY, e.SERVER_API_KEYS, problems);
  const corsOrigins = parseOrigins(e.CORS_ORIGINS ?? (production ? "" : DEV_CORS_ORIGINS), problems);
  const trustProxy = parseProxies(e.TRUST_PROXY ?? "", problems);
  const files = parseFilesConfig(e, problems, warnings);
  const push = parsePushConfig(e, problems, warnings, production);
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    production,
    port: e.CHAT_PORT,
    host: e.CHAT_HOST,
    sqlitePath: e.SQLITE_PATH,
    sqliteCacheMb: e.SQLITE_CACHE_MB,
    chatDatabase: e.CHAT_DATABASE_URL
      ? {
          url: e.CHAT_DATABASE_URL,
          poolSize: e.CHAT_DATABASE_POOL_SIZE,
          lockTimeoutMs: e.CHAT_DATABASE_LOCK_TIMEOUT_MS,
          statementTimeoutMs: e.CHAT_DATABASE_STATEMENT_TIMEOUT_MS,
        }
      : null,
    mysql: e.MYSQL_HOST
      ? {
          host: e.MYSQL_HOST,
          port: e.MYSQL_PORT,
          user: e.MYSQL_USER,
          password: e.MYSQL_PASSWORD,
          database: e.MYSQL_DATABASE,
          connectTimeoutMs: e.MYSQL_CONNECT_TIMEOUT_MS,
          poolSize: e.MYSQL_POOL_SIZE,
          ssl: mysqlSsl,
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
      emailColumn: e.USERS_EMAIL_COLUMN,
    },
    auth: {
      jwtSecret: secret ? new TextEncoder().encode(secret) : null,
      issuer: e.AUTH_JWT_ISSUER ?? DEFAULT_ISSUER,
      audience: e.AUTH_JWT_AUDIENCE ?? DEFAULT_AUDIENCE,
      checkIssuer: requireIssAud || e.AUTH_JWT_ISSUER !== undefined,
      checkAudience: requireIssAud || e.AUTH_JWT_AUDIENCE !== undefined,
      maxTtlS: e.AUTH_JWT_MAX_TTL_S,
      loginTokenTtlS: e.AUTH_LOGIN_TOKEN_TTL_S,
      recheckS: e.AUTH_RECHECK_S,
    },
    corsOrigins,
    trustProxy,
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
          laravel,
        }
      : null,
    serviceApiKey: e.SERVICE_API_KEY ?? null,
    serverApiKeys,
    webhooks: e.WEBHOOK_URL && e.WEBHOOK_SECRET ? { url: e.WEBHOOK_URL, secret: e.WEBHOOK_SECRET } : null,
    digests:
      e.SMTP_URL && e.SMTP_FROM && e.CHAT_PUBLIC_URL
        ? { smtpUrl: e.SMTP_URL, from: e.SMTP_FROM, publicUrl: e.CHAT_PUBLIC_URL.replace(/\/+$/, "") }
        : null,
    push,
    rateLimits: {
      messages: { points: e.RATE_LIMIT_MESSAGES, seconds: 10 },
      typing: { points: e.RATE_LIMIT_TYPING, seconds: 10 },
      rooms: { points: e.RATE_LIMIT_ROOM_OPS, seconds: 60 },
      searches: { points: e.RATE_LIMIT_SEARCHES, seconds: 60 },
      reads: { points: e.RATE_LIMIT_READS, seconds: 10 },
      uploads: { points: e.RATE_LIMIT_UPLOADS, seconds: 60 },
    },
    files,
    retentionDays: e.RETENTION_DAYS ?? null,
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
        `CORS_ORIGINS: "${redactUrlPassword(origin)}" is not an origin like https://timewise.example.com or http://localhost:*`,
      );
    }
  }
  return origins;
}

/** Addresses and CIDR ranges; all bad entries are named on one line. */
function parseProxies(value: string, problems: string[]): string[] {
  const entries = value
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  const bad = entries.map(trustedProxyProblem).filter((p) => p !== null);
  if (bad.length > 0) problems.push(`TRUST_PROXY: ${bad.join("; ")}`);
  return entries;
}

/** Shows the offending value, except for secrets and the password inside a URL. */
function show(env: Record<string, string | undefined>, key: PropertyKey | undefined): string {
  if (typeof key !== "string") return "?";
  if (/SECRET|PASSWORD|KEY/.test(key)) return "a hidden value";
  const value = env[key];
  return value === undefined ? "nothing" : JSON.stringify(redactUrlPassword(value));
}
