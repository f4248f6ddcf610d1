/**
 * Webhooks to the PHP app: message.created, presence.changed and room.updated arrive signed, and
 * the PHP kit's own verification (run by real PHP) accepts them and refuses tampered or replayed
 * ones. A failing receiver gets retries with the same delivery id; a hanging one does not slow
 * sends; past the retry budget events are dropped and counted in the log.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Registry } from "prom-client";
import { createLogger } from "../../src/logger.js";
import { DEFAULT_WEBHOOK_OPTIONS, WebhookSender } from "../../src/webhooks/index.js";
import { ok, requireService, startServer, type TestServer, until } from "../support/harness.js";
import { php } from "../support/php.js";
import { clientId, group, person } from "../support/rooms.js";
import { type ReceivedWebhook, type Receiver, startReceiver } from "../support/webhook-receiver.js";

const KIT = join(import.meta.dirname, "../../integrations/php/TimeWiseChat.php");
const SECRET = "webhook-secret-0123456789abcdef-0123456789";

/** Runs TimeWiseChat::verifyWebhook in real PHP; returns the event or the refusal code. */
async function phpVerify(
  hook: { body: string; headers: Record<string, unknown> },
  options: { secret?: string; now?: number; seenDir?: string } = {},
): Promise<
  | { ok: true; event: { id: string; type: string; data: Record<string, unknown> }; isNew: boolean | null }
  | { ok: false; code: string }
> {
  const input = Buffer.from(
    JSON.stringify({
      secret: options.secret ?? SECRET,
      body: hook.body,
      headers: hook.headers,
      now: options.now ?? null,
      seen: options.seenDir ?? null,
    }),
  ).toString("base64");
  const out = await php(
    `require $argv[1];
     $in = json_decode(base64_decode($argv[2]), true);
     try {
       $event = TimeWiseChat::verifyWebhook($in["secret"], $in["body"], $in["headers"], 300, $in["now"]);
       $isNew = $in["seen"] === null ? null : TimeWiseChat::rememberDelivery($event["id"], $in["seen"]);
       echo json_encode(["ok" => true, "event" => $event, "isNew" => $isNew]);
     } catch (TimeWiseChatError $e) {
       echo json_encode(["ok" => false, "code" => $e->errorCode]);
     }`,
    [KIT, input],
  );
  return JSON.parse(out);
}

const skip = await requireService("php");

describe("webhooks to the PHP app", { skip }, () => {
  let receiver: Receiver;
  let server: TestServer;
  before(async () => {
    receiver = await startReceiver();
    server = await startServer({ env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET } });
  });
  after(async () => {
    await server.close();
    await receiver.close();
  });

  const find = (type: string, match: (data: Record<string, unknown>) => boolean) =>
    receiver.received.find((h) => {
      const event = JSON.parse(h.body) as { type: string; data: Record<string, unknown> };
      return event.type === type && match(event.data);
    });

  test("message.created, presence.changed and room.updated arrive and verify with the kit's PHP code", async () => {
    const ann = await person(server, "Ann Hooks");
    const bob = await person(server, "Bob Hooks");
    const room = await group(ann, [bob], "Hooked room");
    const { message } = await ok(ann.socket, "message:send", {
      roomId: room.id,
      body: "héllo 👋",
      clientId: clientId(),
    });
    let hooks: Record<string, ReceivedWebhook | undefined> = {};
    await until(
      () => {
        hooks = {
          message: find("message.created", (d) => (d.message as { id: string }).id === message.id),
          room: find("room.updated", (d) => (d.room as { id: string }).id === room.id),
          presence: find("presence.changed", (d) => d.userId === bob.id && d.online === true),
        };
        return Object.values(hooks).every(Boolean);
      },
      5000,
      "the three webhooks",
    );
    for (const [name, hook] of Object.entries(hooks)) {
      assert.equal(hook!.headers["content-type"], "application/json", name);
      const verified = await phpVerify(hook!);
      assert.equal(verified.ok, true, `${name}: ${JSON.stringify(verified)}`);
      if (verified.ok) assert.equal(verified.event.id, hook!.headers["x-timewise-delivery"]);
    }
    const verified = await phpVerify(hooks.message!);
    assert.ok(verified.ok && (verified.event.data.message as { body: string }).body === "héllo 👋");

    // a presence.changed offline arrives when Bob's last socket closes
    bob.socket.close();
    await until(
      () => Boolean(find("presence.changed", (d) => d.userId === bob.id && d.online === false)),
      5000,
    );
  });

  test("tampered, wrongly signed, unsigned and replayed webhooks are refused by the kit", async () => {
    const ann = await person(server, "Ann Tamper");
    const room = await group(ann, [], "Tamper room");
    const { message } = await ok(ann.socket, "message:send", {
      roomId: room.id,
      body: "original",
      clientId: clientId(),
    });
    await until(
      () => Boolean(find("message.created", (d) => (d.message as { id: string }).id === message.id)),
      5000,
    );
    const hook = find("message.created", (d) => (d.message as { id: string }).id === message.id)!;
    const headers = hook.headers as Record<string, string>;
    const code = async (
      h: { body: string; headers: Record<string, unknown> },
      o: { secret?: string; now?: number } = {},
    ) => {
      const r = await phpVerify(h, o);
      return r.ok ? "accepted" : r.code;
    };
    assert.equal(await code({ ...hook, body: hook.body.replace("original", "forged") }), "AUTH_INVALID");
    assert.equal(await code(hook, { secret: `${SECRET}x` }), "AUTH_INVALID");
    assert.equal(
      await code({ body: hook.body, headers: { ...headers, "x-timewise-signature": "" } }),
      "AUTH_INVALID",
    );
    assert.equal(
      await code({
        body: hook.body,
        headers: { ...headers, "x-timewise-timestamp": String(Number(headers["x-timewise-timestamp"]) + 1) },
      }),
      "AUTH_INVALID",
    );
    // the same request captured and sent again ten minutes later
    assert.equal(await code(hook, { now: Number(headers["x-timewise-timestamp"]) + 600 }), "AUTH_EXPIRED");
    // within the window, the delivery id tells a replay (or a retry) apart
    const seenDir = mkdtempSync(join(tmpdir(), "twc-seen-"));
    try {
      const first = await phpVerify(hook, { seenDir });
      const again = await phpVerify(hook, { seenDir });
      assert.ok(first.ok && first.isNew === true);
      assert.ok(again.ok && again.isNew === false);
    } finally {
      rmSync(seenDir, { recursive: true, force: true });
    }
  });
});

describe("webhooks to a failing PHP app", { skip }, () => {
  test("a receiver answering 500 gets retries with the same delivery id until it answers 2xx", async () => {
    const started = Date.now();
    const receiver = await startReceiver((n) => (n < 2 ? 500 : 204));
    const server = await startServer({ env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET } });
    try {
      const ann = await server.addUser("Ann Retry");
      await server.token(ann.id);
      const socket = await server.connect(ann); // presence.changed (online) is the first event
      // the third try is counted as delivered once its 204 is in: nothing is left to retry then
      const counted = async () => (await fetch(`${server.url}/metrics`)).text();
      await until(
        async () => /outcome="delivered",type="presence.changed"\} 1\n/.test(await counted()),
        10_000,
        "the third try to be delivered",
      );
      const metrics = await counted();
      assert.match(metrics, /timewise_chat_webhooks_total\{outcome="retried",type="presence.changed"\} 2\n/);
      assert.doesNotMatch(metrics, /outcome="dropped"/);
      assert.equal(receiver.received.length, 3, "two failed tries and the one that worked, nothing else");
      const ids = new Set(receiver.received.map((h) => h.headers["x-timewise-delivery"]));
      assert.equal(ids.size, 1, "a retry keeps the delivery id");
      const [a, b, c] = receiver.received;
      assert.ok(b!.at - a!.at >= 900 && c!.at - b!.at >= 1800, "backoff doubles (1 s, 2 s)");
      assert.equal(new Set(receiver.received.map((h) => h.body)).size, 1, "each try sends the same event");
      for (const hook of receiver.received) {
        const verified = await phpVerify(hook);
        assert.ok(verified.ok, "each try is signed");
        assert.equal(verified.event.type, "presence.changed");
        const { userId, online, lastSeenAt } = verified.event.data;
        assert.deepEqual({ userId, online }, { userId: ann.id, online: true });
        assert.ok(Date.parse(String(lastSeenAt)) >= started, `seen since the test began: ${lastSeenAt}`);
      }
      socket.close();
    } finally {
      await server.close();
      await receiver.close();
    }
  });

  test("a receiver that never answers does not slow message sends", async () => {
    const receiver = await startReceiver(() => "hang");
    const server = await startServer({ env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET } });
    try {
      const ann = await person(server, "Ann Fast");
      const room = await group(ann, [], "Fast room");
      const started = performance.now();
      let slowest = 0;
      for (let i = 0; i < 40; i++) {
        const t = performance.now();
        await ok(ann.socket, "message:send", { roomId: room.id, body: `m${i}`, clientId: clientId() });
        slowest = Math.max(slowest, performance.now() - t);
      }
      const total = performance.now() - started;
      assert.ok(total < 2000, `40 sends took ${total.toFixed(0)} ms`);
      assert.ok(slowest < 500, `the slowest send took ${slowest.toFixed(0)} ms`);
      // the sends did not wait, yet webhooks were being attempted: as many as may be in flight at once
      const inFlight = DEFAULT_WEBHOOK_OPTIONS.concurrency;
      await until(() => receiver.received.length === inFlight, 5000, `${inFlight} deliveries in flight`);
    } finally {
      await server.close();
      await receiver.close();
    }
  });
});

describe("the webhook sender's budget", () => {
  /** A logger whose lines the test can read. */
  function capture() {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger("info", { write: (line: string) => void lines.push(JSON.parse(line)) });
    return { logger, lines };
  }

  test("an event still failing after the retry budget is dropped, and the drop is logged with a count", async () => {
    const receiver = await startReceiver(() => 503);
    const { logger, lines } = capture();
    const sender = new WebhookSender({ url: receiver.url, secret: SECRET }, logger, {
      maxAttempts: 3,
      baseDelayMs: 20,
    });
    try {
      sender.send("message.created", { n: 1 });
      sender.send("message.created", { n: 2 });
      await until(() => sender.droppedCount === 2, 5000, "both events dropped");
      assert.equal(receiver.received.length, 6, "three tries each, no more");
      const logged = lines.filter((l) => l.msg === "webhook events dropped");
      // the first drop is logged at once; the second waits to be summed into the next line
      assert.equal(logged.length, 1, JSON.stringify(logged));
      assert.equal(logged[0]!.reason, "retry budget spent");
      assert.equal(logged[0]!.dropped, 1);
      assert.equal(logged[0]!.droppedTotal, 1);
      assert.equal(JSON.stringify(lines).includes(SECRET), false, "the secret is never logged");
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  test("a full queue drops new events at once instead of growing", async () => {
    const receiver = await startReceiver(() => "hang");
    const { logger, lines } = capture();
    const sender = new WebhookSender({ url: receiver.url, secret: SECRET }, logger, {
      maxQueue: 3,
      concurrency: 1,
    });
    try {
      for (let i = 0; i < 10; i++) sender.send("presence.changed", { i });
      assert.equal(sender.droppedCount, 7);
      assert.equal(lines.filter((l) => l.msg === "webhook events dropped")[0]?.reason, "queue full");
    } finally {
      await sender.close();
      await receiver.close();
    }
  });

  test("a full queue keeps message events: presence churn is pushed out first, and drops are counted by type", async () => {
    // a slow PHP app: each request is answered only when the test releases it
    const receiver = await startReceiver(() => "hold");
    const { logger } = capture();
    const registry = new Registry();
    const sender = new WebhookSender(
      { url: receiver.url, secret: SECRET },
      logger,
      { maxQueue: 5, concurrency: 1 },
      registry,
    );
    const message = (n: number) => sender.send("message.created", { n });
    const presence = (n: number) => sender.send("presence.changed", { n });
    try {
      message(1); // in flight
      for (let n = 1; n <= 4; n++) presence(n); // the queue is full
      message(2);
      message(3);
      presence(5);
      message(4);
      message(5);
      presence(6); // nothing less important is left: the new presence event goes
      assert.deepEqual(sender.droppedByType, {
        "message.created": 0,
        "presence.changed": 6,
        "room.updated": 0,
        notification: 0,
      });

      await until(() => receiver.received.length === 1, 5000, "the first delivery to arrive");
      receiver.reply = () => 204;
      receiver.release();
      await until(() => receiver.received.length === 5, 5000, "every message event to arrive");
      const delivered = receiver.received.map(
        (r) => JSON.parse(r.body) as { type: string; data: { n: number } },
      );
      assert.deepEqual(
        delivered.map((e) => `${e.type} ${e.data.n}`),
        [1, 2, 3, 4, 5].map((n) => `message.created ${n}`),
        "every message event, in order",
      );

      const metrics = await registry.getSingleMetricAsString("timewise_chat_webhooks_total");
      assert.match(metrics, /timewise_chat_webhooks_total\{outcome="dropped",type="presence.changed"\} 6/);
      assert.doesNotMatch(metrics, /outcome="dropped",type="message.created"/);
      await until(
        async () =>
          /outcome="delivered",type="message.created"\} 5/.test(
            await registry.getSingleMetricAsString("timewise_chat_webhooks_total"),
          ),
        5000,
        "five deliveries counted",
      );
    } finally {
      await sender.close();
      await receiver.close();
    }
  });
});
