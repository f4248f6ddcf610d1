/**
 * Web Push delivery against a loopback push service: a real HTTPS server in the test receives the
 * real `web-push` request. The test holds the browser's side (an ECDH P-256 key pair and an auth
 * secret), decrypts the aes128gcm body per RFC 8291 with node:crypto, and checks the VAPID JWT.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createDecipheriv, createECDH, createHmac, createPublicKey, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { Agent, createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { decodeProtectedHeader, jwtVerify } from "jose";
import { PushSender, type PushTarget } from "../../src/push/sender.js";
import { VAPID_SECRET_NAME, vapidKeys, vapidKeysFrom } from "../../src/push/vapid.js";

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const dir = mkdtempSync(join(tmpdir(), "push-"));
execFileSync(
  "openssl",
  [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "-keyout",
    join(dir, "key.pem"),
    "-out",
    join(dir, "cert.pem"),
  ],
  { stdio: "ignore" },
);
const cert = readFileSync(join(dir, "cert.pem"));
const agent = new Agent({ ca: cert });

/** status codes the push service answers with, in turn (then 201) */
let answers: number[] = [];
const received: Received[] = [];
let waiting: (() => void) | null = null;
/** while true, requests wait in `held` for the test to answer them */
let holding = false;
const held: (() => void)[] = [];
let server: Server;
let origin = "";

before(async () => {
  server = createServer({ key: readFileSync(join(dir, "key.pem")), cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      const answer = () => res.writeHead(answers.shift() ?? 201).end();
      if (holding) held.push(answer);
      else answer();
      waiting?.();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  agent.destroy();
  server.close();
});

/** The browser's side of a subscription. */
function browser(path: string) {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const auth = randomBytes(16);
  const target: PushTarget = {
    endpoint: `${origin}/push/${path}`,
    keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: auth.toString("base64url") },
  };
  return { ecdh, auth, target };
}

const hmac = (key: Buffer, data: Buffer) => createHmac("sha256", key).update(data).digest();

/** RFC 8291 §3.4 and RFC 8188: what the browser does with the body. */
function decrypt(body: Buffer, ecdh: ReturnType<typeof createECDH>, auth: Buffer): string {
  const salt = body.subarray(0, 16);
  const idLength = body[20]!;
  const senderKey = body.subarray(21, 21 + idLength);
  const cipher = body.subarray(21 + idLength);
  const shared = ecdh.computeSecret(senderKey);
  const keyInfo = Buffer.concat([
    Buffer.from("WebPush: info\0"),
    ecdh.getPublicKey(),
    senderKey,
    Buffer.from([1]),
  ]);
  const ikm = hmac(hmac(auth, shared), keyInfo);
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from("Content-Encoding: aes128gcm\0\x01", "binary")).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from("Content-Encoding: nonce\0\x01", "binary")).subarray(0, 12);
  const decipher = createDecipheriv("aes-128-gcm", cek, nonce);
  decipher.setAuthTag(cipher.subarray(cipher.length - 16));
  const plain = Buffer.concat([decipher.update(cipher.subarray(0, cipher.length - 16)), decipher.final()]);
  // the last record ends with the delimiter 2, then padding zeros
  const end = plain.lastIndexOf(2);
  return plain.subarray(0, end).toString("utf8");
}

function nextRequest(): Promise<void> {
  return new Promise((resolve) => {
    waiting = () => {
      waiting = null;
      resolve();
    };
  });
}

const payload = { roomId: "7", messageId: "31", title: "Ann in Ops", body: "hello ☕", url: "/#room=7" };

test("a push arrives encrypted for the subscription and signed with the VAPID key", async () => {
  received.length = 0;
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
    agent,
  });
  const b = browser("a");
  sender.deliver([b.target], payload);
  await sender.settled();
  assert.equal(received.length, 1);
  const { headers, body } = received[0]!;
  assert.equal(headers["content-encoding"], "aes128gcm");
  assert.equal(headers.ttl, "86400");
  assert.deepEqual(JSON.parse(decrypt(body, b.ecdh, b.auth)), payload);
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
  const { payload: claims } = await jwtVerify(match[1]!, key, { audience: origin });
  assert.equal(claims.sub, "mailto:ops@example.com");
  assert.deepEqual(gone, []);
});

test("a subscription the push service answers 410 or 404 for is reported gone, without retries", async () => {
  received.length = 0;
  answers = [410, 404];
  const gone: string[] = [];
  const sender = new PushSender({
    vapid: vapidKeysFrom(randomBytes(32).toString("base64url")),
    subject: "mailto:ops@example.com",
    gone: async (endpoint) => void gone.push(endpoint),
    problem: (message) => assert.fail(message),
    agent,
  });
  const a = browser("gone-a");
  const b = browser("gone-b");
  sender.deliver([a.target], payload);
  await sender.settled();
  sender.deliver([b.target], payload);
  await sender.settled();
  assert.equal(received.length, 2);
  assert.deepEqual(gone, [a.target.endpoint, b.target.endpoint]);
});

test("other failures are retried after each wait, then given up with one problem", async () => {
  received.length = 0;
  answers = [500, 503];
  const waits: number[] = [];
  const due: (() => void)[] = [];
  const problems: string[] = [];
  const sender = new PushSender({
    vapid: vapidKeysFrom(randomBytes(32).toString("base64url")),
    subject: "mailto:ops@example.com",
    gone: async () => assert.fail("not gone"),
    problem: (message) => void problems.push(message),
    agent,
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
  assert.equal(received.length, 3);
  assert.deepEqual(problems, []);

  // every try fails: the last failure is logged once and nothing more is sent
  received.length = 0;
  answers = [500, 500, 500];
  waits.length = 0;
  sender.deliver([b.target], payload);
  for (let i = 0; i < 2; i++) {
    while (waits.length < i + 1) await new Promise((resolve) => setImmediate(resolve));
    due.shift()!();
  }
  await sender.settled();
  assert.equal(received.length, 3);
  assert.deepEqual(problems, ["push failed 3 times (last: 500)"]);
});

test("the text is cut to an excerpt so the payload stays small", async () => {
  received.length = 0;
  const sender = new PushSender({
    vapid: vapidKeysFrom(randomBytes(32).toString("base64url")),
    subject: "https://chat.example.com",
    gone: async () => undefined,
    problem: (message) => assert.fail(message),
    agent,
  });
  const b = browser("long");
  sender.deliver([b.target], { ...payload, body: "x".repeat(5000) });
  await sender.settled();
  const text = (JSON.parse(decrypt(received[0]!.body, b.ecdh, b.auth)) as { body: string }).body;
  assert.equal(text, `${"x".repeat(199)}…`);
});

test("no more than maxInFlight requests are open at once; the rest wait their turn", async () => {
  received.length = 0;
  holding = true;
  const outcomes: string[] = [];
  const sender = new PushSender({
    vapid: vapidKeysFrom(randomBytes(32).toString("base64url")),
    subject: "mailto:ops@example.com",
    gone: async () => undefined,
    problem: (message) => assert.fail(message),
    agent,
    maxInFlight: 2,
    outcome: (o) => void outcomes.push(o),
  });
  try {
    const targets = [1, 2, 3, 4, 5].map((n) => browser(`many-${n}`).target);
    const arrivedCount = async (n: number) => {
      while (received.length < n) await nextRequest();
    };
    sender.deliver(targets, payload);
    for (let answered = 0; answered < 5; answered++) {
      await arrivedCount(Math.min(5, answered + 2));
      // two open and waiting for an answer, never a third, until one is answered
      assert.equal(held.length, Math.min(2, 5 - answered));
      assert.equal(received.length, Math.min(5, answered + 2));
      held.shift()!();
    }
    await sender.settled();
    assert.equal(received.length, 5);
    assert.deepEqual(outcomes, ["sent", "sent", "sent", "sent", "sent"]);
  } finally {
    holding = false;
    for (const answer of held.splice(0)) answer();
  }
});
