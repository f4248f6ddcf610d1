/**
 * Picks the user directory the configuration asks for: the PHP app's MySQL when MYSQL_HOST is set,
 * else the built-in table in the chat's SQLite file.
 */
import type { Config } from "../config/index.js";
import type { SqliteDatabase } from "../storage/sqlite/open.js";
import { BuiltinDirectory } from "./builtin-directory.js";
import type { UserDirectory } from "./types.js";

/**
 * Builds the directory without touching the network: a MySQL that is unreachable at start-up is
 * not a bad setting, so the server starts anyway and `/ready` reports it until MySQL answers.
 * The MySQL driver is only loaded when it is used, which keeps start-up of the built-in setup quick.
 */
export async function createDirectory(config: Config, db: SqliteDatabase): Promise<UserDirectory> {
  if (!config.mysql) return new BuiltinDirectory(db);
  const { MysqlDirectory } = await import("./mysql-directory.js");
  return new MysqlDirectory(config.mysql, config.users);
}
