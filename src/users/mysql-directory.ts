/**
 * The user directory read from the PHP app's MySQL/MariaDB users table (read only). Table and
 * column names come from configuration (already validated as plain identifiers); every value is
 * bound with `?`. Any failure to get an answer — MySQL down, slow, misconfigured — surfaces as
 * DirectoryUnavailableError, so callers answer "try again later" and never "unknown user".
 */
import { createPool, type Pool, type RowDataPacket } from "mysql2/promise";
import type { MysqlConfig, UsersTableConfig } from "../config/index.js";
import {
  DirectoryUnavailableError,
  type DirectoryUser,
  type DirectoryUserWithHash,
  type UserDirectory,
  type UserSearchOptions,
} from "./types.js";

/** MySQL caps `IN (…)` lists only by packet size; 500 keeps each query small and quick. */
const IN_CHUNK = 500;
/** A search never returns more than this, whatever the caller asks. */
const MAX_SEARCH_LIMIT = 200;
/** A slow query should fail a handshake quickly rather than hang it. */
const DEFAULT_QUERY_TIMEOUT_MS = 5000;

/** Tuning for tests and unusual installations. */
export interface MysqlDirectoryOptions {
  /** Longest a single query may run (at most the connect timeout). Default 5 s. */
  queryTimeoutMs?: number;
}

/** Reads users from the PHP app's users table through a small connection pool. */
export class MysqlDirectory implements UserDirectory {
  readonly kind = "mysql" as const;
  private readonly pool: Pool;
  private readonly queryTimeoutMs: number;
  /** Covers waiting for a pooled connection and connecting, which mysql2's query timeout does not. */
  private readonly deadlineMs: number;
  /** built on first use, once we know whether the table has the email column */
  private sql: ReturnType<typeof buildSql> | null = null;

  constructor(
    private readonly mysql: MysqlConfig,
    private readonly users: UsersTableConfig,
    options: MysqlDirectoryOptions = {},
  ) {
    this.queryTimeoutMs = Math.min(
      options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS,
      mysql.connectTimeoutMs,
    );
    this.deadlineMs = mysql.connectTimeoutMs + this.queryTimeoutMs;
    // createPool does not connect: an unreachable MySQL at start-up is reported by /ready, not fatal.
    this.pool = createPool({
      host: mysql.host,
      port: mysql.port,
      user: mysql.user,
      password: mysql.password,
      database: mysql.database,
      connectTimeout: mysql.connectTimeoutMs,
      connectionLimit: mysql.poolSize,
      maxIdle: mysql.poolSize,
      enableKeepAlive: true,
      charset: "utf8mb4",
      // a copy: mysql2 writes into the object it is given
      ssl: mysql.ssl ? { ...mysql.ssl } : undefined,
      // Ids and scopes are read as strings anyway; this keeps BIGINT ids exact on the way.
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
  }

  async findById(id: string): Promise<DirectoryUser | null> {
    return (await this.findByIds([id])).get(id) ?? null;
  }

  async findByIds(ids: readonly string[]): Promise<Map<string, DirectoryUser>> {
    const wanted = [...new Set(ids)].filter((id) => id.length > 0);
    const found = new Map<string, DirectoryUser>();
    for (let i = 0; i < wanted.length; i += IN_CHUNK) {
      const chunk = wanted.slice(i, i + IN_CHUNK);
      const rows = await this.rows((await this.statements()).byIds(chunk.length), chunk);
      const asked = new Set(chunk);
      for (const row of rows) {
        const user = toUser(row);
        // MySQL compares "7abc" = 7 on an INT column; only an exact id answers for an id.
        if (asked.has(user.id)) found.set(user.id, user);
      }
    }
    return found;
  }

  async findByLogin(login: string): Promise<DirectoryUserWithHash | null> {
    // The column's collation decides case-sensitivity, exactly as the PHP app's own sign-in does.
    const rows = await this.rows((await this.statements()).byLogin, [login]);
    const users = rows.map((row) => ({ ...toUser(row), passwordHash: nullableText(row.u_hash) }));
    if (users.length <= 1) return users[0] ?? null;
    // Two logins differing only in case (a case-sensitive collation): only the exact one is meant.
    return users.find((u) => u.login === login) ?? null;
  }

  async search(query: string, options: UserSearchOptions): Promise<DirectoryUser[]> {
    const q = query.trim().toLowerCase();
    const limit = Math.max(1, Math.min(Math.floor(options.limit) || 1, MAX_SEARCH_LIMIT));
    const values: unknown[] = [options.excludeId];
    if (options.scoped) values.push(options.scope);
    if (q.length > 0) {
      const contains = `%${escapeLike(q)}%`;
      const prefix = `${escapeLike(q)}%`;
      values.push(contains, contains, q, q, prefix, prefix);
    }
    values.push(limit);
    const rows = await this.rows((await this.statements()).search(options.scoped, q.length > 0), values);
    return rows.map(toUser);
  }

  async ping(): Promise<void> {
    await this.rows("SELECT 1 AS ok", []);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /**
   * The SQL, built on first use: USERS_EMAIL_COLUMN defaults to `email`, and a users table without
   * that column must keep working (nobody then has an address). A failed check is not kept.
   */
  private async statements(): Promise<ReturnType<typeof buildSql>> {
    if (this.sql) return this.sql;
    const found = await this.rows(
      "SELECT 1 AS ok FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?",
      [this.users.table, this.users.emailColumn],
    );
    this.sql = buildSql(this.users, found.length > 0);
    return this.sql;
  }

  /** Runs one query with a hard deadline; every failure becomes DirectoryUnavailableError. */
  private async rows(sql: string, values: unknown[]): Promise<RowDataPacket[]> {
    let timer: NodeJS.Timeout | undefined;
    const query = this.pool.query<RowDataPacket[]>({ sql, values, timeout: this.queryTimeoutMs });
    // The deadline may win the race; the late query's rejection must not become unhandled.
    query.catch(() => {});
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error("no answer in time"), { code: "DEADLINE" })),
        this.deadlineMs,
      );
    });
    try {
      const [rows] = await Promise.race([query, deadline]);
      return rows;
    } catch (error) {
      throw new DirectoryUnavailableError(explain(error, this.mysql));
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The SQL, built once from the column mapping. */
function buildSql(users: UsersTableConfig, withEmail: boolean) {
  const q = (name: string) => `\`${name}\``;
  const table = q(users.table);
  const id = q(users.idColumn);
  const login = q(users.loginColumn);
  // CONCAT_WS skips NULL parts, so a missing last name does not leave "Ann NULL".
  const name = `TRIM(CONCAT_WS(' ', ${users.nameColumns.map(q).join(", ")}))`;
  // "Active" means truthy: NULL and 0 are inactive, as PHP's `if ($user['active'])` would read them.
  const active = users.activeColumn
    ? `(${q(users.activeColumn)} IS NOT NULL AND ${q(users.activeColumn)} <> 0)`
    : "1";
  const scope = users.scopeColumn ? q(users.scopeColumn) : null;
  const columns = [
    `CAST(${id} AS CHAR) AS u_id`,
    `${login} AS u_login`,
    `${name} AS u_name`,
    `${active} AS u_active`,
    scope ? `CAST(${scope} AS CHAR) AS u_scope` : "NULL AS u_scope",
    withEmail ? `CAST(${q(users.emailColumn)} AS CHAR) AS u_email` : "NULL AS u_email",
  ].join(", ");
  const select = `SELECT ${columns} FROM ${table}`;
  // LOWER() on both sides keeps search case-insensitive even under a case-sensitive collation.
  const lowLogin = `LOWER(${login})`;
  const lowName = `LOWER(${name})`;

  return {
    byIds: (count: number) => `${select} WHERE ${id} IN (${Array(count).fill("?").join(", ")})`,
    byLogin: `SELECT ${columns}, ${q(users.passwordColumn)} AS u_hash FROM ${table} WHERE ${login} = ? LIMIT 2`,
    search(scoped: boolean, withQuery: boolean): string {
      const where = [active, `${id} <> ?`];
      // `<=>` is NULL-safe: users without a scope only see each other.
      if (scoped) where.push(scope ? `${scope} <=> ?` : "? IS NULL");
      if (withQuery) where.push(`(${lowLogin} LIKE ? ESCAPE '!' OR ${lowName} LIKE ? ESCAPE '!')`);
      const rank = withQuery
        ? `CASE WHEN ${lowLogin} = ? OR ${lowName} = ? THEN 0 ` +
          `WHEN ${lowLogin} LIKE ? ESCAPE '!' OR ${lowName} LIKE ? ESCAPE '!' THEN 1 ELSE 2 END, `
        : "";
      return `${select} WHERE ${where.join(" AND ")} ORDER BY ${rank}${lowName}, ${lowLogin}, ${id} LIMIT ?`;
    },
  };
}

/** `!` as the LIKE escape works whatever sql_mode says about backslashes. */
export function escapeLike(text: string): string {
  return text.replace(/[!%_]/g, (c) => `!${c}`);
}

function toUser(row: RowDataPacket): DirectoryUser {
  const login = text(row.u_login);
  return {
    id: text(row.u_id),
    login,
    // A user with no name parts still needs something to show.
    name: text(row.u_name) || login,
    active: Number(row.u_active) !== 0,
    scope: nullableText(row.u_scope),
    // an empty address is none
    email: nullableText(row.u_email) || null,
  };
}

/** Binary columns arrive as Buffers; everything else as strings or numbers. */
function nullableText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  return String(value);
}

function text(value: unknown): string {
  return nullableText(value) ?? "";
}

/** Turns a driver error into one line saying what to check, keeping the original as the cause. */
function explain(error: unknown, mysql: MysqlConfig): Error {
  const code =
    tlsCode(error) ??
    (typeof error === "object" && error !== null && "code" in error ? String(error.code) : "");
  const where = `MySQL at ${mysql.host}:${mysql.port}`;
  const hints: Record<string, string> = {
    ECONNREFUSED: `${where} refused the connection. Check that it runs, and MYSQL_HOST and MYSQL_PORT.`,
    ENOTFOUND: `${where}: the host name is unknown. Check MYSQL_HOST.`,
    EAI_AGAIN: `${where}: the host name could not be looked up. Check DNS and MYSQL_HOST.`,
    ETIMEDOUT: `${where} did not answer in time. Check the network and MYSQL_CONNECT_TIMEOUT_MS.`,
    DEADLINE: `${where} did not answer in time. Check that it is not overloaded.`,
    PROTOCOL_SEQUENCE_TIMEOUT: `${where} took too long to answer a query. Check that it is not overloaded.`,
    ER_ACCESS_DENIED_ERROR: `${where} refused the login. Check MYSQL_USER and MYSQL_PASSWORD.`,
    ER_BAD_DB_ERROR: `${where} has no database "${mysql.database}". Check MYSQL_DATABASE.`,
    ER_NO_SUCH_TABLE: `${where}: the users table does not exist. Check USERS_TABLE and MYSQL_DATABASE.`,
    ER_BAD_FIELD_ERROR: `${where}: a users column does not exist. Check the USERS_*_COLUMN settings.`,
    ER_TABLEACCESS_DENIED_ERROR: `${where}: MYSQL_USER may not read the users table. Grant it SELECT.`,
    ER_COLUMNACCESS_DENIED_ERROR: `${where}: MYSQL_USER may not read a users column. Grant it SELECT.`,
    HANDSHAKE_NO_SSL_SUPPORT: `${where} does not offer TLS, which MYSQL_SSL asks for. Turn TLS on in MySQL, or set MYSQL_SSL=off.`,
    DEPTH_ZERO_SELF_SIGNED_CERT: `${where} has a self-signed certificate. Point MYSQL_SSL_CA at it.`,
    SELF_SIGNED_CERT_IN_CHAIN: `${where}: its certificate is not from a trusted CA. Check MYSQL_SSL_CA.`,
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: `${where}: its certificate is not from a trusted CA. Check MYSQL_SSL_CA.`,
    UNABLE_TO_GET_ISSUER_CERT_LOCALLY: `${where}: its certificate is not from a trusted CA. Check MYSQL_SSL_CA.`,
    ERR_TLS_CERT_ALTNAME_INVALID: `${where}: its certificate is for another name. MYSQL_HOST must be a name the certificate lists.`,
  };
  const reason = error instanceof Error ? error.message : String(error);
  const hint = hints[code] ?? `${where} failed: ${reason}`;
  return new Error(hint, { cause: error });
}

/**
 * mysql2 replaces the code of every TLS failure with HANDSHAKE_SSL_ERROR, keeping only Node's
 * message; the message (OpenSSL's wording, "self signed" in older versions) tells which one it was.
 */
const TLS_MESSAGES: [RegExp, string][] = [
  [/self[- ]signed certificate in certificate chain/i, "SELF_SIGNED_CERT_IN_CHAIN"],
  [/self[- ]signed certificate/i, "DEPTH_ZERO_SELF_SIGNED_CERT"],
  [/unable to verify the first certificate/i, "UNABLE_TO_VERIFY_LEAF_SIGNATURE"],
  [/unable to get local issuer certificate/i, "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"],
  [/does not match certificate's altnames/i, "ERR_TLS_CERT_ALTNAME_INVALID"],
];

/** The Node TLS code behind a HANDSHAKE_SSL_ERROR, or undefined for any other error. */
function tlsCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || (error as { code?: unknown }).code !== "HANDSHAKE_SSL_ERROR")
    return undefined;
  return TLS_MESSAGES.find(([pattern]) => pattern.test(error.message))?.[1];
}
