/**
 * The load generator's worker processes and the request/response exchange with them. By default
 * they run bench/worker.ts; the catch-up scenario runs bench/catchup-worker.ts with its own messages.
 */
import { type ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import type { FromWorker, ToWorker } from "./ipc.js";
import { BUILD_DIR } from "./targets.js";

type Reply<From, T> = Extract<From, { type: T }>;

export class WorkerPool<To extends { type: string } = ToWorker, From extends { type: string } = FromWorker> {
  readonly workers: ChildProcess[];

  /** `script`: the worker's compiled file, relative to the build folder. */
  constructor(size: number, script = "bench/worker.js") {
    this.workers = Array.from({ length: size }, () =>
      fork(join(BUILD_DIR, script), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] }),
    );
  }

  /** Sends `command` to worker `i` and resolves with its reply of type `expect` (or fails after `timeoutMs`). */
  ask<T extends From["type"]>(i: number, command: To, expect: T, timeoutMs: number): Promise<Reply<From, T>> {
    const worker = this.workers[i]!;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        worker.off("message", listener);
        reject(new Error(`worker ${i} sent no ${expect} within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (message: From) => {
        if (message.type !== expect && message.type !== "error") return;
        clearTimeout(timer);
        worker.off("message", listener);
        if (message.type === "error")
          reject(new Error(`worker ${i}: ${(message as { message?: unknown }).message}`));
        else resolve(message as Reply<From, T>);
      };
      worker.on("message", listener);
      worker.send(command);
    });
  }

  /** The same exchange with every worker; `commandFor(i)` builds each one's command. */
  all<T extends From["type"]>(
    commandFor: (i: number) => To,
    expect: T,
    timeoutMs: number,
  ): Promise<Reply<From, T>[]> {
    return Promise.all(this.workers.map((_, i) => this.ask(i, commandFor(i), expect, timeoutMs)));
  }

  close(): void {
    // every worker knows `exit`, whatever else it speaks
    for (const w of this.workers) if (w.connected) w.send({ type: "exit" });
  }
}
