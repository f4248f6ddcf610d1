/**
 * The `notification` webhook (PROTOCOL v2.3) received by the PHP kit under real PHP: the real
 * server's digest job (time moved by hand) posts it to a page served by `php -S`, which checks
 * the signature with `verifyWebhook()` and reads `userId` and the messages with
 * `notificationOf()`; a forged one is refused. The kit's badge call counts the mention too.
 * Runs on SQLite and, in `npm run test:postgres`, on PostgreSQL.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DIGEST_EVERY_MS } from "../../src/chat/notifications/digests.js";
import {
  ManualTimers,
  ok,
  requireService,
  startServer,
  TEST_SECRET,
  TestClock,
  type TestServer,
  tempDir,
  until,
} from "../support/harness.js";
import { php } from "../support/php.js";
import { person } from "../support/rooms.js";

const KIT = join(import.meta.dirname, "../../integrations/php/TimeWiseChat.php");
const KEY = "service-key-for-the-php-notification-test-0123";
const SECRET = "webhook-secret-for-the-php-kit-notification-test";

const skip = await requireService("php");

/** The PHP app's webhook page: verifies, keeps each notification as a JSON file, answers 204. */
const RECEIVER = `<?php
declare(strict_types=1);
require getenv('KIT');
try {
    $event = TimeWiseChat::verifyWebhook(getenv('WEBHOOK_SECRET'), (string) file_get_contents('php://input'), TimeWiseChat::requestHeaders());
    $missed = TimeWiseChat::notificationOf($event);
} catch (TimeWiseChatError $e) {
    http_response_code($e->status ?: 400);
    exit;
}
if ($missed !== null) {
    file_put_contents(getenv('OUT') . '/' . hash('sha256', $event['id']) . '.json', json_encode($missed));
}
http_response_code(204);
`;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe("the notification webhook, received by the PHP kit", { skip }, () => {
  const scratch = tempDir("twc-php-notify-");
  const docroot = join(scratch.dir, "www");
  const out = join(scratch.dir, "out");
  const clock = new TestClock();
  const timers = new ManualTimers();
  let phpServer: ChildProcess;
  let hookUrl = "";
  let server: TestServer;

  before(async () => {
    for (const dir of [docroot, out]) mkdirSync(dir, { recursive: true });
    writeFileSync(join(docroot, "notify.php"), RECEIVER);
    const port = await freePort();
    phpServer = spawn("php", ["-S", `127.0.0.1:${port}`, "-t", docroot], {
      env: { PATH: process.env.PATH ?? "", KIT, WEBHOOK_SECRET: SECRET, OUT: out },
      stdio: "ignore",
    });
    hookUrl = `http://127.0.0.1:${port}/notify.php`;
    await until(
      () =>
        fetch(hookUrl, { method: "HEAD" }).then(
          () => true,
          () => false,
        ),
      10_000,
      "php -S to start",
    );
    server = await startServer({
      env: { WEBHOOK_URL: hookUrl, WEBHOOK_SECRET: SECRET, SERVICE_API_KEY: KEY },
      app: { now: clock.now, jobTimers: timers },
    });
  });
  after(async () => {
    await server?.close();
    phpServer?.kill();
    scratch.remove();
  });

  const received = () =>
    readdirSync(out).map(
      (f) =>
        JSON.parse(readFileSync(join(out, f), "utf8")) as {
          userId: string;
          messages: { id: string; roomId: string; senderId: string; body: string; mentioned: boolean }[];
        },
    );

  test("an unread message past the delay reaches the PHP app once, with the user and the messages", async () => {
    const ann = await person(server, "Ann Hook");
    const bob = await server.addUser("Bob Away");
    const { room } = await ok(ann.socket, "room:create", { name: "Hooked", memberIds: [bob.id] });
    const plain = await ok(ann.socket, "message:send", {
      roomId: room.id,
      body: "the rota is out",
      clientId: randomUUID(),
    });
    const mention = await ok(ann.socket, "message:send", {
      roomId: room.id,
      body: `@${bob.login} can you swap on Friday?`,
      clientId: randomUUID(),
    });
    // the kit's badge counts the mention per room
    const badge = JSON.parse(
      await php(
        "require $argv[1]; $chat = new TimeWiseChat($argv[2], $argv[3], $argv[4]); echo json_encode($chat->unread($argv[5]));",
        [KIT, server.url, TEST_SECRET, KEY, bob.id],
      ),
    ) as { total: number; mentions: number; rooms: unknown[] };
    assert.deepEqual(badge, {
      userId: bob.id,
      total: 2,
      mentions: 1,
      rooms: [{ roomId: room.id, unread: 2, mentions: 1 }],
    });

    for (let i = 0; i < 9; i++) {
      clock.advance(DIGEST_EVERY_MS);
      await timers.advance(DIGEST_EVERY_MS);
    }
    assert.equal(received().length, 0, "nothing before the 10 minutes");
    for (let i = 0; i < 2; i++) {
      clock.advance(DIGEST_EVERY_MS);
      await timers.advance(DIGEST_EVERY_MS);
    }
    await until(() => received().length > 0, 10_000, "the notification at the PHP page");
    assert.deepEqual(received(), [
      {
        userId: bob.id,
        messages: [
          { ...pick(plain.message), mentioned: false },
          { ...pick(mention.message), mentioned: true },
        ],
      },
    ]);
    for (let i = 0; i < 20; i++) {
      clock.advance(DIGEST_EVERY_MS);
      await timers.advance(DIGEST_EVERY_MS);
    }
    const sent = await server.app.metrics.registry.getSingleMetricAsString("timewise_chat_webhooks_total");
    assert.match(sent, /timewise_chat_webhooks_total\{outcome="delivered",type="notification"\} 1$/m);
    assert.doesNotMatch(
      sent,
      /outcome="(retried|dropped)",type="notification"/,
      "nothing retried or dropped",
    );
    assert.equal(received().length, 1, "told once");
  });

  test("a forged or stale notification is refused by the kit, and nothing reaches the app", async () => {
    const body = JSON.stringify({
      id: randomUUID(),
      type: "notification",
      createdAt: new Date().toISOString(),
      data: { userId: "1", messages: [] },
    });
    const post = (timestamp: number, secret: string) =>
      fetch(hookUrl, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-timewise-timestamp": String(timestamp),
          "x-timewise-signature": `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`,
        },
        body,
      });
    const now = Math.floor(Date.now() / 1000);
    const before = received().length;
    assert.equal((await post(now, "not-the-secret-of-this-chat-server-at-all")).status, 401);
    assert.equal((await post(now - 3600, SECRET)).status, 401);
    assert.equal(received().length, before);
    // the same body, rightly signed, is taken: the refusals above were the signature's doing
    assert.equal((await post(now, SECRET)).status, 204);
    assert.equal(received().length, before + 1);
  });
});

function pick(m: { id: string; roomId: string; senderId: string; body: string; createdAt: string }) {
  return { id: m.id, roomId: m.roomId, senderId: m.senderId, body: m.body, createdAt: m.createdAt };
}
