/**
 * Prometheus metrics. Each app has its own registry, so several apps (tests, benchmarks) can run
 * in one process without clashing.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "timewise_chat_" });
  return {
    registry,
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
      help: "Duration of one group-commit transaction of the chat database",
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    }),
    storeBatch: new Histogram({
      name: "timewise_chat_store_writes_per_commit",
      help: "Writes committed together in one transaction",
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
