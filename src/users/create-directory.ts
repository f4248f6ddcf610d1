/**
 * Picks the user directory the configuration asks for: the PHP app's MySQL when MYSQL_HOST is set,
 * else the built-in table in the chat database (the SQLite file, or PostgreSQL with CHAT_DATABASE_URL).
 */
import type { ChatDatabase } from "../app.js";
import type { Config } from "../config/index.js";
import { BuiltinDirectory, type ManagedDirectory } from "./builtin-directory.js";
import { PostgresDirectory } from "./postgres-directory.js";
import type { UserDirectory } from "./types.js";

/**
 * Builds the directory without touching the network: a MySQL that is unreachable at start-up is
 * not a bad setting, so the server starts anyway and `/ready` reports it until MySQL answers.
 * The MySQL driver is only loaded when it is used, which keeps start-up of the built-in setup quick.
 */
export async function createDirectory(config: Config, chat: ChatDatabase): Promise<UserDirectory> {
  if (!config.mysql) return builtinDirectory(chat);
  const { MysqlDirectory } = await import("./mysql-directory.js");
  return new MysqlDirectory(config.mysql, config.users);
}

/** The built-in directory in the chat database, whichever store holds it. */
export function builtinDirectory(chat: ChatDatabase): ManagedDirectory {
  return chat.kind === "sqlite"
    ? new BuiltinDirectory(chat.db)
    : new PostgresDirectory(chat.store.sharedPool());
}
