/**
 * The user directory: where TimeWise's users live. In production it is the PHP app's MySQL users
 * table (read only); without MYSQL_HOST it is a small built-in table in the SQLite file.
 */

/** A user as the directory knows them. `scope` is the USERS_SCOPE_COLUMN value (e.g. company). */
export interface DirectoryUser {
  id: string;
  login: string;
  name: string;
  active: boolean;
  scope: string | null;
  /**
   * (v2.3) where digests go (USERS_EMAIL_COLUMN, or the built-in directory's `--email`); null
   * when the user has none. Server-side only: never put on the wire for other users.
   */
  email: string | null;
}

/** A user together with the stored password hash (only for password sign-in). */
export interface DirectoryUserWithHash extends DirectoryUser {
  passwordHash: string | null;
}

export interface UserSearchOptions {
  limit: number;
  /** the caller, never part of the results */
  excludeId: string;
  /** when the installation uses scopes: only users with this scope */
  scope: string | null;
  /** when true (always with scopes configured) the scope filter is applied */
  scoped: boolean;
}

export interface UserDirectory {
  readonly kind: "mysql" | "builtin";
  /** The user, or null when no such user exists (inactive users are returned with active=false). */
  findById(id: string): Promise<DirectoryUser | null>;
  /** The users that exist among `ids`, keyed by id. */
  findByIds(ids: readonly string[]): Promise<Map<string, DirectoryUser>>;
  /** Looks a user up by login name for password sign-in. */
  findByLogin(login: string): Promise<DirectoryUserWithHash | null>;
  /** Active users whose login or name contains `query` (case-insensitive), best match first. */
  search(query: string, options: UserSearchOptions): Promise<DirectoryUser[]>;
  /** Resolves when the directory answers; rejects with DirectoryUnavailableError otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The directory cannot be reached: callers answer "try again later", never "unknown user". */
export class DirectoryUnavailableError extends Error {
  constructor(cause?: unknown) {
    super("The user directory cannot be reached", { cause });
    this.name = "DirectoryUnavailableError";
  }
}

/** Whether two users may see each other under USERS_SCOPE_COLUMN. */
export function sameScope(a: DirectoryUser, b: DirectoryUser): boolean {
  return a.scope === b.scope;
}
