/**
 * Starts and talks to the background worker thread of a chat database (background-worker.ts):
 * after each commit the store names the rooms whose messages changed, and the worker indexes them
 * for search shortly after and checkpoints the WAL. The worker also runs the integrity check that
 * would otherwise hold up start-up; a failure is kept here and reported by the store's `ping()`
 * (so `/ready` says so) instead of stopping a server that is already serving.
 */
import { Worker } from "node:worker_threads";
import { cacheKib, type SqliteDatabase } from "./open.js";
import { searchPathOf } from "./search-indexer.js";

export type ToBackground = { type: "rooms"; ids: number[] } | { type: "close"; catchUpMs: number };

export type FromBackground =
  | { type: "integrity"; problem: string | null }
  | { type: "error"; message: string }
  | { type: "checkpointed" };

/** How long changed rooms are gathered before the worker is told (one message, not one per write). */
const HINT_DELAY_MS = 100;

/**
 * From the TypeScript sources (tests, `npm run dev`) the worker must register tsx itself: worker
 * threads do not inherit the loader hooks of `node --import tsx`.
 */
function startWorker(workerData: object): Worker {
  const compiled = !import.meta.url.endsWith(".ts");
  if (compiled) return new Worker(new URL("./background-worker.js", import.meta.url), { workerData });
  const entry = new URL("./background-worker.ts", import.meta.url).href;
  const tsx = import.meta.resolve("tsx/esm/api");
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

export class Background {
  /** Why the chat database failed its integrity check, once the worker has run it. */
  integrityProblem: string | null = null;
  private readonly worker: Worker;
  private readonly changed = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  private closing: Promise<void> | null = null;
  private exited = false;

  /** Called after each of the worker's WAL checkpoints. */
  onCheckpointed: () => void = () => {};

  constructor(
    db: SqliteDatabase,
    private readonly onError: (message: string) => void = () => {},
  ) {
    this.worker = startWorker({
      chatPath: db.name,
      searchPath: searchPathOf(db),
      cacheKib: Math.ceil(cacheKib(db) / 8),
    });
    this.worker.unref(); // never keeps the process alive
    this.worker.on("message", (message: FromBackground) => {
      if (message.type === "integrity" && message.problem !== null) {
        this.integrityProblem = message.problem;
        this.onError(`the chat database failed its integrity check: ${message.problem}`);
      } else if (message.type === "error") this.onError(message.message);
      else if (message.type === "checkpointed") this.onCheckpointed();
    });
    this.worker.on("error", (err) => this.onError(`background worker failed: ${err.message}`));
    this.worker.once("exit", () => {
      this.exited = true;
    });
  }

  /** The room's messages changed (call after the commit): they are indexed shortly. */
  roomChanged(roomId: string): void {
    this.changed.add(Number(roomId));
    if (this.timer || this.closing) return;
    this.timer = setTimeout(() => this.sendHints(), HINT_DELAY_MS);
    this.timer.unref();
  }

  /** Lets the worker index what is left (up to `catchUpMs`) and stops it. */
  close(catchUpMs = 2000): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      if (this.timer) clearTimeout(this.timer);
      if (this.exited) return resolve();
      this.sendHints();
      const stop = setTimeout(() => {
        void this.worker.terminate();
        resolve();
      }, catchUpMs + 3000);
      this.worker.once("exit", () => {
        clearTimeout(stop);
        resolve();
      });
      this.worker.postMessage({ type: "close", catchUpMs } satisfies ToBackground);
    });
    return this.closing;
  }

  private sendHints(): void {
    this.timer = null;
    if (this.changed.size === 0) return;
    this.worker.postMessage({ type: "rooms", ids: [...this.changed] } satisfies ToBackground);
    this.changed.clear();
  }
}
