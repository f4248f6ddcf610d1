/**
 * Picks the user directory the configuration asks for: the PHP app's MySQL when MYSQL_HOST is set,
 * else the built-in table in the chat's SQLite file.
 */
import type { Config } from "../config/index.js";
import type { SqliteDatabase } from "../storage/sqlite/open.js";
import { BuiltinDirectory } from "./builtin-directory.js";
import { MysqlDirectory } from "./mysql-directory.js";
import type { UserDirectory } from "./types.js";

/**
 * Builds the directory without touching the network: a MySQL that is unreachable at start-up is
 * not a bad setting, so the server starts anyway and `/ready` reports it until MySQL answers.
 */
export function createDirectory(config: Config, db: SqliteDatabase): UserDirectory {
  return config.mysql ? new MysqlDirectory(config.mysql, config.users) : new BuiltinDirectory(db);
}
