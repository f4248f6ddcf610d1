/**
 * `npm run users -- <command>`: manages the built-in user directory in the chat database: the
 * SQLite file, or PostgreSQL when CHAT_DATABASE_URL is set (as the server decides, main.ts).
 * With MYSQL_HOST set, users live in the PHP app and this tool refuses to touch anything.
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import type { ChatDatabase } from "../app.js";
import { ConfigError, loadConfig } from "../config/index.js";
import { PostgresChatStore } from "../storage/postgres/postgres-chat-store.js";
import { openDatabase } from "../storage/sqlite/open.js";
import { builtinDirectory } from "./create-directory.js";
import type { DirectoryUser } from "./types.js";

const HELP = `Manage the users of TimeWise Chat's built-in user directory.

Usage: npm run users -- <command> [options]

Commands:
  add <login> --name "Full Name" [--password <pw>] [--scope <value>] [--email <address>]
                            add a user (without a password they can only connect with tokens)
  email <login> --email <address>
                            set where a user's email digests go (--email "" removes it)
  list                      show every user
  disable <login>           stop a user from signing in and disconnect them at the next check
  enable <login>            allow a disabled user again
  passwd <login>            set a new password
  remove <login>            delete a user for good

Options:
  --name <name>             the name other users see
  --password <pw>           the password (visible in your shell history; prefer one of these:)
  --password-stdin          read the password from standard input (echo "$PW" | npm run users -- ...)
  CHAT_USER_PASSWORD=<pw>   or take it from this environment variable
  --scope <value>           the user's scope, e.g. a company id (when USERS_SCOPE_COLUMN is used)
  --email <address>         the user's email address, for digests of what they missed
  -h, --help                show this help

The database is the server's: CHAT_DATABASE_URL (PostgreSQL) when it is set, else SQLITE_PATH
(default ./database.db). A ./.env file is read first.
`;

/** A mistake of the person running the command: shown as one line, exit code 1. */
class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      name: { type: "string" },
      password: { type: "string" },
      "password-stdin": { type: "boolean" },
      scope: { type: "string" },
      email: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, login, ...extra] = positionals;
  if (values.help || command === undefined || command === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  if (extra.length > 0) throw new UsageError(`Put quotes around values with spaces: "${extra.join(" ")}".`);

  if (existsSync(".env")) process.loadEnvFile(".env");
  const config = loadConfig(process.env);
  if (config.mysql) {
    throw new UsageError("TimeWise Chat reads users from the PHP app's MySQL; manage them there.");
  }
  const chat = await openChat(config);
  try {
    const directory = builtinDirectory(chat);
    const needLogin = (): string => {
      if (!login) throw new UsageError(`Say which user: npm run users -- ${command} <login>`);
      return login;
    };
    switch (command) {
      case "add": {
        const name = values.name ?? "";
        if (!name.trim()) throw new UsageError('Give the user\'s name with --name "Full Name".');
        const password = await readPassword(values.password, values["password-stdin"] ?? false);
        const user = await directory.add({
          login: needLogin(),
          name,
          password,
          scope: values.scope ?? null,
          email: values.email ?? null,
        });
        say(`Added ${user.login} (id ${user.id}).`);
        if (password === undefined) say("They have no password: they can only connect with tokens.");
        return 0;
      }
      case "list":
        say(formatList(await directory.list()));
        return 0;
      case "disable":
      case "enable": {
        const user = await directory.setActive(needLogin(), command === "enable");
        if (!user)
          throw new UsageError(
            `Check the login: there is no user "${login}" (see them all with: npm run users -- list).`,
          );
        say(`${command === "enable" ? "Enabled" : "Disabled"} ${user.login}.`);
        return 0;
      }
      case "passwd": {
        const password = await readPassword(values.password, values["password-stdin"] ?? false);
        if (password === undefined) {
          throw new UsageError(
            "Give the new password with --password-stdin, CHAT_USER_PASSWORD or --password.",
          );
        }
        const user = await directory.setPassword(needLogin(), password);
        if (!user)
          throw new UsageError(
            `Check the login: there is no user "${login}" (see them all with: npm run users -- list).`,
          );
        say(`Changed the password of ${user.login}.`);
        return 0;
      }
      case "email": {
        if (values.email === undefined) {
          throw new UsageError('Give the address with --email ann@example.com (or --email "" to remove it).');
        }
        const user = await directory.setEmail(needLogin(), values.email);
        if (!user)
          throw new UsageError(
            `Check the login: there is no user "${login}" (see them all with: npm run users -- list).`,
          );
        say(user.email ? `${user.login}'s email is now ${user.email}.` : `${user.login} has no email now.`);
        return 0;
      }
      case "remove": {
        if (!(await directory.remove(needLogin()))) {
          throw new UsageError(
            `Check the login: there is no user "${login}" (see them all with: npm run users -- list).`,
          );
        }
        say(`Removed ${login}.`);
        return 0;
      }
      default:
        throw new UsageError(
          `Use one of add, list, disable, enable, passwd, email, remove (not "${command}").`,
        );
    }
  } finally {
    if (chat.kind === "sqlite") chat.db.close();
    else await chat.store.close();
  }
}

/** The chat database the server would use; a PostgreSQL one is brought up to date first. */
async function openChat(config: ReturnType<typeof loadConfig>): Promise<ChatDatabase> {
  if (!config.chatDatabase) return { kind: "sqlite", db: openDatabase(config.sqlitePath) };
  try {
    const store = await PostgresChatStore.open({
      url: config.chatDatabase.url,
      max: 1,
      lockTimeoutMs: config.chatDatabase.lockTimeoutMs,
      statementTimeoutMs: config.chatDatabase.statementTimeoutMs,
    });
    return { kind: "postgres", store };
  } catch (error) {
    throw new UsageError(
      `CHAT_DATABASE_URL: check that PostgreSQL is running and the address is right; it did not answer (${(error as Error).message})`,
    );
  }
}

/** --password, then --password-stdin, then CHAT_USER_PASSWORD; undefined when none is given. */
async function readPassword(flag: string | undefined, fromStdin: boolean): Promise<string | undefined> {
  if (flag !== undefined) return flag;
  if (fromStdin) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
    // `echo` adds a newline that is not part of the password.
    const password = Buffer.concat(chunks)
      .toString("utf8")
      .replace(/\r?\n$/, "");
    if (!password) throw new UsageError("Standard input was empty: pipe the password in.");
    return password;
  }
  const env = process.env.CHAT_USER_PASSWORD;
  return env ? env : undefined;
}

function formatList(users: DirectoryUser[]): string {
  if (users.length === 0)
    return 'No users yet. Add one with: npm run users -- add <login> --name "Full Name"';
  const rows = [
    ["ID", "LOGIN", "NAME", "STATUS", "SCOPE"],
    ...users.map((u) => [u.id, u.login, u.name, u.active ? "active" : "disabled", u.scope ?? ""]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  const parseError =
    error instanceof Error && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS");
  const message =
    error instanceof ConfigError
      ? `Fix the configuration first:\n${error.problems.join("\n")}`
      : parseError
        ? `See npm run users -- --help for the options: ${error.message}`
        : error instanceof Error
          ? error.message
          : String(error);
  process.stderr.write(`${message}\n`);
  process.exitCode = 1;
}
