/**
 * Web Push delivery against the loopback push service of test/support/push-service.ts: a real HTTPS
 * server receives the real `web-push` request; the test holds the browser's side, decrypts the
 * aes128gcm body per RFC 8291 and checks the VAPID JWT.
 */
import assert from "node:assert/strict";
import { createPublicKey, randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { decodeProtectedHeader, jwtVerify } from "jose";
import { PushSender, type PushTarget } from "../../src/push/sender.js";
import { VAPID_SECRET_NAME, vapidKeys, vapidKeysFrom } from "../../src/push/vapid.js";
import { decryptPush, type PushService, startPushService } from "../support/push-service.js";

let service: PushService;

before(async () => {
  service = await startPushService();
});
after(() => service.close());

/** The browser's side of a subscription, and the target the sender is given. */
function browser(name: string) {
  const b = service.browser(name);
  const target: PushTarget = { endpoint: b.subscription.endpoint, keys: b.subscription.keys };
  return { ecdh: b.ecdh, auth: b.auth, target };
}

/** Resolves when the next request after those so far arrives. */
const nextRequest = () => service.arrived(service.received.length + 1);

const payload = { roomId: "7", messageId: "31", title: "Ann in Ops", body: "hello ☕", url: "/#room=7" };

test("a push arrives encrypted for the subscription and signed with the VAPID key", async () => {
  service.received.length = 0;
  const vapid = await vapidKeys(null, async (name) => {
    assert.equal(name, VAPID_SECRET_NAME);
    return randomBytes(32).toString("base64url");
  });
  const gone: string[] = [];
  const sender = new PushSender({
    vapid,
    subject: "mailto:ops@example.com",
    gone: async (endpoint) => void gone.push(endpoint),
    problem: (message) => assert.fail(message),
    agent: service.agent,
  });
  const b = browser("a");
  sender.deliver([b.target], payload);
  await sender.settled();
  assert.equal(service.received.length, 1);
  const { headers, body } = service.received[0]!;
  assert.equal(headers["content-encoding"], "aes128gcm");
  assert.equal(headers.ttl, "86400");
  assert.deepEqual(JSON.parse(decryptPush(body, b.ecdh, b.auth)), payload);
  const authorization = String(headers.authorization);
  const match = /^vapid t=([^,]+), k=(.+)$/.exec(authorization);
  assert.ok(match, authorization);
  assert.equal(match[2], vapid.publicKey);
  const raw = Buffer.from(vapid.publicKey, "base64url");
  const key = createPublicKey({
    key: {
      kty: "EC",
      crv: "P-256",
      x: raw.subarray(1, 33).toString("base64url"),
      y: raw.subarray(33).toString("base64url"),
    },
    format: "jwk",
  });
  assert.equal(decodeProtectedHeader(match[1]!).alg, "ES256");
  const { payload: claims } = await jwtVerify(match[1]!, key, { audience: service.origin });
  assert.equal(claims.sub, "mailto:ops@example.com");
  assert.deepEqual(gone, []);
});

test("a subscription the push service answers 410 or 404 for is reported gone, without retries", async () => {
  service.received.length = 0;
  service.answers.push(410, 404);
  const gone: string[] = [];
  const sender = new PushSender({
    vapid: vapidKeysFrom(randomBytes(32).toString("base64url")),
    subject: "mailto:ops@example.com",
    gone: async (endpoint) => void gone.push(endpoint),
    problem: (message) => assert.fail(message),
    agent: service.agent,
  });
  const a = browser("gone-a");
  const b = browser("gone-b");
  sender.deliver([a.target], payload);
  await sender.settled();
  sender.deliver([b.target], payload);
  await sender.settled();
  assert.equal(service.received.length, 2);
  assert.deepEqual(gone, [a.target.endpoint, b.target.endpoint]);
});

test("other failures are retried after each wait, then given up with one problem", async () => {
  service.received.length = 0;
  service.answers.push(500, 503);
  const waits: number[] = [];
  const due: (() => void)[] = [];
  const problems: string[] = [];
  const sender = new PushSender({
    vapid: vapidKeysFrom(randomBytes(32).toString("base64url")),
    subject: "mailto:ops@example.com",
    gone: async () => assert.fail("not gone"),
    problem: (message) => void problems.push(message),
    agent: service.agent,
    retryDelaysMs: [100, 200],
    timers: {
      setTimeout: (run, ms) => {
        waits.push(ms);
        due.push(run);
      },
    },
  });
  const b = browser("flaky");
  let arrived = nextRequest();
  sender.deliver([b.target], payload);
  await arrived;
  while (waits.length < 1) await new Promise((resolve) => setImmediate(resolve));
  arrived = nextRequest();
  due.shift()!();
  await arrived;
  while (waits.length < 2) await new Promise((resolve) => setImmediate(resolve));
  due.shift()!();
  await sender.settled();
  assert.deepEqual(waits, [100, 200]);
  assert.equal(service.received.length, 3);
  assert.deepEqual(problems, []);

  // every try fails: the last failure is logged once and nothing more is sent
  service.received.length = 0;
  service.answers.push(500, 500, 500);
  waits.length = 0;
  sender.deliver([b.target], payload);
  for (let i = 0; i < 2; i++) {
    while (waits.length < i + 1) await new Promise((resolve) => setImmediate(resolve));
    due.shift()!();
  }
  await sender.settled();
  assert.equal(service.received.length, 3);
  assert.deepEqual(problems, ["push failed 3 times (last: 500)"]);
});

test("the text is cut to an excerpt so the payload stays small", async () => {
  service.received.length = 0;
  const sender = new PushSender({
    vapid: vapidKeysFrom(randomBytes(32).toString("base64url")),
    subject: "https://chat.example.com",
    gone: async () => undefined,
    problem: (message) => assert.fail(message),
    agent: service.agent,
  });
  const b = browser("long");
  sender.deliver([b.target], { ...payload, body: "x".repeat(5000) });
  await sender.settled();
  const text = (JSON.parse(decryptPush(service.received[0]!.body, b.ecdh, b.auth)) as { body: string }).body;
  assert.equal(text, `${"x".repeat(199)}…`);
});

test("no more than maxInFlight requests are open at once; the rest wait their turn", async () => {
  service.received.length = 0;
  service.holding = true;
  const outcomes: string[] = [];
  const sender = new PushSender({
    vapid: vapidKeysFrom(randomBytes(32).toString("base64url")),
    subject: "mailto:ops@example.com",
    gone: async () => undefined,
    problem: (message) => assert.fail(message),
    agent: service.agent,
    maxInFlight: 2,
    outcome: (o) => void outcomes.push(o),
  });
  try {
    const targets = [1, 2, 3, 4, 5].map((n) => browser(`many-${n}`).target);
    sender.deliver(targets, payload);
    for (let answered = 0; answered < 5; answered++) {
      await service.arrived(Math.min(5, answered + 2));
      // two open and waiting for an answer, never a third, until one is answered
      assert.equal(service.held.length, Math.min(2, 5 - answered));
      assert.equal(service.received.length, Math.min(5, answered + 2));
      service.held.shift()!();
    }
    await sender.settled();
    assert.equal(service.received.length, 5);
    assert.deepEqual(outcomes, ["sent", "sent", "sent", "sent", "sent"]);
  } finally {
    service.holding = false;
    for (const answer of service.held.splice(0)) answer();
  }
});
