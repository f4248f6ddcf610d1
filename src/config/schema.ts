/**
 * Every setting TimeWise Chat reads from the environment, with its default and why it exists.
 * This is the only place that knows variable names; the rest of the code receives a typed `Config`.
 */
import { z } from "zod";
import { LARAVEL_CIPHER_NAMES } from "./laravel.js";

/** SQL identifiers from settings end up in queries, so only plain names are accepted. */
const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "use only letters, digits and _");
const optionalIdentifier = identifier.optional();
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = (max: number) => z.coerce.number().int().min(1).max(max);
const emptyAsUndefined = (v: unknown) => (v === "" ? undefined : v);

export const envSchema = z.object({
  /** "production" turns on the strict checks (a real JWT secret is required). */
  NODE_ENV: z.string().default("development"),
  /** Listen address for HTTP and Socket.io, which share one port. */
  CHAT_PORT: port.default(3001),
  CHAT_HOST: z.string().min(1).default("0.0.0.0"),
  /** The SQLite file with rooms, members, messages and read state (and the built-in user directory). */
  SQLITE_PATH: z.string().min(1).default("./database.db"),
  /**
   * SQLite's page cache for the chat database, in MB. It fills as the database grows and then
   * stays at this size; the other connections (snapshot reads, search, the background worker)
   * share as much again.
   */
  SQLITE_CACHE_MB: positiveInt(16_384).default(64),
  /**
   * A PostgreSQL database (`postgres://user:password@host:port/db`) for the chat data, shared by
   * every node. Unset: the chat data is in the SQLite file at SQLITE_PATH.
   */
  CHAT_DATABASE_URL: z.preprocess(
    emptyAsUndefined,
    z
      .url({ protocol: /^postgres(ql)?$/, error: "write it as postgres://user:password@host:port/database" })
      .optional(),
  ),
  /** Connections to CHAT_DATABASE_URL per node. */
  CHAT_DATABASE_POOL_SIZE: positiveInt(1000).default(10),
  /**
   * How long a chat database statement waits for a lock another connection holds (a room row
   * during a long write, a table during maintenance) before it gives up and the client is told
   * UNAVAILABLE, to try again. Without it a send would wait forever behind a stuck lock.
   */
  CHAT_DATABASE_LOCK_TIMEOUT_MS: positiveInt(600_000).default(5000),
  /**
   * The longest any one chat database statement may run (a search over a huge room, a slow disk),
   * and the longest a connection may sit idle inside a transaction, before PostgreSQL cancels it
   * (the client gets UNAVAILABLE). Must be longer than CHAT_DATABASE_LOCK_TIMEOUT_MS.
   */
  CHAT_DATABASE_STATEMENT_TIMEOUT_MS: positiveInt(3_600_000).default(30_000),
  /** The PHP app's MySQL/MariaDB. Unset: the built-in user directory in the SQLite file is used. */
  MYSQL_HOST: z.preprocess(emptyAsUndefined, z.string().optional()),
  MYSQL_PORT: port.default(3306),
  MYSQL_USER: z.string().default("root"),
  MYSQL_PASSWORD: z.string().default(""),
  MYSQL_DATABASE: z.string().min(1).default("timewise"),
  MYSQL_CONNECT_TIMEOUT_MS: positiveInt(600_000).default(10_000),
  MYSQL_POOL_SIZE: positiveInt(1000).default(10),
  /**
   * TLS to MySQL: `off`; `required` (encrypted, any certificate: only against eavesdropping);
   * `verify` (encrypted, the certificate must come from MYSQL_SSL_CA, or a system CA, and name MYSQL_HOST).
   */
  MYSQL_SSL: z.preprocess(emptyAsUndefined, z.enum(["off", "required", "verify"]).default("off")),
  /** PEM file of the CA that signed the MySQL server's certificate (default: the system's CAs). */
  MYSQL_SSL_CA: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** PEM files of a client certificate and its key, for a MySQL user that `REQUIRE X509`. */
  MYSQL_SSL_CERT: z.preprocess(emptyAsUndefined, z.string().optional()),
  MYSQL_SSL_KEY: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** How the PHP app's users table is read; identifiers only, values are always bound. */
  USERS_TABLE: identifier.default("users"),
  USERS_ID_COLUMN: identifier.default("id"),
  USERS_LOGIN_COLUMN: identifier.default("username"),
  /** One column, or several joined with a space (`first_name,last_name`). */
  USERS_NAME_COLUMN: z
    .string()
    .default("username")
    .transform((v) => v.split(",").map((c) => c.trim()))
    .pipe(z.array(identifier).min(1)),
  USERS_PASSWORD_COLUMN: identifier.default("password"),
  USERS_ACTIVE_COLUMN: z.preprocess(emptyAsUndefined, optionalIdentifier),
  /** e.g. company_id: users only see users with the same value. */
  USERS_SCOPE_COLUMN: z.preprocess(emptyAsUndefined, optionalIdentifier),
  /**
   * (v2.3) Where a user's email address is, for digests. A table without this column is fine:
   * then nobody has an address (the default `email` must not break installs that have none).
   */
  USERS_EMAIL_COLUMN: z.preprocess(emptyAsUndefined, identifier.default("email")),
  /** HS256 secret shared with the PHP app. */
  AUTH_JWT_SECRET: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .refine((s) => Buffer.byteLength(s) >= 32, "must be at least 32 bytes long")
      .optional(),
  ),
  /** The `iss` of tokens (default `timewise`); setting it makes the claim required. */
  AUTH_JWT_ISSUER: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** The `aud` of tokens (default `timewise-chat`); setting it makes the claim required. */
  AUTH_JWT_AUDIENCE: z.preprocess(emptyAsUndefined, z.string().optional()),
  /**
   * Whether tokens must carry the `iss` and `aud` above. Default: yes in production, so a token
   * the PHP app made for another service with the same secret is not a chat token.
   */
  AUTH_JWT_REQUIRE_ISS_AUD: z.preprocess(emptyAsUndefined, z.enum(["true", "false"]).optional()),
  /** The longest token lifetime accepted. */
  AUTH_JWT_MAX_TTL_S: positiveInt(31_536_000).default(604_800),
  /** Lifetime of the tokens `POST /api/login` hands out (capped at AUTH_JWT_MAX_TTL_S). */
  AUTH_LOGIN_TOKEN_TTL_S: positiveInt(31_536_000).default(43_200),
  /** How often live connections are checked again (user disabled or deleted → disconnected). */
  AUTH_RECHECK_S: positiveInt(86_400).default(300),
  /**
   * The reverse proxies in front of the server (addresses or CIDR ranges, comma-separated). Only
   * from them is `X-Forwarded-For` believed; unset, every request's address is its TCP peer.
   */
  TRUST_PROXY: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** Allowed page origins, comma-separated; `http://host:*` allows any port of that host. */
  CORS_ORIGINS: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** Characters (Unicode code points) in a message body. */
  MAX_MESSAGE_LENGTH: positiveInt(100_000).default(4000),
  /** Largest Socket.io packet accepted; bigger ones close that connection (protects memory). */
  MAX_PAYLOAD_BYTES: positiveInt(16_777_216).default(262_144),
  /** Connections one user may hold at once (tabs, phones); more are refused. */
  MAX_SOCKETS_PER_USER: positiveInt(10_000).default(20),
  /**
   * Groups one user can be in at most; creating or adding someone past it is CONFLICT, so nobody
   * can be buried under groups they were added to. Rooms the PHP app syncs do not count against it.
   */
  MAX_GROUPS_PER_USER: positiveInt(1_000_000).default(500),
  /**
   * Bytes of events waiting for one client that does not read before its connection is dropped;
   * answers to its own requests do not count (past this many, new requests get RATE_LIMITED).
   */
  MAX_QUEUED_BYTES: positiveInt(1_073_741_824).default(4_194_304),
  /** Per-user rate limits: message sends, edits, deletions and reactions per 10 seconds. */
  RATE_LIMIT_MESSAGES: positiveInt(1_000_000).default(120),
  /** `typing` events per user per 10 seconds. */
  RATE_LIMIT_TYPING: positiveInt(1_000_000).default(30),
  /** Room operations (create, direct, rename, members, roles, leave) per user per minute. */
  RATE_LIMIT_ROOM_OPS: positiveInt(1_000_000).default(60),
  /** Searches (users and messages) per user per minute. */
  RATE_LIMIT_SEARCHES: positiveInt(1_000_000).default(60),
  /** Everything else (lists, history, catch-up, read markers, presence) per user per 10 seconds. */
  RATE_LIMIT_READS: positiveInt(1_000_000).default(600),
  /** File uploads (`POST /api/files`) per user per minute; each may mean image work, so fewer than sends. */
  RATE_LIMIT_UPLOADS: positiveInt(1_000_000).default(30),
  /** Accept the PHP app's session cookie at the handshake, read from this store. Unset: tokens only. */
  PHP_SESSION_STORE: z.preprocess(emptyAsUndefined, z.enum(["files", "mysql", "redis"]).optional()),
  /** files store: PHP's `session.save_path` (the folder with the `sess_<id>` files). */
  PHP_SESSION_PATH: z.string().min(1).default("/var/lib/php/sessions"),
  /** PHP's `session.name`: the cookie that carries the session id. */
  PHP_SESSION_COOKIE: z
    .string()
    .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/, "must be a cookie name such as PHPSESSID")
    .default("PHPSESSID"),
  /** Where the session keeps the signed-in user's id; a dotted path reads nested arrays (`auth.id`). */
  PHP_SESSION_USER_KEY: z.string().min(1).max(200).default("user_id"),
  /** PHP's `session.gc_maxlifetime`: a session idle for longer has expired. */
  PHP_SESSION_LIFETIME_S: positiveInt(31_536_000).default(1440),
  /** mysql store: the sessions table and its columns (Laravel's `sessions` table by default). */
  PHP_SESSION_TABLE: identifier.default("sessions"),
  PHP_SESSION_ID_COLUMN: identifier.default("id"),
  PHP_SESSION_DATA_COLUMN: identifier.default("payload"),
  PHP_SESSION_TIME_COLUMN: identifier.default("last_activity"),
  /** Whether the time column holds the last activity (expiry = + lifetime) or the expiry itself. */
  PHP_SESSION_TIME_IS: z.enum(["last_activity", "expires_at"]).default("last_activity"),
  /** redis store: phpredis's server (default REDIS_URL) and key prefix. */
  PHP_SESSION_REDIS_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^rediss?$/ }).optional()),
  PHP_SESSION_REDIS_PREFIX: z.string().max(200).default("PHPREDIS_SESSION:"),
  /**
   * A stock Laravel app's APP_KEY (`base64:…`, as in its .env): the session cookie is encrypted
   * with it and is opened with it. Unset: the cookie holds the session id as it is (plain PHP).
   */
  LARAVEL_APP_KEY: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** Laravel's APP_PREVIOUS_KEYS: older keys, comma-separated, still accepted after a key rotation. */
  LARAVEL_PREVIOUS_KEYS: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** Laravel's `config/app.php` `cipher`; written in any case, as Laravel accepts it. */
  LARAVEL_CIPHER: z.preprocess(
    (v) => (typeof v === "string" ? v.toUpperCase() : v),
    z.enum(LARAVEL_CIPHER_NAMES).default("AES-256-CBC"),
  ),
  /** The PHP back end's key for `/api/server/...`. Unset: that API does not exist (404). */
  SERVICE_API_KEY: z.preprocess(
    emptyAsUndefined,
    z.string().min(32, "must be at least 32 characters long").max(512).optional(),
  ),
  /**
   * Scoped keys for the server API, `name:scope,scope:key` separated by `;` or new lines, e.g.
   * `badge:unread:…;sync:rooms,messages:…`. Scopes: messages, rooms, unread, tokens, disconnect, all.
   */
  SERVER_API_KEYS: z.preprocess(emptyAsUndefined, z.string().max(65_536).optional()),
  /** Where events are POSTed for the PHP app (message.created, presence.changed, room.updated). */
  WEBHOOK_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  /** Signs every webhook (HMAC-SHA256); required with WEBHOOK_URL. */
  WEBHOOK_SECRET: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .refine((s) => Buffer.byteLength(s) >= 32, "must be at least 32 bytes long")
      .optional(),
  ),
  /**
   * (v2.3) Where email digests are sent: `smtp://user:pass@host:port` or `smtps://…` (TLS from the
   * start). Unset: no digests (the server says so once at start-up).
   */
  SMTP_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^smtps?$/ }).optional()),
  /** The digest's From address, e.g. `TimeWise Chat <chat@timewise.example.com>`; required with SMTP_URL. */
  SMTP_FROM: z.preprocess(emptyAsUndefined, z.string().min(3).max(320).optional()),
  /** The chat's address as people open it (digests link to it), e.g. `https://chat.timewise.example.com`. */
  CHAT_PUBLIC_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  /**
   * (v2.3) The VAPID key pair that signs Web Push (base64url, as `npx web-push generate-vapid-keys`
   * prints them); both or neither. Unset: a key pair made once and kept in the chat database.
   */
  PUSH_VAPID_PUBLIC_KEY: z.preprocess(emptyAsUndefined, z.string().max(200).optional()),
  PUSH_VAPID_PRIVATE_KEY: z.preprocess(emptyAsUndefined, z.string().max(200).optional()),
  /** (v2.3) Where push services can reach the operator: `mailto:…` or `https://…` (default CHAT_PUBLIC_URL when https). */
  PUSH_SUBJECT: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .max(320)
      .regex(
        /^(mailto:[^\s@]+@[^\s@]+|https:\/\/[^\s/]+\S*)$/,
        "write it as mailto:you@example.com or https://your-site",
      )
      .optional(),
  ),
  /** Several nodes behind a load balancer share fan-out through this Redis. */
  REDIS_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^rediss?$/ }).optional()),
  /** Prefix of TimeWise Chat's keys and channels in that Redis (several installations can share one). */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{1,64}$/, "use letters, digits, :, _ or -")
    .default("timewise-chat"),
  /** Where uploaded files are kept: `disk` (FILES_DIR) or `s3` (any S3-compatible service, for several nodes). */
  FILES_STORE: z.preprocess(emptyAsUndefined, z.enum(["disk", "s3"]).default("disk")),
  /** disk store: the folder for uploads. Unset: `files` beside the SQLite file (SQLITE_PATH). */
  FILES_DIR: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** The largest upload, in bytes; S3's single PUT stops at 5 GiB, so that is the ceiling. */
  FILES_MAX_BYTES: z.coerce.number().int().min(1).max(5_368_709_120).default(26_214_400),
  /** The total size of the files one user may keep, in bytes. */
  FILES_QUOTA_BYTES: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(1_073_741_824),
  /** (v2.4) Messages older than this many days are deleted daily. Unset: kept forever. */
  RETENTION_DAYS: z.preprocess(emptyAsUndefined, positiveInt(36_500).optional()),
  /** How long a signed download link works, in seconds. */
  FILES_URL_TTL_S: positiveInt(604_800).default(3600),
  /** s3 store: the bucket (required with FILES_STORE=s3), its region and the service's address. */
  S3_BUCKET: z.preprocess(emptyAsUndefined, z.string().min(3).max(255).optional()),
  S3_REGION: z.preprocess(emptyAsUndefined, z.string().default("us-east-1")),
  /** An S3-compatible service (MinIO, Ceph, R2, …). Unset: Amazon S3 itself. */
  S3_ENDPOINT: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/ }).optional()),
  /** Both or neither; neither: the AWS SDK's own credential chain (environment, instance role). */
  S3_ACCESS_KEY_ID: z.preprocess(emptyAsUndefined, z.string().optional()),
  S3_SECRET_ACCESS_KEY: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** `true` for services that want `host/bucket/key` addresses instead of `bucket.host/key` (most self-hosted ones). */
  S3_FORCE_PATH_STYLE: z.preprocess(emptyAsUndefined, z.enum(["true", "false"]).default("false")),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type Env = z.output<typeof envSchema>;
