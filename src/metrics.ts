/**
 * Prometheus metrics. Each app has its own registry, so several apps (tests, benchmarks) can run
 * in one process without clashing.
 */
import { constants, type PerformanceEntry, PerformanceObserver } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "timewise_chat_" });
  // The heap in use swings with garbage collection; right after a full collection it holds only
  // what is still reachable, so a leak shows there as a steady climb.
  const heapAfterGc = new Gauge({
    name: "timewise_chat_heap_after_full_gc_bytes",
    help: "V8 heap in use right after the last full garbage collection: the figure to watch for leaks",
    registers: [registry],
  });
  const gcWatch = new PerformanceObserver((list) => {
    if (list.getEntries().some(isFullGc)) heapAfterGc.set(getHeapStatistics().used_heap_size);
  });
  gcWatch.observe({ entryTypes: ["gc"] });
  return {
    registry,
    /** Stops watching garbage collections. */
    close: () => gcWatch.disconnect(),
    connections: new Gauge({
      name: "timewise_chat_connections",
      help: "Socket.io connections open now",
      registers: [registry],
    }),
    authRefusals: new Counter({
      name: "timewise_chat_auth_refusals_total",
      help: "Refused handshakes, by refusal code",
      labelNames: ["code"] as const,
      registers: [registry],
    }),
    /** (v2.3) Web Push requests by outcome: sent, gone (404/410, subscription removed), failed (after retries) */
    pushes: new Counter({
      name: "timewise_chat_pushes_total",
      help: "Web Push deliveries by outcome: sent, gone (the subscription was removed) or failed",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    messagesSent: new Counter({
      name: "timewise_chat_messages_sent_total",
      help: "Messages stored and delivered",
      registers: [registry],
    }),
    ackLatency: new Histogram({
      name: "timewise_chat_ack_latency_seconds",
      help: "Time from receiving a request event to sending its ack",
      labelNames: ["event", "outcome"] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    storeWrite: new Histogram({
      name: "timewise_chat_store_write_seconds",
      help: "Duration of one write transaction of the chat database (on SQLite, one group commit)",
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    }),
    storeBatch: new Histogram({
      name: "timewise_chat_store_writes_per_commit",
      help: "Writes committed together in one transaction",
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers: [registry],
    }),
    filesRemoved: new Counter({
      name: "timewise_chat_files_removed_total",
      help: "Files whose bytes this node removed from the file store, by why they went",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    messagesExpired: new Counter({
      name: "timewise_chat_messages_expired_total",
      help: "Messages this node deleted because they were older than their room's retention",
      registers: [registry],
    }),
    backgroundJobProblems: new Counter({
      name: "timewise_chat_background_job_problems_total",
      help: "Background job runs (or claims of them) that failed on this node; the job runs again at its next turn",
      registers: [registry],
    }),
  };
}

/** Node's `gc` entries carry the collection's kind in `detail`, which its types leave out. */
function isFullGc(entry: PerformanceEntry): boolean {
  const detail = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail;
  return detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR;
}

export type Metrics = ReturnType<typeof createMetrics>;
