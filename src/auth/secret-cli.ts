/**
 * `npm run secret`: prints the token secret this installation made for itself (when
 * AUTH_JWT_SECRET is not set), so the operator can give the same value to the PHP app. Only the
 * secret goes to standard output, so `npm run --silent secret > file` captures it alone.
 */
import { existsSync } from "node:fs";
import { ConfigError, loadConfig } from "../config/index.js";
import { openDatabase } from "../storage/sqlite/open.js";
import { JWT_SECRET_NAME, ServerSecrets } from "../storage/sqlite/server-secrets.js";

function main(): number {
  if (existsSync(".env")) process.loadEnvFile(".env");
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const line of error.problems) process.stderr.write(`${line}\n`);
    return 1;
  }
  if (config.auth.jwtSecret) {
    process.stderr.write(
      "AUTH_JWT_SECRET is set: the server uses that value. Give the PHP app the same one.\n",
    );
    return 0;
  }
  const db = openDatabase(config.sqlitePath);
  try {
    const secret = new ServerSecrets(db).get(JWT_SECRET_NAME);
    process.stdout.write(`${secret}\n`);
    process.stderr.write(
      `This is the token secret kept in ${config.sqlitePath}. Set it as AUTH_JWT_SECRET for the PHP app (and, to keep it in one place, for the chat server too). Keep it as secret as a database password.\n`,
    );
    return 0;
  } finally {
    db.close();
  }
}

process.exitCode = main();
