/**
 * The built-in user directory: a small `directory_users` table in the chat database, used when
 * there is no PHP app MySQL (development and small installs). This is its SQLite version; with
 * CHAT_DATABASE_URL it lives in PostgreSQL (postgres-directory.ts), with the same rules, which
 * this file holds. Users are managed with `npm run users` (see cli.ts), which calls the
 * management methods of `ManagedDirectory`.
 */
import type { Statement } from "better-sqlite3";
import { hashPassword, MAX_PASSWORD_BYTES } from "../auth/passwords.js";
import type { SqliteDatabase } from "../storage/sqlite/open.js";
import {
  DirectoryUnavailableError,
  type DirectoryUser,
  type DirectoryUserWithHash,
  type UserDirectory,
  type UserSearchOptions,
} from "./types.js";

/** SQLite binds at most 32766 variables; the ids travel as one JSON array, chunked to stay quick. */
const IDS_CHUNK = 500;
const MAX_SEARCH_LIMIT = 200;
const MAX_LOGIN_LENGTH = 255;
const MAX_NAME_LENGTH = 255;
/** Only canonical ids ("7", not "07" or "7.0") name a user, as in the MySQL directory. */
export const CANONICAL_ID = /^[1-9][0-9]{0,15}$/;
/**
 * SQLite's lower() and NOCASE only fold ASCII; this SQL function folds all of Unicode, so "Ölaf"
 * finds "öLAF". Registered on the connection by the constructor.
 */
const FOLD = "directory_fold";

/** The user already exists (logins are unique, ignoring case). */
export class LoginTakenError extends Error {
  constructor(login: string) {
    super(`That login is already taken: choose another one than "${login}".`);
    this.name = "LoginTakenError";
  }
}

/** What `add` needs; a user without a password can only connect with tokens. */
export interface NewDirectoryUser {
  login: string;
  name: string;
  password?: string;
  scope?: string | null;
  active?: boolean;
  /** (v2.3) where digests go; none: no emails */
  email?: string | null;
}

/** The built-in directory, wherever it is stored: what `npm run users` and the tests manage it with. */
export interface ManagedDirectory extends UserDirectory {
  readonly kind: "builtin";
  /** Adds a user; throws LoginTakenError when the login exists (ignoring case). */
  add(input: NewDirectoryUser): Promise<DirectoryUser>;
  /** Enables or disables a user; null when there is no such user. */
  setActive(loginOrId: string, active: boolean): Promise<DirectoryUser | null>;
  /** Replaces a user's password; null when there is no such user. */
  setPassword(loginOrId: string, password: string): Promise<DirectoryUser | null>;
  /** (v2.3) Sets or (null) removes a user's email address; null when there is no such user. */
  setEmail(loginOrId: string, email: string | null): Promise<DirectoryUser | null>;
  /** Deletes a user for good; false when there was no such user. */
  remove(loginOrId: string): Promise<boolean>;
  /** Every user, active or not, oldest first. */
  list(): Promise<DirectoryUser[]>;
}

interface Row {
  id: number | bigint;
  login: string;
  name: string;
  active: number;
  scope: string | null;
  password_hash: string | null;
  email: string | null;
}

const COLUMNS = "id, login, name, active, scope, password_hash, email";
/** One address, loosely checked: something@something, no spaces. */
const EMAIL = /^[^\s@]+@[^\s@]+$/;
const MAX_EMAIL_LENGTH = 254;

/** The directory stored in the chat's SQLite file. */
export class BuiltinDirectory implements ManagedDirectory {
  readonly kind = "builtin" as const;
  private readonly byIds: Statement<[string], Row>;
  private readonly byLogin: Statement<[string], Row>;
  private readonly byId: Statement<[string], Row>;
  private readonly searchStmt: Statement<[Record<string, unknown>], Row>;
  private readonly all: Statement<[], Row>;
  private readonly insert: Statement<[Record<string, unknown>]>;
  private readonly updateActive: Statement<[number, number | bigint]>;
  private readonly updateHash: Statement<[string, number | bigint]>;
  private readonly updateEmail: Statement<[string | null, number | bigint]>;
  private readonly deleteStmt: Statement<[number | bigint]>;
  private readonly pingStmt: Statement<[]>;

  constructor(db: SqliteDatabase) {
    db.function(FOLD, { deterministic: true }, (value: unknown) =>
      typeof value === "string" ? fold(value) : value,
    );
    this.byIds = db.prepare(
      `SELECT ${COLUMNS} FROM directory_users WHERE id IN (SELECT value FROM json_each(?))`,
    );
    this.byLogin = db.prepare(`SELECT ${COLUMNS} FROM directory_users WHERE ${FOLD}(login) = ?`);
    this.byId = db.prepare(`SELECT ${COLUMNS} FROM directory_users WHERE id = ?`);
    // One statement for every search: the empty query and the scope filter are switched by flags.
    this.searchStmt = db.prepare(`
      SELECT ${COLUMNS} FROM directory_users
      WHERE active = 1 AND CAST(id AS TEXT) <> @exclude
        AND (@scoped = 0 OR scope IS @scope)
        AND (@q = '' OR instr(${FOLD}(login), @q) > 0 OR instr(${FOLD}(name), @q) > 0)
      ORDER BY
        CASE
          WHEN @q = '' THEN 0
          WHEN ${FOLD}(login) = @q OR ${FOLD}(name) = @q THEN 0
          WHEN instr(${FOLD}(login), @q) = 1 OR instr(${FOLD}(name), @q) = 1 THEN 1
          ELSE 2
        END,
        ${FOLD}(name), ${FOLD}(login), id
      LIMIT @limit`);
    this.all = db.prepare(`SELECT ${COLUMNS} FROM directory_users ORDER BY id`);
    this.insert = db.prepare(
      `INSERT INTO directory_users (login, name, password_hash, active, scope, created_at, email)
       VALUES (@login, @name, @hash, @active, @scope, @createdAt, @email)`,
    );
    this.updateActive = db.prepare("UPDATE directory_users SET active = ? WHERE id = ?");
    this.updateHash = db.prepare("UPDATE directory_users SET password_hash = ? WHERE id = ?");
    this.updateEmail = db.prepare("UPDATE directory_users SET email = ? WHERE id = ?");
    this.deleteStmt = db.prepare("DELETE FROM directory_users WHERE id = ?");
    this.pingStmt = db.prepare("SELECT 1 FROM directory_users LIMIT 1");
  }

  async findById(id: string): Promise<DirectoryUser | null> {
    return (await this.findByIds([id])).get(id) ?? null;
  }

  async findByIds(ids: readonly string[]): Promise<Map<string, DirectoryUser>> {
    const wanted = [...new Set(ids)].filter((id) => CANONICAL_ID.test(id)).map(Number);
    const found = new Map<string, DirectoryUser>();
    return this.read(() => {
      for (let i = 0; i < wanted.length; i += IDS_CHUNK) {
        for (const row of this.byIds.all(JSON.stringify(wanted.slice(i, i + IDS_CHUNK)))) {
          const user = toUser(row);
          found.set(user.id, user);
        }
      }
      return found;
    });
  }

  async findByLogin(login: string): Promise<DirectoryUserWithHash | null> {
    return this.read(() => {
      const row = this.byLogin.get(fold(login));
      return row ? { ...toUser(row), passwordHash: row.password_hash } : null;
    });
  }

  async search(query: string, options: UserSearchOptions): Promise<DirectoryUser[]> {
    const params = {
      q: fold(query.trim()),
      exclude: options.excludeId,
      scoped: options.scoped ? 1 : 0,
      scope: options.scope,
      limit: searchLimit(options.limit),
    };
    return this.read(() => this.searchStmt.all(params).map(toUser));
  }

  async ping(): Promise<void> {
    this.read(() => this.pingStmt.get());
  }

  /** The database belongs to the whole server; whoever opened it closes it. */
  async close(): Promise<void> {}

  /** Adds a user; throws LoginTakenError when the login exists (ignoring case). */
  async add(input: NewDirectoryUser): Promise<DirectoryUser> {
    const { login, name, email } = checkedNewUser(input);
    if (this.byLogin.get(fold(login))) throw new LoginTakenError(login);
    const hash = input.password === undefined ? null : await hashPassword(checkedPassword(input.password));
    try {
      const result = this.insert.run({
        login,
        name,
        hash,
        active: input.active === false ? 0 : 1,
        scope: input.scope ?? null,
        createdAt: new Date().toISOString(),
        email,
      });
      const row = this.byId.get(String(result.lastInsertRowid));
      if (!row) throw new Error("The new user vanished right after being added.");
      return toUser(row);
    } catch (error) {
      // Someone added the same login while the password was being hashed.
      if (error instanceof Error && "code" in error && error.code === "SQLITE_CONSTRAINT_UNIQUE") {
        throw new LoginTakenError(login);
      }
      throw error;
    }
  }

  /** Enables or disables a user; null when there is no such user. */
  async setActive(loginOrId: string, active: boolean): Promise<DirectoryUser | null> {
    const row = this.resolve(loginOrId);
    if (!row) return null;
    this.updateActive.run(active ? 1 : 0, row.id);
    return { ...toUser(row), active };
  }

  /** Replaces a user's password; null when there is no such user. */
  async setPassword(loginOrId: string, password: string): Promise<DirectoryUser | null> {
    const hash = await hashPassword(checkedPassword(password));
    const row = this.resolve(loginOrId);
    if (!row) return null;
    this.updateHash.run(hash, row.id);
    return toUser(row);
  }

  /** (v2.3) Sets or (null) removes a user's email address; null when there is no such user. */
  async setEmail(loginOrId: string, email: string | null): Promise<DirectoryUser | null> {
    const checked = checkedEmail(email);
    const row = this.resolve(loginOrId);
    if (!row) return null;
    this.updateEmail.run(checked, row.id);
    return { ...toUser(row), email: checked };
  }

  /** Deletes a user for good; false when there was no such user. */
  async remove(loginOrId: string): Promise<boolean> {
    const row = this.resolve(loginOrId);
    if (!row) return false;
    return this.deleteStmt.run(row.id).changes > 0;
  }

  /** Every user, active or not, oldest first. */
  async list(): Promise<DirectoryUser[]> {
    return this.all.all().map(toUser);
  }

  /** A login wins over an id, so a user whose login is "3" is not confused with user 3. */
  private resolve(loginOrId: string): Row | undefined {
    const key = loginOrId.trim();
    return this.byLogin.get(fold(key)) ?? (CANONICAL_ID.test(key) ? this.byId.get(key) : undefined);
  }

  /** Reads the chat database; when it cannot answer (busy, closed) the directory is unavailable. */
  private read<T>(run: () => T): T {
    try {
      return run();
    } catch (error) {
      throw new DirectoryUnavailableError(error);
    }
  }
}

function toUser(row: Row): DirectoryUser {
  return {
    id: String(row.id),
    login: row.login,
    name: row.name,
    active: row.active !== 0,
    scope: row.scope,
    email: row.email,
  };
}

/** An address to keep, or null for none (an empty one is none). */
export function checkedEmail(email: string | null): string | null {
  const trimmed = email?.trim() ?? "";
  if (trimmed.length === 0) return null;
  if (trimmed.length > MAX_EMAIL_LENGTH || !EMAIL.test(trimmed)) {
    throw new Error(
      `Give an email address such as ann@example.com (at most ${MAX_EMAIL_LENGTH} characters).`,
    );
  }
  return trimmed;
}

/** Case- and composition-insensitive form for comparing logins and searching. */
export function fold(text: string): string {
  return text.normalize("NFC").toLowerCase();
}

/** The search limit a caller asked for, kept between 1 and MAX_SEARCH_LIMIT. */
export function searchLimit(limit: number): number {
  return Math.max(1, Math.min(Math.floor(limit) || 1, MAX_SEARCH_LIMIT));
}

/** The trimmed login and name of a new user, or an error that says what to give instead. */
export function checkedNewUser(input: NewDirectoryUser): {
  login: string;
  name: string;
  email: string | null;
} {
  const login = input.login.trim();
  const name = input.name.trim();
  if (login.length === 0 || login.length > MAX_LOGIN_LENGTH || /\s/.test(login)) {
    throw new Error(`Give a login of 1 to ${MAX_LOGIN_LENGTH} characters without spaces.`);
  }
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
    throw new Error(`Give a name of 1 to ${MAX_NAME_LENGTH} characters.`);
  }
  return { login, name, email: checkedEmail(input.email ?? null) };
}

/** The password, or an error when it is empty or too long to hash. */
export function checkedPassword(password: string): string {
  if (password.length === 0) throw new Error("Give a password that is not empty.");
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) {
    throw new Error(`Give a password of at most ${MAX_PASSWORD_BYTES} bytes.`);
  }
  return password;
}
