/**
 * What every PHP session store (files, MySQL, Redis) offers the chat: the raw payload of one
 * session, read only. Stores never write, lock, touch or delete anything of PHP's.
 */

/** A session's raw data as PHP stored it, and whether it is past PHP_SESSION_LIFETIME_S. */
export interface StoredSession {
  data: Uint8Array;
  expired: boolean;
}

export interface SessionStore {
  /** The session, or null when there is none with this (already validated) id. */
  load(id: string): Promise<StoredSession | null>;
  /**
   * Whether a read can catch PHP half-way through rewriting the session (the files handler
   * truncates, then writes): such a read is worth one retry.
   */
  readonly tornReads: boolean;
  close(): Promise<void>;
}

/** The store cannot answer now (database or Redis down): the handshake says "unavailable", not "invalid". */
export class SessionStoreUnavailableError extends Error {
  // No `cause`: driver errors can carry the query and its values, and so the session id.
  constructor(message: string) {
    super(message);
    this.name = "SessionStoreUnavailableError";
  }
}
