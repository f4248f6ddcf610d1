/**
 * The load generator's worker processes and the request/response exchange with them.
 */
import { type ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import type { FromWorker, ToWorker } from "./ipc.js";
import { BUILD_DIR } from "./targets.js";

type Reply<T extends FromWorker["type"]> = Extract<FromWorker, { type: T }>;

export class WorkerPool {
  readonly workers: ChildProcess[];

  constructor(size: number) {
    this.workers = Array.from({ length: size }, () =>
      fork(join(BUILD_DIR, "bench/worker.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] }),
    );
  }

  /** Sends `command` to worker `i` and resolves with its reply of type `expect` (or fails after `timeoutMs`). */
  ask<T extends FromWorker["type"]>(
    i: number,
    command: ToWorker,
    expect: T,
    timeoutMs: number,
  ): Promise<Reply<T>> {
    const worker = this.workers[i]!;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        worker.off("message", listener);
        reject(new Error(`worker ${i} sent no ${expect} within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (message: FromWorker) => {
        if (message.type !== expect && message.type !== "error") return;
        clearTimeout(timer);
        worker.off("message", listener);
        if (message.type === "error") reject(new Error(`worker ${i}: ${message.message}`));
        else resolve(message as Reply<T>);
      };
      worker.on("message", listener);
      worker.send(command);
    });
  }

  /** The same exchange with every worker; `commandFor(i)` builds each one's command. */
  all<T extends FromWorker["type"]>(
    commandFor: (i: number) => ToWorker,
    expect: T,
    timeoutMs: number,
  ): Promise<Reply<T>[]> {
    return Promise.all(this.workers.map((_, i) => this.ask(i, commandFor(i), expect, timeoutMs)));
  }

  close(): void {
    for (const w of this.workers) if (w.connected) w.send({ type: "exit" } satisfies ToWorker);
  }
}
