/**
 * `GET /ready` says which dependency fails (and the server still starts without its MySQL), and
 * `GET /metrics` is Prometheus text whose chat series move with connections, refusals and sends.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ok, startServer, type TestServer, until } from "../support/harness.js";
import { heapAfterGc } from "../support/heap.js";

async function getJson(
  server: TestServer,
  path: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.url}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Parses Prometheus text into `name{labels}` → value (comments skipped). */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?)\s+(\S+)/.exec(line);
    if (match) samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

async function metrics(
  server: TestServer,
): Promise<{ text: string; samples: Map<string, number>; type: string }> {
  const response = await fetch(`${server.url}/metrics`);
  assert.equal(response.status, 200);
  const text = await response.text();
  return { text, samples: parseMetrics(text), type: response.headers.get("content-type") ?? "" };
}

/** Sum of the samples whose key matches. */
const sum = (samples: Map<string, number>, key: RegExp) =>
  [...samples].filter(([k]) => key.test(k)).reduce((total, [, v]) => total + v, 0);

const HEAP_AFTER_GC = "timewise_chat_heap_after_full_gc_bytes";
const CONNECTIONS = /^timewise_chat_(socket_|open_)?connections(\{.*\})?$/;
const REFUSED_INVALID = /^timewise_chat_[a-z_]*(refus|reject|fail)[a-z_]*\{[^}]*AUTH_INVALID[^}]*\}$/;
const MESSAGES_SENT = /^timewise_chat_messages?_sent(_total)?(\{.*\})?$/;
const ACK_COUNT = /^timewise_chat_[a-z_]*ack[a-z_]*_count(\{.*\})?$/;
const STORE_COUNT = /^timewise_chat_[a-z_]*(store|write|commit)[a-z_]*_seconds_count(\{.*\})?$/;

describe("GET /ready", () => {
  test("answers 200 {status: ok, checks} with the built-in directory", async () => {
    const server = await startServer();
    try {
      const reply = await getJson(server, "/ready");
      assert.equal(reply.status, 200);
      assert.equal(reply.body.status, "ok");
      assert.ok(reply.body.checks && typeof reply.body.checks === "object");
    } finally {
      await server.close();
    }
  });

  test("answers 503 naming the users check when MySQL is unreachable, while /health stays 200", async () => {
    const server = await startServer({
      env: { MYSQL_HOST: "127.0.0.1", MYSQL_PORT: "1", MYSQL_CONNECT_TIMEOUT_MS: "2000" },
    });
    try {
      const reply = await getJson(server, "/ready");
      assert.equal(reply.status, 503);
      assert.equal(reply.body.status, "unavailable");
      const checks = reply.body.checks as Record<string, unknown>;
      // the chat store's check is named after it: `database` on PostgreSQL (PROTOCOL v2.1)
      const store = server.chatStore === "postgres" ? "database" : "sqlite";
      assert.deepEqual(Object.keys(checks).sort(), [store, "files", "users"].sort());
      assert.equal(checks.files, "ok");
      assert.equal(checks[store], "ok");
      assert.equal(checks.users, "unavailable");
      assert.equal((await getJson(server, "/health")).status, 200);
    } finally {
      await server.close();
    }
  });
});

describe("GET /metrics", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  test("is Prometheus text with timewise_chat_ series and HELP/TYPE lines", async () => {
    const { text, type } = await metrics(server);
    assert.match(type, /^text\/plain/);
    assert.match(text, /^# HELP timewise_chat_/m);
    assert.match(text, /^# TYPE timewise_chat_\S+ (counter|gauge|histogram)/m);
    assert.match(text, /^# TYPE timewise_chat_\S+ histogram/m, "at least one histogram");
    assert.ok(
      [...parseMetrics(text).keys()].some((k) => CONNECTIONS.test(k)),
      "a connections gauge",
    );
  });

  test("the heap right after a full garbage collection is reported, for spotting leaks", async () => {
    // the server runs in this process, so a full collection here is the server's too
    const live = heapAfterGc();
    let reported = 0;
    await until(
      async () => {
        reported = (await metrics(server)).samples.get(HEAP_AFTER_GC) ?? 0;
        return reported > 0;
      },
      5000,
      "the heap-after-full-gc gauge",
    );
    // taken right after the same collection: the same order of size as what this process holds
    assert.ok(reported > live / 2 && reported < live * 2, `reported ${reported}, heap after gc ${live}`);
  });

  test("the connections gauge goes up by two for two sockets and back down when they close", async () => {
    const before = sum((await metrics(server)).samples, CONNECTIONS);
    const ann = await server.addUser("Ann Metrics");
    const a = await server.connect(ann);
    const b = await server.connect(ann, { transports: ["polling"] });
    assert.equal(sum((await metrics(server)).samples, CONNECTIONS), before + 2);
    a.close();
    b.close();
    await until(
      async () => sum((await metrics(server)).samples, CONNECTIONS) === before,
      5000,
      "gauge back down",
    );
  });

  test("a refused handshake increments the refusals counter for its code", async () => {
    const before = sum((await metrics(server)).samples, REFUSED_INVALID);
    const refusal = await server.connectRefused({ token: "not-a-jwt" });
    assert.equal(refusal.code, "AUTH_INVALID");
    assert.equal(sum((await metrics(server)).samples, REFUSED_INVALID), before + 1);
  });

  test("a sent message moves the messages counter, the ack latency histogram and the store write histogram", async () => {
    const ann = await server.addUser("Ann Sender");
    const bob = await server.addUser("Bob Receiver");
    const socket = await server.connect(ann);
    const { room } = await ok(socket, "room:direct", { userId: bob.id });
    const before = (await metrics(server)).samples;
    await ok(socket, "message:send", { roomId: room.id, body: "counted", clientId: "metrics-1" });
    const afterSend = (await metrics(server)).samples;
    assert.equal(sum(afterSend, MESSAGES_SENT), sum(before, MESSAGES_SENT) + 1, "messages sent +1");
    assert.ok(sum(afterSend, ACK_COUNT) > sum(before, ACK_COUNT), "an ack latency observation");
    assert.ok(sum(afterSend, STORE_COUNT) > sum(before, STORE_COUNT), "a store write observation");
    // a repeat of the same clientId is not a new message
    await ok(socket, "message:send", { roomId: room.id, body: "counted", clientId: "metrics-1" });
    assert.equal(sum((await metrics(server)).samples, MESSAGES_SENT), sum(afterSend, MESSAGES_SENT));
    socket.close();
  });
});
