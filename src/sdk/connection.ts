/**
 * The connection's life: a fresh token for every attempt, what to do when the server refuses one
 * (refresh it once, retry later, or give up as signed out), and the status a UI shows.
 */
import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import type { AuthErrorCode, ClientToServerEvents, ServerToClientEvents, User } from "../protocol/index.js";
import { ChatAuthError, ChatTimeoutError } from "./errors.js";
import type { ConnectionStatus } from "./store.js";

export type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Why a token is asked for: every connection attempt, or again after the server refused one. */
export type TokenReason = "connect" | "refresh";

export interface ConnectionOptions {
  url: string;
  token?: string | undefined;
  getToken?: ((reason: TokenReason) => string | Promise<string>) | undefined;
  socketOptions?: Partial<ManagerOptions & SocketOptions> | undefined;
  /** the clock in milliseconds (tests share the server's); default Date.now */
  now?: (() => number) | undefined;
}

export interface ConnectionHooks {
  session(user: User): void;
  disconnected(): void;
  status(status: ConnectionStatus): void;
  authError(error: ChatAuthError): void;
}

/** Refused for a reason that may pass (directory down, too many tabs): wait this long, doubling. */
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;
/** How long before the token expires a fresh one is handed to the server. */
export const REFRESH_LEAD_MS = 60_000;

export class Connection {
  readonly socket: ChatSocket;
  status: ConnectionStatus = "connecting";
  private token: string | undefined;
  private tokenReason: TokenReason = "connect";
  private refreshTried = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private retryDelayMs = FIRST_RETRY_MS;
  private lastAuthError: ChatAuthError | null = null;
  private readonly waiters = new Set<() => void>();
  private closed = false;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  /** set by `session:ended`: the disconnect that follows reconnects at once with a fresh token */
  private ended = false;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly hooks: ConnectionHooks,
  ) {
    this.token = options.token;
    this.socket = io(options.url, {
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
      ...options.socketOptions,
      // a function, so every reconnect presents a token that is still valid
      auth: (cb) => {
        this.currentToken().then(
          (token) => cb({ token }),
          () => cb({}),
        );
      },
    });
    this.socket.on("session", ({ user, expiresAt }) => {
      this.refreshTried = false;
      this.retryDelayMs = FIRST_RETRY_MS;
      this.lastAuthError = null;
      this.ended = false;
      this.scheduleRefresh(expiresAt ?? null);
      this.setStatus("online");
      hooks.session(user);
    });
    this.socket.on("session:ended", () => {
      // the next handshake asks the app for a fresh token instead of presenting the old one
      this.ended = true;
      this.tokenReason = "refresh";
    });
    this.socket.on("disconnect", (reason) => {
      this.clearRefresh();
      hooks.disconnected();
      if (this.closed) return;
      this.setStatus("offline");
      if (reason !== "io server disconnect") return;
      // told why (session:ended): reconnect now with a fresh token; a disabled user is then
      // refused and signed out. Not told: find out by trying again after a while
      if (this.ended && this.options.getToken) this.socket.connect();
      else this.scheduleRetry();
    });
    this.socket.on("connect_error", (err) => this.refused(err));
  }

  /** Replaces the token for the next connection attempt. */
  setToken(token: string): void {
    this.token = token;
  }

  /** Drops the transport now; socket.io-client then reconnects by itself with back-off. */
  drop(): void {
    this.socket.io.engine?.close();
  }

  /** Tries to connect right away instead of waiting for the next reconnect attempt. */
  reconnectNow(): void {
    if (this.closed || this.socket.connected) return;
    this.clearRetry();
    this.socket.disconnect().connect();
  }

  close(): void {
    this.closed = true;
    this.clearRetry();
    this.clearRefresh();
    this.socket.disconnect();
    for (const wake of [...this.waiters]) wake();
  }

  /**
   * The token for an HTTP call (an upload): the one the socket last presented, or a fresh one
   * when asked to (`"refresh"`, after the server refused it as expired). Undefined when the
   * client signs in with the PHP session cookie only.
   */
  async httpToken(reason: TokenReason = "connect"): Promise<string | undefined> {
    if (this.options.getToken && (reason === "refresh" || this.token === undefined)) {
      this.token = await this.options.getToken(reason);
    }
    return this.token;
  }

  /** Waits until online; rejects at once when signed out or closed, or after `timeoutMs`. */
  whenOnline(timeoutMs: number, what: string): Promise<void> {
    if (this.status === "online") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.status === "online") done(null);
        else if (this.status === "signed-out" || this.closed) {
          done(this.lastAuthError ?? new ChatAuthError("AUTH_REQUIRED", "The client is signed out."));
        }
      };
      const done = (error: Error | null) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(() => done(new ChatTimeoutError(what, timeoutMs)), timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  private async currentToken(): Promise<string> {
    const reason = this.tokenReason;
    this.tokenReason = "connect";
    if (this.options.getToken) this.token = await this.options.getToken(reason);
    if (this.token === undefined) throw new Error("no token");
    return this.token;
  }

  private refused(err: Error & { data?: { code?: string; retryAfterMs?: number } }): void {
    if (this.closed) return;
    if (this.socket.active) {
      // a network-level failure: socket.io-client retries by itself
      if (this.status === "online") this.setStatus("offline");
      return;
    }
    const code = err.data?.code;
    const badToken = code === "AUTH_EXPIRED" || code === "AUTH_INVALID";
    if (err.message === "unauthorized" && badToken && this.options.getToken && !this.refreshTried) {
      this.refreshTried = true;
      this.tokenReason = "refresh";
      this.socket.connect();
      return;
    }
    const error = new ChatAuthError(
      (code ?? "AUTH_UNAVAILABLE") as AuthErrorCode,
      err.message,
      err.data?.retryAfterMs,
    );
    if (err.message !== "unauthorized" || error.temporary) {
      this.scheduleRetry(error.retryAfterMs);
      return;
    }
    this.lastAuthError = error;
    this.setStatus("signed-out");
    this.hooks.authError(error);
  }

  /**
   * Hands the server a fresh token (`session:refresh`) shortly before `expiresAt`, so the
   * connection is not ended when the first token expires. Only with `getToken`.
   */
  private scheduleRefresh(expiresAt: string | null): void {
    this.clearRefresh();
    const getToken = this.options.getToken;
    if (expiresAt === null || !getToken) return;
    const now = this.options.now ?? Date.now;
    const delay = Math.max(0, Date.parse(expiresAt) - REFRESH_LEAD_MS - now());
    this.refreshTimer = setTimeout(
      () => {
        this.refreshTimer = null;
        void (async () => {
          const token = await getToken("refresh");
          const answer = await this.socket.timeout(10_000).emitWithAck("session:refresh", { token });
          if (!answer.ok) return; // the server ends the session at expiry; the reconnect fetches a token
          this.token = token;
          this.scheduleRefresh(answer.expiresAt);
        })().catch(() => {
          // no token or no answer: the same as a refused refresh
        });
      },
      Math.min(delay, 2 ** 31 - 1),
    );
  }

  private clearRefresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
  }

  /** Tries again after the back-off delay, or after `atLeastMs` when the server said so. */
  private scheduleRetry(atLeastMs = 0): void {
    this.clearRetry();
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = null;
        if (!this.closed && !this.socket.connected) this.socket.connect();
      },
      Math.max(this.retryDelayMs, atLeastMs),
    );
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, MAX_RETRY_MS);
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.status === status) return;
    this.status = status;
    for (const wake of [...this.waiters]) wake();
    this.hooks.status(status);
  }
}
