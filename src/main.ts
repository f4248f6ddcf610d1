/**
 * Starts TimeWise Chat: reads the settings (and `.env`), opens the databases, listens, and shuts
 * down gracefully on SIGTERM/SIGINT. Run it directly with `node dist/src/main.js` under a process
 * manager, since npm may not pass signals on.
 */
import { existsSync } from "node:fs";
import { type ChatDatabase, createApp } from "./app.js";
import { ConfigError, loadConfig } from "./config/index.js";
import { createLogger } from "./logger.js";
import { PostgresChatStore } from "./storage/postgres/postgres-chat-store.js";
import { DatabaseOpenError, openDatabase } from "./storage/sqlite/open.js";
import { createDirectory } from "./users/create-directory.js";

function fail(lines: string[]): never {
  for (const line of lines) process.stderr.write(`TimeWise Chat cannot start: ${line}\n`);
  process.exit(1);
}

if (existsSync(".env")) process.loadEnvFile(".env");

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) fail(error.problems);
  throw error;
}

const logger = createLogger(config.logLevel);
for (const warning of config.warnings) {
  logger.warn(warning);
  // also on stderr, outside the JSON log, so nobody misses it in a terminal
  process.stderr.write(`\n  WARNING: ${warning}\n\n`);
}

// CHAT_DATABASE_URL: the chat data, and the built-in user directory, are in PostgreSQL and the
// SQLite file is not opened at all; else both are in the SQLite file
let chat: ChatDatabase;
if (config.chatDatabase) {
  try {
    const store = await PostgresChatStore.open({
      url: config.chatDatabase.url,
      max: config.chatDatabase.poolSize,
      lockTimeoutMs: config.chatDatabase.lockTimeoutMs,
      statementTimeoutMs: config.chatDatabase.statementTimeoutMs,
      onProblem: (message) => logger.warn(message),
    });
    chat = { kind: "postgres", store };
  } catch (error) {
    fail([
      `CHAT_DATABASE_URL: check that PostgreSQL is running and the address is right; it did not answer (${(error as Error).message})`,
    ]);
  }
} else {
  try {
    chat = { kind: "sqlite", db: openDatabase(config.sqlitePath, { cacheMb: config.sqliteCacheMb }) };
  } catch (error) {
    if (error instanceof DatabaseOpenError) fail([`SQLITE_PATH: ${error.message}`]);
    throw error;
  }
}

const directory = await createDirectory(config, chat);
const app = await createApp({ config, logger, chat, directory });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down");
  try {
    await app.close();
    logger.info("stopped");
    logger.flush();
    process.exit(0);
  } catch (err) {
    logger.error({ err }, "shutdown failed");
    logger.flush();
    process.exit(1);
  }
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("unhandledRejection", (err) => logger.error({ err }, "unhandled rejection"));

try {
  const address = await app.listen();
  logger.info(
    {
      port: address.port,
      host: config.host,
      users: directory.kind,
      chatStore: chat.kind,
      ...(chat.kind === "sqlite" ? { sqlite: config.sqlitePath } : {}),
    },
    "TimeWise Chat is listening",
  );
} catch (error) {
  fail([`CHAT_PORT: cannot listen on ${config.host}:${config.port} (${(error as Error).message})`]);
}

directory
  .ping()
  .catch(() => logger.warn("The user directory can't be reached yet; /ready reports it until it can."));
