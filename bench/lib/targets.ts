/**
 * The processes under test: the chat server (the compiled `src/main.ts`, as production runs it)
 * and the bare relay, each started as a child process on a free loopback port, with its RSS and
 * CPU time read from /proc.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clockMs } from "./stats.js";

/** Where `npm run bench` compiles the server and the benchmark (ignored by git). */
export const BUILD_DIR = new URL("../results/build/", import.meta.url).pathname;
export const REPO_DIR = new URL("../../", import.meta.url).pathname;
/** The secret the benchmark's server trusts; the benchmark signs its users' tokens with it. */
export const BENCH_SECRET = "timewise-chat-benchmark-secret-0123456789abcdef";

/** Compiles src/ and bench/ with the project's TypeScript settings. */
export function build(): void {
  execFileSync(
    process.execPath,
    [join(REPO_DIR, "node_modules/typescript/bin/tsc"), "-p", "bench/tsconfig.json"],
    {
      cwd: REPO_DIR,
      stdio: "inherit",
    },
  );
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Target {
  kind: "server" | "relay";
  url: string;
  pid: number;
  /** ms from spawn to the first answered HTTP request */
  startupMs: number;
  rssKb(): number;
  /** user + system CPU seconds so far */
  cpuS(): number;
  stop(): Promise<void>;
  /** SIGKILL, as a machine that dies: no shutdown, no goodbye to its clients; resolves once it is gone */
  kill(): Promise<void>;
}

const TICKS = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

function procStats(pid: number): { rssKb: number; cpuS: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  // fields after the command name (which may hold spaces) start at ")"
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpuS = (Number(fields[11]) + Number(fields[12])) / TICKS;
  return { rssKb, cpuS };
}

/** CPU seconds the whole machine has been busy (every process, ours or not), from /proc/stat. */
export function machineBusyS(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const [, ...ticks] = line.trim().split(/\s+/).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = ticks as number[];
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / TICKS;
}

async function waitHealthy(
  url: string,
  child: ChildProcess,
  log: () => string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = clockMs() + timeoutMs;
  while (clockMs() < deadline) {
    if (child.exitCode !== null) throw new Error(`the target exited with code ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`the target did not answer within ${timeoutMs} ms:\n${log()}`);
}

async function launch(
  kind: Target["kind"],
  script: string,
  env: Record<string, string>,
  port: number,
): Promise<Target> {
  const cwd = mkdtempSync(join(tmpdir(), `twc-bench-${kind}-`)); // no stray .env is read
  const extraArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  let output = "";
  const started = clockMs();
  const child = spawn(process.execPath, [...extraArgs, script], {
    cwd,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(url, child, () => output);
  const startupMs = clockMs() - started;
  const pid = child.pid!;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    kind,
    url,
    pid,
    startupMs,
    rssKb: () => procStats(pid).rssKb,
    cpuS: () => procStats(pid).cpuS,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      return exited;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        child.once("exit", (code) => {
          clearTimeout(timer);
          if (code !== 0 && code !== null) process.stderr.write(`${kind} exited with ${code}:\n${output}\n`);
          rmSync(cwd, { recursive: true, force: true });
          resolve();
        });
        if (child.exitCode !== null || child.signalCode !== null) child.emit("exit", child.exitCode);
        else child.kill("SIGTERM");
      }),
  };
}

/** Starts the chat server on `sqlitePath` (a database the caller prepared). */
export async function startServer(sqlitePath: string, env: Record<string, string> = {}): Promise<Target> {
  const port = await freePort();
  return launch(
    "server",
    join(BUILD_DIR, "src/main.js"),
    {
      NODE_ENV: "production",
      CHAT_HOST: "127.0.0.1",
      CHAT_PORT: String(port),
      SQLITE_PATH: sqlitePath,
      AUTH_JWT_SECRET: BENCH_SECRET,
      LOG_LEVEL: "warn",
      // the benchmark is one office at full speed; the limits are for abuse, not for it
      RATE_LIMIT_MESSAGES: "1000000",
      RATE_LIMIT_ROOM_OPS: "1000000",
      RATE_LIMIT_SEARCHES: "1000000",
      RATE_LIMIT_READS: "1000000",
      MAX_SOCKETS_PER_USER: "100",
      ...env,
    },
    port,
  );
}

export async function startRelay(): Promise<Target> {
  const port = await freePort();
  return launch(
    "relay",
    join(BUILD_DIR, "bench/relay.js"),
    { RELAY_PORT: String(port), RELAY_HOST: "127.0.0.1" },
    port,
  );
}

/** A temporary folder for one run's database; removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}
