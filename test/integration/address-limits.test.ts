/**
 * Caps per client address on traffic that has not proved who it is: refused handshakes, session
 * cookies that name no session, and `/ready`. Small caps here; the defaults are in
 * src/limits/address-limits.ts.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { io as connectClient } from "socket.io-client";
import { PAGE_ORIGIN } from "../support/cookies.js";
import { startServer, type TestServer } from "../support/harness.js";

interface Refusal {
  message: string;
  code: string | undefined;
  retryAfterMs: number | undefined;
}

/** Opens a socket with `auth` and `headers` and resolves with the refusal (or "accepted"). */
function attempt(
  server: TestServer,
  auth: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Refusal | "accepted"> {
  const socket = connectClient(server.url, {
    auth,
    extraHeaders: headers,
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
  });
  return new Promise((resolve) => {
    socket.once("session", () => {
      socket.close();
      resolve("accepted");
    });
    socket.once("connect_error", (err: Error & { data?: { code?: string; retryAfterMs?: number } }) => {
      socket.close();
      resolve({ message: err.message, code: err.data?.code, retryAfterMs: err.data?.retryAfterMs });
    });
  });
}

const cap = (points: number) => ({ points, seconds: 60 });

/** A clock that stands still until the test moves it, so a wait is known to the millisecond. */
function stoppedClock(): { now: () => number; advance(ms: number): void } {
  let at = Date.now();
  return {
    now: () => at,
    advance: (ms) => {
      at += ms;
    },
  };
}

describe("refused handshakes per address", () => {
  test("after the cap an address is refused RATE_LIMITED with retryAfterMs, even with a good token; others are not", async () => {
    const clock = stoppedClock();
    const server = await startServer({
      env: { TRUST_PROXY: "127.0.0.1" },
      app: { now: clock.now, addressLimits: { refusedHandshakes: cap(3) } },
    });
    try {
      const ann = await server.addUser("Ann Address");
      const good = await server.token(ann.id);
      const from = (ip: string) => ({ "x-forwarded-for": ip });
      for (let i = 0; i < 3; i++) {
        const refusal = await attempt(server, { token: "not-a-token" }, from("203.0.113.1"));
        assert.notEqual(refusal, "accepted");
        assert.equal((refusal as Refusal).code, "AUTH_INVALID");
      }
      const limited = await attempt(server, { token: good }, from("203.0.113.1"));
      assert.notEqual(limited, "accepted");
      assert.equal((limited as Refusal).message, "rate_limited");
      assert.equal((limited as Refusal).code, "RATE_LIMITED");
      assert.equal((limited as Refusal).retryAfterMs, 60_000, "says how long to wait: the whole window");
      assert.equal(await attempt(server, { token: good }, from("203.0.113.2")), "accepted");
      clock.advance(59_999);
      assert.equal(
        ((await attempt(server, { token: good }, from("203.0.113.1"))) as Refusal).retryAfterMs,
        1,
      );
      clock.advance(1);
      assert.equal(
        await attempt(server, { token: good }, from("203.0.113.1")),
        "accepted",
        "after the window",
      );
    } finally {
      await server.close();
    }
  });

  test("accepted handshakes are not counted", async () => {
    const server = await startServer({ app: { addressLimits: { refusedHandshakes: cap(2) } } });
    try {
      const ann = await server.addUser("Ann Often");
      const good = await server.token(ann.id);
      for (let i = 0; i < 5; i++)
        assert.equal(await attempt(server, { token: good }), "accepted", `try ${i}`);
    } finally {
      await server.close();
    }
  });
});

describe("session cookies that name no session, per address", () => {
  test("after the cap the address's cookies are not looked up: RATE_LIMITED", async () => {
    const sessions = mkdtempSync(join(tmpdir(), "twc-sessions-"));
    const clock = stoppedClock();
    const server = await startServer({
      env: { PHP_SESSION_STORE: "files", PHP_SESSION_PATH: sessions, CORS_ORIGINS: PAGE_ORIGIN },
      app: { now: clock.now, addressLimits: { unknownSessions: cap(2) } },
    });
    try {
      const guess = () => ({
        cookie: `PHPSESSID=${randomBytes(16).toString("hex")}`,
        origin: PAGE_ORIGIN,
      });
      for (let i = 0; i < 2; i++) {
        assert.equal(((await attempt(server, {}, guess())) as Refusal).code, "AUTH_INVALID");
      }
      const limited = (await attempt(server, {}, guess())) as Refusal;
      assert.equal(limited.code, "RATE_LIMITED");
      assert.equal(limited.retryAfterMs, 60_000);
      clock.advance(60_000);
      assert.equal(((await attempt(server, {}, guess())) as Refusal).code, "AUTH_INVALID", "looked up again");
    } finally {
      await server.close();
      rmSync(sessions, { recursive: true, force: true });
    }
  });
});

describe("GET /ready per address", () => {
  test("past the cap it answers 429 RATE_LIMITED with Retry-After", async () => {
    const clock = stoppedClock();
    const server = await startServer({ app: { now: clock.now, addressLimits: { ready: cap(2) } } });
    try {
      for (let i = 0; i < 2; i++) assert.equal((await fetch(`${server.url}/ready`)).status, 200);
      const limited = await fetch(`${server.url}/ready`);
      assert.equal(limited.status, 429);
      const body = (await limited.json()) as { error: { code: string; retryAfterMs: number } };
      assert.equal(body.error.code, "RATE_LIMITED");
      assert.equal(body.error.retryAfterMs, 60_000);
      assert.equal(limited.headers.get("retry-after"), "60");
      assert.equal((await fetch(`${server.url}/health`)).status, 200, "/health is not capped");
    } finally {
      await server.close();
    }
  });
});
