/**
 * Runs the real TimeWise Chat entry point (`node --import tsx src/main.ts`) as a child process, the
 * way a process manager does, for tests of start-up, signals, logs and crash durability.
 * The child gets a clean environment (PATH and HOME only, plus what the test passes) and runs in
 * its own temporary working directory, so a developer's `.env` never leaks into a test.
 * Its clients, tokens and waiting come from the same parts as the in-process server (harness.ts).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import pg from "pg";
import { databaseFor, pathDatabasesReady } from "./postgres-database.js";
import { TEST_CHAT_STORE } from "./server.js";
import { TEST_SECRET } from "./tokens.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const MAIN = join(ROOT, "src/main.ts");
export const CLI = join(ROOT, "src/users/cli.ts");
/** `--import tsx` resolved from the project, so the child can run in any directory. */
const TSX = import.meta.resolve("tsx");
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  port: number;
  url: string;
  child: ChildProcess;
  /** every line the child wrote so far */
  stdout: string[];
  stderr: string[];
  /** stdout lines that are JSON (pino), parsed */
  logs(): Record<string, unknown>[];
  exited: Promise<Exit>;
  /** Sends `signal` (SIGTERM by default) and resolves with the exit, or rejects after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

/** A temporary directory, removed by the returned function. */
export function tempDir(prefix = "twc-proc-"): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The environment a child starts from: nothing of the test runner's but PATH and HOME. */
function baseEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? tmpdir() };
}

/**
 * Defaults for a test server: port 0 on loopback, the test secret, info logs. Under
 * TEST_CHAT_STORE=postgres the chat data goes to the PostgreSQL database of `sqlitePath` (the same
 * path gives the same database, so a restart keeps its data); spawnServer waits until it exists.
 */
export function serverEnv(sqlitePath: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    CHAT_PORT: "0",
    CHAT_HOST: "127.0.0.1",
    SQLITE_PATH: sqlitePath,
    ...(TEST_CHAT_STORE === "postgres" ? { CHAT_DATABASE_URL: databaseFor(sqlitePath).url } : {}),
    AUTH_JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: "info",
    ...extra,
  };
}

interface Started {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<Exit>;
  onLine(listener: (line: string) => void): void;
}

/** Children still running; a test that failed half-way must not leave a server behind. */
const live = new Set<ChildProcess>();
after(() => {
  for (const child of live) child.kill("SIGKILL");
});

function start(args: string[], env: Record<string, string>, cwd: string): Started {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...baseEnv(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  child.once("exit", () => live.delete(child));
  const stdout: string[] = [];
  const stderr: string[] = [];
  const listeners: ((line: string) => void)[] = [];
  const split = (into: string[], notify: boolean) => {
    let rest = "";
    return (chunk: Buffer) => {
      const parts = (rest + chunk.toString("utf8")).split("\n");
      rest = parts.pop() ?? "";
      for (const line of parts) {
        into.push(line);
        if (notify) for (const l of listeners) l(line);
      }
    };
  };
  child.stdout?.on("data", split(stdout, true));
  child.stderr?.on("data", split(stderr, false));
  const exited = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  return { child, stdout, stderr, exited, onLine: (l) => listeners.push(l) };
}

function parseJson(line: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Timers in helpers must not keep the test process alive. */
function timeout(ms: number, what: string): { promise: Promise<never>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/**
 * Starts `src/main.ts` with `env` and resolves once it logged "TimeWise Chat is listening".
 * Rejects (after killing the child) if it exits or stays silent for `timeoutMs`.
 */
export async function spawnServer(
  env: Record<string, string>,
  options: {
    cwd?: string;
    timeoutMs?: number;
    /** what node runs instead of `--import tsx src/main.ts` (e.g. a compiled build) */
    nodeArgs?: string[];
  } = {},
): Promise<ServerProcess> {
  await pathDatabasesReady();
  const scratch = options.cwd ? null : tempDir("twc-cwd-");
  const cwd = options.cwd ?? scratch!.dir;
  const s = start(options.nodeArgs ?? ["--import", TSX, MAIN], env, cwd);
  void s.exited.then(() => scratch?.remove());
  const listening = new Promise<number>((resolve) => {
    s.onLine((line) => {
      const log = parseJson(line);
      if (log?.msg === "TimeWise Chat is listening" && typeof log.port === "number") resolve(log.port);
    });
  });
  const limit = timeout(options.timeoutMs ?? 30_000, "the server did not log that it is listening");
  let port: number;
  try {
    port = await Promise.race([
      listening,
      s.exited.then((exit) => {
        throw new Error(
          `the server exited (${JSON.stringify(exit)}) before listening:\n${s.stderr.join("\n")}`,
        );
      }),
      limit.promise,
    ]);
    // One answered request: the server got past start-up, not only past the log call.
    await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.body?.cancel());
  } catch (error) {
    s.child.kill("SIGKILL");
    throw error;
  } finally {
    limit.cancel();
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    child: s.child,
    stdout: s.stdout,
    stderr: s.stderr,
    logs: () => s.stdout.map(parseJson).filter((l): l is Record<string, unknown> => l !== null),
    exited: s.exited,
    async stop(signal = "SIGTERM", timeoutMs = 10_000) {
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill(signal);
      const limit = timeout(timeoutMs, `the server did not exit within ${timeoutMs} ms of ${signal}`);
      try {
        return await Promise.race([s.exited, limit.promise]);
      } catch (error) {
        s.child.kill("SIGKILL");
        throw error;
      } finally {
        limit.cancel();
      }
    },
  };
}

/** Runs the server expecting it to exit by itself (bad settings); kills it if it starts listening. */
export async function runUntilExit(
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<Exit & { stdout: string; stderr: string; listened: boolean }> {
  await pathDatabasesReady();
  const scratch = tempDir("twc-cwd-");
  const s = start(["--import", TSX, MAIN], env, scratch.dir);
  let listened = false;
  s.onLine((line) => {
    if (parseJson(line)?.msg === "TimeWise Chat is listening") {
      listened = true;
      s.child.kill("SIGKILL");
    }
  });
  const limit = timeout(timeoutMs, "the server neither exited nor listened");
  try {
    const exit = await Promise.race([s.exited, limit.promise]);
    return { ...exit, stdout: s.stdout.join("\n"), stderr: s.stderr.join("\n"), listened };
  } catch (error) {
    s.child.kill("SIGKILL");
    throw error;
  } finally {
    limit.cancel();
    scratch.remove();
  }
}

/**
 * `users add` through the CLI, against the built-in directory of the server on `sqlitePath` (the
 * SQLite file, or under TEST_CHAT_STORE=postgres that path's PostgreSQL database, as serverEnv
 * gives the server). Resolves with the new user's id, read back from that database.
 */
export async function cliAddUser(
  sqlitePath: string,
  login: string,
  options: { name: string; password?: string },
): Promise<string> {
  const args = ["--import", TSX, CLI, "add", login, "--name", options.name];
  if (options.password !== undefined) args.push("--password", options.password);
  const postgres = TEST_CHAT_STORE === "postgres" ? databaseFor(sqlitePath) : null;
  if (postgres) await postgres.ready;
  const cwd = tempDir("twc-cli-");
  const { stdout } = await promisify(execFile)(process.execPath, args, {
    cwd: cwd.dir,
    env: {
      ...baseEnv(),
      SQLITE_PATH: sqlitePath,
      ...(postgres ? { CHAT_DATABASE_URL: postgres.url } : {}),
      LOG_LEVEL: "silent",
    },
    timeout: 30_000,
  }).finally(cwd.remove);
  const id = postgres ? await postgresUserId(postgres.url, login) : sqliteUserId(sqlitePath, login);
  if (id === undefined) throw new Error(`the CLI did not add ${login}: ${stdout}`);
  return id;
}

function sqliteUserId(sqlitePath: string, login: string): string | undefined {
  const db = new Database(sqlitePath, { readonly: true });
  try {
    const id = db.prepare("SELECT id FROM directory_users WHERE login = ?").pluck().get(login);
    return id === undefined ? undefined : String(id);
  } finally {
    db.close();
  }
}

async function postgresUserId(url: string, login: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>(
      "SELECT id::text AS id FROM directory_users WHERE login = $1",
      [login],
    );
    return rows[0]?.id;
  } finally {
    await client.end();
  }
}
