/**
 * `npm run store -- copy --from sqlite:./database.db --to postgres://…`: moves a TimeWise Chat
 * installation from its SQLite file to a PostgreSQL database (copy-store.ts does the work). Prints
 * a short summary; exits 1 on a usage problem and 2 when a room or table in the target differs.
 */
import { parseArgs } from "node:util";
import type pg from "pg";
import { openPool } from "../postgres/pool.js";
import { type CopyReport, copyStore } from "./copy-store.js";
import { CopyError } from "./errors.js";
import { checkSourceFile } from "./source.js";

const HELP = `Copy TimeWise Chat's chat data from its SQLite file into PostgreSQL.

Usage: npm run store -- copy --from sqlite:<file> --to postgres://<user>:<password>@<host>:<port>/<database>

  --from sqlite:<file>   the chat database file (SQLITE_PATH, e.g. sqlite:./database.db); it is only read
  --to postgres://...    the PostgreSQL database to fill (CHAT_DATABASE_URL); its tables are made if missing
  -h, --help             show this help

Stop TimeWise Chat first, so no message arrives during the copy. Running it again is safe: it copies
only what is missing and checks every room again.
`;

/** Reads `sqlite:<path>` (or a bare path) into the path. */
function sqlitePathOf(from: string): string {
  const path = from.startsWith("sqlite:") ? from.slice("sqlite:".length) : from;
  if (path === "" || /^[a-z]+:\/\//i.test(path)) {
    throw new CopyError("Give the SQLite file as --from sqlite:./database.db.");
  }
  return path;
}

function checkUrl(to: string): string {
  if (!/^postgres(ql)?:\/\//i.test(to)) {
    throw new CopyError("Give the PostgreSQL database as --to postgres://user:password@host:5432/database.");
  }
  try {
    new URL(to);
  } catch {
    throw new CopyError("Check the --to URL: it is not a valid postgres://user:password@host:5432/database.");
  }
  return to;
}

/** The URL without its password, for messages. */
function shown(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}

async function connectCheck(pool: pg.Pool, url: string): Promise<void> {
  try {
    await pool.query("SELECT 1");
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CopyError(
      `Check the --to URL and that PostgreSQL is running: cannot connect to ${shown(url)} (${reason}).`,
    );
  }
}

function summary(report: CopyReport): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const lines = [
    `Copied ${n(report.rooms)} rooms, ${n(report.members)} members and ${n(report.messages)} messages (${n(report.addedMessages)} new) in ${report.seconds.toFixed(1)} s.`,
    `Other tables: ${report.tables.map((t) => `${t.table} ${n(t.rows)} (${n(t.added)} new)`).join(", ")}.`,
  ];
  lines.push(
    report.problems.length === 0
      ? `Checked every room: message count, last seq, rev, checksums, members and read markers are equal.`
      : `${n(report.problems.length)} rooms or tables differ in the target; fix or empty the target, then run the copy again.`,
  );
  return `${lines.join("\n")}\n`;
}

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new CopyError(
      `${error instanceof Error ? error.message : String(error)}. See npm run store -- --help.`,
    );
  }
  const { values, positionals } = parsed;
  const [command, ...extra] = positionals;
  if (values.help || command === undefined || command === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  if (command !== "copy") throw new CopyError(`Unknown command "${command}": the command is copy.`);
  if (extra.length > 0) throw new CopyError(`Remove "${extra.join(" ")}": copy takes only --from and --to.`);
  if (!values.from) throw new CopyError("Say which file to copy: --from sqlite:./database.db.");
  if (!values.to)
    throw new CopyError("Say where to copy it: --to postgres://user:password@host:5432/database.");
  const sqlitePath = sqlitePathOf(values.from);
  const url = checkUrl(values.to);
  checkSourceFile(sqlitePath);

  // one transaction per room, which for a big room may take minutes: no statement or lock limits
  const pool = openPool({ url, max: 2, lockTimeoutMs: 0, statementTimeoutMs: 0 });
  try {
    await connectCheck(pool, url);
    const report = await copyStore({
      sqlitePath,
      pool,
      onRoom: (done, total) => {
        if (process.stderr.isTTY) process.stderr.write(`\rroom ${done} of ${total}`);
      },
    });
    if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
    for (const problem of report.problems) process.stderr.write(`Differs: ${problem}\n`);
    process.stdout.write(summary(report));
    return report.problems.length === 0 ? 0 : 2;
  } finally {
    await pool.end();
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      from: { type: "string" },
      to: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = error instanceof CopyError ? error.message : `The copy stopped: ${describe(error)}`;
    process.stderr.write(`${message}\n`);
    process.exitCode = 1;
  },
);

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
