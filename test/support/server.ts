/**
 * Starts a real TimeWise Chat server in the test's own process, on port 0 with a temporary SQLite
 * file, and connects real socket.io-client sockets to it (client.ts). Tests reach it through
 * harness.ts; for the real entry point in a child process, see process.ts.
 *
 * With `TEST_CHAT_STORE=postgres` (or `store: "postgres"`) the chat data goes to a fresh
 * PostgreSQL database instead, dropped when the server closes; a second node given the first
 * one's `database` shares it. A server given a `sqlitePath` gets that path's database (the same
 * for every server on the path, kept until the test file ends), so a restart keeps its data. The
 * built-in user directory is in the chat database too, as in main.ts (the SQLite file is then
 * still opened, as `db`, but holds nothing the server uses).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type App, type AppOptions, type ChatDatabase, createApp } from "../../src/app.js";
import type { TokenSettings } from "../../src/auth/tokens.js";
import { type AuthConfig, type Config, loadConfig } from "../../src/config/index.js";
import { envSchema } from "../../src/config/schema.js";
import { createLogger } from "../../src/logger.js";
import { PostgresChatStore } from "../../src/storage/postgres/postgres-chat-store.js";
import { openDatabase, type SqliteDatabase } from "../../src/storage/sqlite/open.js";
import type { ManagedDirectory } from "../../src/users/builtin-directory.js";
import { builtinDirectory, createDirectory } from "../../src/users/create-directory.js";
import type { UserDirectory } from "../../src/users/types.js";
import { type ClientOptions, openSocket, refusalOf, sessionOf, type TestSocket } from "./client.js";
import { createTestDatabase, databaseFor, type TestDatabase } from "./postgres-database.js";
import { TEST_SECRET } from "./tokens.js";

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
  /** the built-in directory, in the chat database (null when the test runs against MySQL) */
  builtin: ManagedDirectory | null;
  sqlitePath: string;
  /** where the chat data is: the SQLite file, or a PostgreSQL database */
  chatStore: TestChatStore;
  /** the PostgreSQL database of the chat data (null on SQLite); give it to a second node to share */
  database: TestDatabase | null;
  addUser(
    name?: string,
    options?: { password?: string; scope?: string | null; login?: string; email?: string },
  ): Promise<TestUser>;
  token(userId: string, ttlS?: number): Promise<string>;
  /** Connects and resolves once the `session` event arrived. */
  connect(user: TestUser | { token: string }, options?: ClientOptions): Promise<TestSocket>;
  /** Connects and resolves with the refusal (rejects if the connection was accepted). */
  connectRefused(
    auth: Record<string, unknown>,
    options?: ClientOptions,
  ): Promise<{ message: string; code: string | undefined }>;
  close(): Promise<void>;
}

let userCounter = 0;

export type TestChatStore = "sqlite" | "postgres";

/** The store tests run on: TEST_CHAT_STORE=postgres runs them on PostgreSQL (default SQLite). */
export const TEST_CHAT_STORE: TestChatStore =
  process.env.TEST_CHAT_STORE === "postgres" ? "postgres" : "sqlite";

/**
 * For `{ skip }` of a test that only makes sense with the SQLite store (it opens the file, kills
 * the process to test the WAL, …): false on SQLite, else the reason, printed once per reason.
 */
export function sqliteOnly(why: string): string | false {
  if (TEST_CHAT_STORE === "sqlite") return false;
  const reason = `SQLite only: ${why}`;
  if (!printed.has(reason)) process.stderr.write(`skipping under TEST_CHAT_STORE=postgres: ${reason}\n`);
  printed.add(reason);
  return reason;
}
const printed = new Set<string>();

export interface StartOptions {
  env?: Record<string, string>;
  /** on PostgreSQL, servers on the same path share a database, kept until the test file ends */
  sqlitePath?: string;
  app?: AppOptions;
  /** default TEST_CHAT_STORE */
  store?: TestChatStore;
  /** a PostgreSQL database another test server made: this one shares it (and leaves it in place) */
  database?: TestDatabase;
  /** on PostgreSQL: opens the chat store on the database's (migrated) url; default `PostgresChatStore.open` */
  openStore?: (url: string) => Promise<PostgresChatStore>;
}

/** The chat store of a test server: the SQLite file, or PostgreSQL (a fresh database unless given). */
async function openChat(
  db: SqliteDatabase,
  options: StartOptions,
): Promise<{ chat: ChatDatabase; database: TestDatabase | null; owned: boolean }> {
  const kind = options.database ? "postgres" : (options.store ?? TEST_CHAT_STORE);
  if (kind === "sqlite") return { chat: { kind: "sqlite", db }, database: null, owned: false };
  // a SQLite path the test chose is one it may restart on: its database outlives this server
  const kept = options.database ?? (options.sqlitePath ? await databaseFor(options.sqlitePath).ready : null);
  const database = kept ?? (await createTestDatabase("server", { schema: "migrated" }));
  // the lock and statement timeouts a test sets in `env`, as main.ts takes them from the config
  const store = await (options.openStore?.(database.url) ??
    PostgresChatStore.open({
      url: database.url,
      max: 4,
      lockTimeoutMs: envSchema.shape.CHAT_DATABASE_LOCK_TIMEOUT_MS.parse(
        options.env?.CHAT_DATABASE_LOCK_TIMEOUT_MS,
      ),
      statementTimeoutMs: envSchema.shape.CHAT_DATABASE_STATEMENT_TIMEOUT_MS.parse(
        options.env?.CHAT_DATABASE_STATEMENT_TIMEOUT_MS,
      ),
    }));
  return { chat: { kind: "postgres", store }, database, owned: kept === null };
}

export async function startServer(options: StartOptions = {}): Promise<TestServer> {
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
  const { chat, database, owned } = await openChat(db, options);
  // in the chat database, as main.ts does: on PostgreSQL a restarted or second node finds the users
  const builtin = config.mysql ? null : builtinDirectory(chat);
  const directory = builtin ?? (await createDirectory(config, chat));
  const logger = createLogger(config.logLevel);
  // every test connects from 127.0.0.1, hundreds of times and often refused on purpose: the
  // per-address caps get generous defaults here, and test/integration/address-limits.test.ts small ones
  const roomy = { points: 1_000_000, seconds: 60 };
  const app = await createApp({
    config,
    logger,
    chat,
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
  const sockets: TestSocket[] = [];

  const open = (auth: Record<string, unknown>, opts: ClientOptions = {}) => {
    const socket = openSocket(url, auth, opts);
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
    chatStore: chat.kind,
    database,
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
        email: opts.email ?? null,
      });
      return { id: user.id, login: user.login, name: user.name };
    },
    token: (userId, ttlS) => app.tokens.sign(userId, ttlS),
    async connect(user, opts) {
      const token = "token" in user ? user.token : await server.token(user.id);
      return (await sessionOf(open({ token }, opts))).socket;
    },
    connectRefused: (auth, opts) => refusalOf(open(auth, opts)),
    async close() {
      for (const s of sockets) s.close();
      await app.close();
      // on SQLite the store closed the file; on PostgreSQL it was opened but left unused
      if (chat.kind === "postgres" && db.open) db.close();
      if (owned) await database?.drop();
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
