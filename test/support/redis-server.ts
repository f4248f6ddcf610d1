/**
 * A Redis of the test's own (`redis-server` on a free loopback port, nothing saved to disk), for
 * tests that stop and restart Redis under running nodes without touching the machine's shared one.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { after } from "node:test";
import { Redis } from "ioredis";
import { until } from "./wait.js";

/** A port on loopback that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class OwnRedis {
  private child: ChildProcess | null = null;

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts a Redis on a free port, answering PING before this resolves. */
  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort());
    await redis.restart();
    return redis;
  }

  /** Starts it (again) on the same port; what it held before is gone, as after a crash without saving. */
  async restart(): Promise<void> {
    if (this.child) throw new Error("this Redis is already running");
    const child = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        stdio: "ignore",
      },
    );
    this.child = child;
    running.add(child);
    child.once("exit", () => running.delete(child));
    await until(() => this.answers(), 10_000, `redis-server on port ${this.port} to answer`);
  }

  /** Kills it at once (SIGKILL): every connection to it drops. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  private async answers(): Promise<boolean> {
    const probe = new Redis(this.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on("error", () => {});
    try {
      await probe.connect();
      return (await probe.ping()) === "PONG";
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  }
}

/** A test that failed half-way must not leave a redis-server behind. */
const running = new Set<ChildProcess>();
after(() => {
  for (const child of running) child.kill("SIGKILL");
});
