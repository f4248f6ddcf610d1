/**
 * A loopback Web Push service for tests: a real HTTPS server (a throwaway certificate that only
 * `agent` trusts) that takes the real `web-push` requests, and the browser's side of each
 * subscription (an ECDH P-256 key pair and an auth secret) to decrypt their aes128gcm bodies per
 * RFC 8291 with node:crypto.
 */
import { execFileSync } from "node:child_process";
import { createDecipheriv, createECDH, createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** One request the push service received. */
export interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** The browser's side of a subscription, and its `PushSubscription.toJSON()`. */
export interface TestBrowser {
  ecdh: ReturnType<typeof createECDH>;
  auth: Buffer;
  subscription: { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } };
  /** the decrypted bodies of the pushes that reached this browser, in order */
  pushes(): unknown[];
}

export interface PushService {
  origin: string;
  /** trusts the service's certificate: give it to the chat's push sender */
  agent: Agent;
  received: Received[];
  /** status codes to answer with, in turn (then 201) */
  answers: number[];
  /** while true, requests wait unanswered in `held` until the test calls them */
  holding: boolean;
  /** the answers of held requests, oldest first: call one to answer its request */
  held: (() => void)[];
  browser(name: string): TestBrowser;
  /** Resolves once `n` requests in all have arrived. */
  arrived(n: number): Promise<void>;
  close(): Promise<void>;
}

const hmac = (key: Buffer, data: Buffer) => createHmac("sha256", key).update(data).digest();

/** RFC 8291 §3.4 and RFC 8188: what the browser does with the body. */
export function decryptPush(body: Buffer, ecdh: ReturnType<typeof createECDH>, auth: Buffer): string {
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

export async function startPushService(): Promise<PushService> {
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
  const key = readFileSync(join(dir, "key.pem"));
  rmSync(dir, { recursive: true, force: true });
  const agent = new Agent({ ca: cert });
  const received: Received[] = [];
  const answers: number[] = [];
  const held: (() => void)[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const server = createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) });
      const answer = () => res.writeHead(answers.shift() ?? 201).end();
      if (service.holding) held.push(answer);
      else answer();
      for (const w of waiters.filter((w) => received.length >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const service: PushService = {
    origin,
    agent,
    received,
    answers,
    holding: false,
    held,
    browser(name) {
      const ecdh = createECDH("prime256v1");
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const path = `/push/${encodeURIComponent(name)}`;
      return {
        ecdh,
        auth,
        subscription: {
          endpoint: `${origin}${path}`,
          expirationTime: null,
          keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: auth.toString("base64url") },
        },
        pushes: () =>
          received
            .filter((r) => r.path === path)
            .map((r) => JSON.parse(decryptPush(r.body, ecdh, auth)) as unknown),
      };
    },
    arrived: (n) =>
      received.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })),
    async close() {
      // a held request left unanswered would keep server.close() waiting
      service.holding = false;
      for (const answer of held.splice(0)) answer();
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return service;
}
