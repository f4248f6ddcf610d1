/**
 * The built-in user directory when the chat data is in PostgreSQL (CHAT_DATABASE_URL): the same
 * `directory_users` table and rules as the SQLite version (builtin-directory.ts), in the chat
 * database every node shares, so a user added with `npm run users` on one machine signs in on all.
 * It runs on the chat store's pool, so it shares its connections and its lock and statement timeouts.
 */
import type pg from "pg";
import { hashPassword } from "../auth/passwords.js";
import { isUniqueViolation } from "../storage/postgres/pool.js";
import {
  CANONICAL_ID,
  checkedEmail,
  checkedNewUser,
  checkedPassword,
  fold,
  LoginTakenError,
  type ManagedDirectory,
  type NewDirectoryUser,
  searchLimit,
} from "./builtin-directory.js";
import {
  DirectoryUnavailableError,
  type DirectoryUser,
  type DirectoryUserWithHash,
  type UserSearchOptions,
} from "./types.js";

interface Row {
  id: string;
  login: string;
  name: string;
  active: boolean;
  scope: string | null;
  password_hash: string | null;
  email: string | null;
}

const COLUMNS = "id::text AS id, login, name, active, scope, password_hash, email";
/**
 * Logins compare as lower(login) (the unique index directory_users_by_login) against the folded
 * input; new logins are stored in NFC, so composed and decomposed spellings meet.
 */
const BY_LOGIN = `SELECT ${COLUMNS} FROM directory_users WHERE lower(login) = $1`;
const BY_ID = `SELECT ${COLUMNS} FROM directory_users WHERE id = $1::bigint`;
/**
 * The SQLite version's search: strpos is a plain substring test (no LIKE wildcards), and the
 * order is by code point (COLLATE "C"), as SQLite compares text, whatever the database's locale.
 */
const SEARCH = `
  SELECT ${COLUMNS} FROM directory_users
  WHERE active AND id::text <> $2
    AND (NOT $3 OR scope IS NOT DISTINCT FROM $4)
    AND ($1 = '' OR strpos(lower(normalize(login, NFC)), $1) > 0 OR strpos(lower(normalize(name, NFC)), $1) > 0)
  ORDER BY
    CASE
      WHEN $1 = '' THEN 0
      WHEN lower(normalize(login, NFC)) = $1 OR lower(normalize(name, NFC)) = $1 THEN 0
      WHEN strpos(lower(normalize(login, NFC)), $1) = 1 OR strpos(lower(normalize(name, NFC)), $1) = 1 THEN 1
      ELSE 2
    END,
    lower(normalize(name, NFC)) COLLATE "C", lower(normalize(login, NFC)) COLLATE "C", id
  LIMIT $5`;

/** The built-in directory in the PostgreSQL chat database. */
export class PostgresDirectory implements ManagedDirectory {
  readonly kind = "builtin" as const;

  /** `pool` belongs to the chat store, which closes it. */
  constructor(private readonly pool: pg.Pool) {}

  async findById(id: string): Promise<DirectoryUser | null> {
    return (await this.findByIds([id])).get(id) ?? null;
  }

  async findByIds(ids: readonly string[]): Promise<Map<string, DirectoryUser>> {
    const wanted = [...new Set(ids)].filter((id) => CANONICAL_ID.test(id));
    const found = new Map<string, DirectoryUser>();
    if (wanted.length === 0) return found;
    const rows = await this.read(`SELECT ${COLUMNS} FROM directory_users WHERE id = ANY($1::bigint[])`, [
      wanted,
    ]);
    for (const row of rows) found.set(row.id, toUser(row));
    return found;
  }

  async findByLogin(login: string): Promise<DirectoryUserWithHash | null> {
    const [row] = await this.read(BY_LOGIN, [fold(login)]);
    return row ? { ...toUser(row), passwordHash: row.password_hash } : null;
  }

  async search(query: string, options: UserSearchOptions): Promise<DirectoryUser[]> {
    const rows = await this.read(SEARCH, [
      fold(query.trim()),
      options.excludeId,
      options.scoped,
      options.scope,
      searchLimit(options.limit),
    ]);
    return rows.map(toUser);
  }

  async ping(): Promise<void> {
    await this.read("SELECT 1 FROM directory_users LIMIT 1");
  }

  /** The pool belongs to the chat store; it closes it. */
  async close(): Promise<void> {}

  async add(input: NewDirectoryUser): Promise<DirectoryUser> {
    const { login: given, name, email } = checkedNewUser(input);
    const login = given.normalize("NFC");
    if ((await this.pool.query(BY_LOGIN, [fold(login)])).rowCount) throw new LoginTakenError(login);
    const hash = input.password === undefined ? null : await hashPassword(checkedPassword(input.password));
    try {
      const { rows } = await this.pool.query<Row>(
        `INSERT INTO directory_users (login, name, password_hash, active, scope, created_at, email)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
        [login, name, hash, input.active !== false, input.scope ?? null, new Date().toISOString(), email],
      );
      return toUser(rows[0]!);
    } catch (error) {
      // someone added the same login while the password was being hashed
      if (isUniqueViolation(error, "directory_users_by_login")) throw new LoginTakenError(login);
      throw error;
    }
  }

  async setActive(loginOrId: string, active: boolean): Promise<DirectoryUser | null> {
    const row = await this.resolve(loginOrId);
    if (!row) return null;
    await this.pool.query("UPDATE directory_users SET active = $1 WHERE id = $2::bigint", [active, row.id]);
    return { ...toUser(row), active };
  }

  async setPassword(loginOrId: string, password: string): Promise<DirectoryUser | null> {
    const hash = await hashPassword(checkedPassword(password));
    const row = await this.resolve(loginOrId);
    if (!row) return null;
    await this.pool.query("UPDATE directory_users SET password_hash = $1 WHERE id = $2::bigint", [
      hash,
      row.id,
    ]);
    return toUser(row);
  }

  async setEmail(loginOrId: string, email: string | null): Promise<DirectoryUser | null> {
    const checked = checkedEmail(email);
    const row = await this.resolve(loginOrId);
    if (!row) return null;
    await this.pool.query("UPDATE directory_users SET email = $1 WHERE id = $2::bigint", [checked, row.id]);
    return { ...toUser(row), email: checked };
  }

  async remove(loginOrId: string): Promise<boolean> {
    const row = await this.resolve(loginOrId);
    if (!row) return false;
    return (
      ((await this.pool.query("DELETE FROM directory_users WHERE id = $1::bigint", [row.id])).rowCount ?? 0) >
      0
    );
  }

  async list(): Promise<DirectoryUser[]> {
    return (await this.pool.query<Row>(`SELECT ${COLUMNS} FROM directory_users ORDER BY id`)).rows.map(
      toUser,
    );
  }

  /** A login wins over an id, so a user whose login is "3" is not confused with user 3. */
  private async resolve(loginOrId: string): Promise<Row | undefined> {
    const key = loginOrId.trim();
    const [byLogin] = (await this.pool.query<Row>(BY_LOGIN, [fold(key)])).rows;
    if (byLogin || !CANONICAL_ID.test(key)) return byLogin;
    return (await this.pool.query<Row>(BY_ID, [key])).rows[0];
  }

  /** A read the server depends on: when the database cannot answer, the directory is unavailable. */
  private async read(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    try {
      return (await this.pool.query<Row>(sql, params as unknown[])).rows;
    } catch (error) {
      throw new DirectoryUnavailableError(error);
    }
  }
}

function toUser(row: Row): DirectoryUser {
  return {
    id: row.id,
    login: row.login,
    name: row.name,
    active: row.active,
    scope: row.scope,
    email: row.email,
  };
}
