/**
 * `npm run secret`: prints the token secret this installation made for itself (when
 * AUTH_JWT_SECRET is not set), so the operator can give the same value to the PHP app. Only the
 * secret goes to standard output, so `npm run --silent secret > file` captures it alone.
 */
import { existsSync } from "node:fs";
import { ConfigError, loadConfig } from "../config/index.js";
import { PostgresChatStore } from "../storage/postgres/postgres-chat-store.js";
import { openDatabase } from "../storage/sqlite/open.js";
import { JWT_SECRET_NAME, ServerSecrets } from "../storage/sqlite/server-secrets.js";

async function main(): Promise<number> {
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
  // the secret is in the chat database the server uses: PostgreSQL when CHAT_DATABASE_URL is set
  const { secret, where } = config.chatDatabase
    ? { secret: await postgresSecret(config.chatDatabase.url), where: "the PostgreSQL chat database" }
    : { secret: sqliteSecret(config.sqlitePath), where: config.sqlitePath };
  process.stdout.write(`${secret}\n`);
  process.stderr.write(
    `This is the token secret kept in ${where}. Set it as AUTH_JWT_SECRET for the PHP app (and, to keep it in one place, for the chat server too). Keep it as secret as a database password.\n`,
  );
  return 0;
}

function sqliteSecret(path: string): string {
  const db = openDatabase(path);
  try {
    return new ServerSecrets(db).get(JWT_SECRET_NAME);
  } finally {
    db.close();
  }
}

async function postgresSecret(url: string): Promise<string> {
  let store: PostgresChatStore;
  try {
    store = await PostgresChatStore.open({ url, max: 1 });
  } catch (error) {
    throw new CliProblem(
      `CHAT_DATABASE_URL: check that PostgreSQL is running and the address is right; it did not answer (${(error as Error).message})`,
    );
  }
  try {
    return await store.serverSecret(JWT_SECRET_NAME);
  } finally {
    await store.close();
  }
}

/** A problem the operator can fix, printed as one line without a stack. */
class CliProblem extends Error {}

process.exitCode = await main().catch((error: unknown) => {
  if (!(error instanceof CliProblem)) throw error;
  process.stderr.write(`${error.message}\n`);
  return 1;
});
