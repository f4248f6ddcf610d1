/**
 * Starts a real TimeWise Chat server on port 0 with a temporary SQLite file, and connects real
 * socket.io-client sockets to it. Every integration test builds its server with this.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Socket as ClientSocket,
  io as connectClient,
  type ManagerOptions,
  type SocketOptions,
} from "socket.io-client";
import { type App, type AppOptions, createApp } from "../../src/app.js";
import type { TokenSettings } from "../../src/auth/tokens.js";
import { type AuthConfig, type Config, loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/logger.js";
import type {
  Ack,
  ClientToServerEvents,
  RequestEvent,
  Requests,
  ServerToClientEvents,
} from "../../src/protocol/index.js";
import { openDatabase, type SqliteDatabase } from "../../src/storage/sqlite/open.js";
import { BuiltinDirectory } from "../../src/users/builtin-directory.js";
import { createDirectory } from "../../src/users/create-directory.js";
import type { UserDirectory } from "../../src/users/types.js";

export type ChatClient = ClientSocket<ServerToClientEvents, ClientToServerEvents>;

/** The secret every test server uses, so tests can sign their own tokens. */
export const TEST_SECRET = "timewise-chat-test-secret-0123456789abcdef";

export interface TestUser {
  id: string;
  login: string;
  name: string;
}

export interface TestServer {
  url: string;
  port: number;
  config: Config;
  app: App;
  db: SqliteDatabase;
  directory: UserDirectory;
  /** the built-in directory (null when the test runs against MySQL) */
  builtin: BuiltinDirectory | null;
  sqlitePath: string;
  addUser(
    name?: string,
    options?: { password?: string; scope?: string | null; login?: string },
  ): Promise<TestUser>;
  token(userId: string, ttlS?: number): Promise<string>;
  /** Connects and resolves once the `session` event arrived. */
  connect(
    user: TestUser | { token: string },
    options?: Partial<ManagerOptions & SocketOptions>,
  ): Promise<ChatClient>;
  /** Connects and resolves with the refusal (rejects if the connection was accepted). */
  connectRefused(
    auth: Record<string, unknown>,
    options?: Partial<ManagerOptions & SocketOptions>,
  ): Promise<{ message: string; code: string | undefined }>;
  close(): Promise<void>;
}

let userCounter = 0;

export async function startServer(
  options: { env?: Record<string, string>; sqlitePath?: string; app?: AppOptions } = {},
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "twc-test-"));
  const sqlitePath = options.sqlitePath ?? join(dir, "chat.db");
  const config = loadConfig({
    NODE_ENV: "test",
    CHAT_PORT: "0",
    CHAT_HOST: "127.0.0.1",
    SQLITE_PATH: sqlitePath,
    AUTH_JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    ...options.env,
  });
  const db = openDatabase(sqlitePath);
  const builtin = config.mysql ? null : new BuiltinDirectory(db);
  const directory = builtin ?? (await createDirectory(config, db));
  const logger = createLogger(config.logLevel);
  // every test connects from 127.0.0.1, hundreds of times and often refused on purpose: the
  // per-address caps get generous defaults here, and test/integration/address-limits.test.ts small ones
  const roomy = { points: 1_000_000, seconds: 60 };
  const app = await createApp({
    config,
    logger,
    db,
    directory,
    options: {
      ...options.app,
      addressLimits: {
        refusedHandshakes: roomy,
        unknownSessions: roomy,
        ready: roomy,
        ...options.app?.addressLimits,
      },
    },
  });
  const address = await app.listen();
  const url = `http://127.0.0.1:${address.port}`;
  const sockets: ChatClient[] = [];

  const open = (auth: Record<string, unknown>, opts: Partial<ManagerOptions & SocketOptions> = {}) => {
    const socket: ChatClient = connectClient(url, {
      auth,
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
      ...opts,
    });
    sockets.push(socket);
    return socket;
  };

  const server: TestServer = {
    url,
    port: address.port,
    config,
    app,
    db,
    directory,
    builtin,
    sqlitePath,
    async addUser(name, opts = {}) {
      if (!builtin) throw new Error("addUser needs the built-in directory");
      userCounter += 1;
      const fullName = name ?? `User ${userCounter}`;
      const login = opts.login ?? `${fullName.toLowerCase().replace(/[^a-z0-9]+/g, "")}${userCounter}`;
      const user = await builtin.add({
        login,
        name: fullName,
        password: opts.password,
        scope: opts.scope ?? null,
      });
      return { id: user.id, login: user.login, name: user.name };
    },
    token: (userId, ttlS) => app.tokens.sign(userId, ttlS),
    async connect(user, opts) {
      const token = "token" in user ? user.token : await server.token(user.id);
      const socket = open({ token }, opts);
      await new Promise<void>((resolve, reject) => {
        socket.once("session", () => resolve());
        socket.once("connect_error", (err) => reject(err));
      });
      return socket;
    },
    async connectRefused(auth, opts) {
      const socket = open(auth, opts);
      return new Promise((resolve, reject) => {
        socket.once("connect", () => reject(new Error("connection was accepted")));
        socket.once("connect_error", (err: Error & { data?: { code?: string } }) => {
          socket.close();
          resolve({ message: err.message, code: err.data?.code });
        });
      });
    },
    async close() {
      for (const s of sockets) s.close();
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** The token settings of a test config, which always sets AUTH_JWT_SECRET. */
export function tokenSettings(auth: AuthConfig): TokenSettings {
  if (!auth.jwtSecret) throw new Error("this test config has no AUTH_JWT_SECRET");
  return { ...auth, jwtSecret: auth.jwtSecret };
}

/** Sends a request event and resolves with its ack (rejects after `timeoutMs`). */
export function request<E extends RequestEvent>(
  socket: ChatClient,
  event: E,
  payload: unknown,
  timeoutMs = 5000,
): Promise<Ack<Requests[E]["result"]>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ack for ${event} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    // biome-ignore lint/suspicious/noExplicitAny: tests send deliberately malformed payloads
    (socket.emit as (...args: any[]) => void)(event, payload, (response: Ack<Requests[E]["result"]>) => {
      clearTimeout(timer);
      resolve(response);
    });
  });
}

/** Like `request`, but fails the test unless the ack is ok; returns the result. */
export async function ok<E extends RequestEvent>(
  socket: ChatClient,
  event: E,
  payload: Requests[E]["input"],
): Promise<Requests[E]["result"]> {
  const response = await request(socket, event, payload);
  if (!response.ok) throw new Error(`${event} failed: ${response.error.code} ${response.error.message}`);
  return response;
}

/** Resolves with the next `event` on `socket` that satisfies `predicate`. */
export function waitFor<E extends keyof ServerToClientEvents>(
  socket: ChatClient,
  event: E,
  predicate: (...args: Parameters<ServerToClientEvents[E]>) => boolean = () => true,
  timeoutMs = 5000,
): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, listener as never);
      reject(new Error(`no ${String(event)} within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (...args: Parameters<ServerToClientEvents[E]>) => {
      if (!predicate(...args)) return;
      clearTimeout(timer);
      socket.off(event, listener as never);
      resolve(args[0]);
    };
    socket.on(event, listener as never);
  });
}

/** Collects every `event` a socket receives, for "received exactly once" checks. */
export function collect<E extends keyof ServerToClientEvents>(
  socket: ChatClient,
  event: E,
): Parameters<ServerToClientEvents[E]>[0][] {
  const seen: Parameters<ServerToClientEvents[E]>[0][] = [];
  socket.on(event, ((...args: Parameters<ServerToClientEvents[E]>) => seen.push(args[0])) as never);
  return seen;
}

/** Polls until `check` returns true (tests poll for a condition instead of sleeping). */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves after `ms`, for the few checks that something does NOT happen. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
