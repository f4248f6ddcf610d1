/**
 * Sessions kept in a MySQL/MariaDB table by the PHP app's database session handler, Laravel's
 * `sessions` table included (id, base64 `payload`, `last_activity` as a Unix time). The payload
 * may be stored raw or base64-encoded: base64 never contains the `:`, `|` or `;` every serialized
 * session has, so the two are told apart without a setting. Only one SELECT by primary key runs.
 */
import { createPool, type Pool, type RowDataPacket } from "mysql2/promise";
import type { MysqlConfig, PhpSessionConfig } from "../../config/index.js";
import { type SessionStore, SessionStoreUnavailableError, type StoredSession } from "./types.js";

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** A handshake should fail fast rather than wait on a slow database. */
const QUERY_TIMEOUT_MS = 5000;

export class MysqlSessionStore implements SessionStore {
  readonly tornReads = false;
  private readonly pool: Pool;
  private readonly sql: string;

  constructor(
    mysql: MysqlConfig,
    private readonly session: PhpSessionConfig,
    private readonly now: () => number = Date.now,
  ) {
    const q = (name: string) => `\`${name}\``;
    const t = session.table;
    // identifiers were validated as plain names by the configuration; the id is always bound
    this.sql = `SELECT ${q(t.dataColumn)} AS data, ${q(t.timeColumn)} AS time FROM ${q(t.name)} WHERE ${q(t.idColumn)} = ? LIMIT 1`;
    this.pool = createPool({
      host: mysql.host,
      port: mysql.port,
      user: mysql.user,
      password: mysql.password,
      database: mysql.database,
      connectTimeout: mysql.connectTimeoutMs,
      connectionLimit: Math.min(mysql.poolSize, 5),
      maxIdle: Math.min(mysql.poolSize, 5),
      enableKeepAlive: true,
      charset: "utf8mb4",
      // a copy: mysql2 writes into the object it is given
      ssl: mysql.ssl ? { ...mysql.ssl } : undefined,
    });
  }

  async load(id: string): Promise<StoredSession | null> {
    let rows: RowDataPacket[];
    try {
      [rows] = await this.pool.query<RowDataPacket[]>({
        sql: this.sql,
        values: [id],
        timeout: QUERY_TIMEOUT_MS,
      });
    } catch (error) {
      const code = (error as { code?: string }).code ?? "error";
      throw new SessionStoreUnavailableError(`cannot read the PHP sessions table (${code})`);
    }
    const row = rows[0];
    if (!row) return null;
    const expiresAt = this.expiresAt(row.time);
    return { data: payloadBytes(row.data), expired: expiresAt === null || this.now() >= expiresAt };
  }

  /** The expiry in ms since the epoch, from a Unix time (number or digits) or a DATETIME. */
  private expiresAt(value: unknown): number | null {
    let ms: number | null = null;
    if (typeof value === "number") ms = value * 1000;
    else if (typeof value === "string" && /^\d{1,12}$/.test(value)) ms = Number(value) * 1000;
    else if (value instanceof Date && !Number.isNaN(value.getTime())) ms = value.getTime();
    if (ms === null) return null;
    return this.session.table.timeIs === "expires_at" ? ms : ms + this.session.lifetimeS * 1000;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** The serialized session bytes: base64 (Laravel) is decoded, a raw BLOB or TEXT is taken as it is. */
function payloadBytes(value: unknown): Uint8Array {
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(typeof value === "string" ? value : "", "utf8");
  const text = bytes.toString("latin1").trim();
  if (text.length > 0 && BASE64.test(text)) return Buffer.from(text, "base64");
  return bytes;
}
