/**
 * The chat database's background worker thread (started by background.ts): it keeps the search
 * index current, checkpoints the WAL, and runs the start-up integrity check, all with its own
 * connections, so none of it stalls the event loop or holds the chat database's write lock.
 */
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import type { FromBackground, ToBackground } from "./background.js";
import { openSearchDatabase, SearchIndexer } from "./search-indexer.js";

const { chatPath, searchPath, cacheKib } = workerData as {
  chatPath: string;
  searchPath: string;
  cacheKib: number;
};
const port = parentPort!;
const send = (message: FromBackground) => port.postMessage(message);

/** How often the WAL is checkpointed while writes come in, and every room rescanned (missed hints). */
const CHECKPOINT_MS = 1000;
const RESCAN_MS = 10_000;

// read-write only for checkpoints: this thread never writes chat data
const chat = new Database(chatPath, { fileMustExist: true, timeout: 5000 });
chat.pragma(`cache_size = ${-cacheKib}`);
const index = openSearchDatabase(searchPath, cacheKib);

const problem = chat.pragma("quick_check", { simple: true });
send({ type: "integrity", problem: problem === "ok" ? null : String(problem) });

const indexer = new SearchIndexer(chat, index);
let pending = new Set<number>(indexer.roomsBehind());
let wrote = false;
let running = false;
let closing = false;

/** Indexes batches until nothing is pending, yielding between batches so hints and `close` get in. */
function work(): void {
  if (running || closing) return;
  running = true;
  setImmediate(function batch() {
    try {
      const more = indexer.indexRooms(pending);
      pending = new Set(more);
    } catch (err) {
      send({ type: "error", message: err instanceof Error ? err.message : String(err) });
      pending.clear();
    }
    if (pending.size > 0 && !closing) setImmediate(batch);
    else running = false;
  });
}

const checkpoints = setInterval(() => {
  if (!wrote) return;
  wrote = false;
  try {
    // PASSIVE: copies what it can without waiting for the writer or readers; the main thread
    // then copies the last few frames between two commits, so the WAL can start over
    chat.pragma("wal_checkpoint(PASSIVE)");
    send({ type: "checkpointed" });
  } catch (err) {
    send({ type: "error", message: err instanceof Error ? err.message : String(err) });
  }
}, CHECKPOINT_MS);
const rescans = setInterval(() => {
  for (const id of indexer.roomsBehind()) pending.add(id);
  work();
}, RESCAN_MS);

port.on("message", (message: ToBackground) => {
  if (message.type === "rooms") {
    for (const id of message.ids) pending.add(id);
    wrote = true;
    work();
    return;
  }
  // close: index what is left (bounded), then let go of the files
  closing = true;
  clearInterval(checkpoints);
  clearInterval(rescans);
  const deadline = Date.now() + message.catchUpMs;
  try {
    for (const id of indexer.roomsBehind()) pending.add(id);
    while (pending.size > 0 && Date.now() < deadline) pending = new Set(indexer.indexRooms(pending));
  } finally {
    index.close();
    chat.close();
    port.close(); // nothing is left to keep the thread alive: it exits
  }
});

work();
