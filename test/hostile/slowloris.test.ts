/**
 * Slow HTTP headers (slowloris): connections that trickle a request line and headers one byte a
 * second are closed once the server's 10 s headers timeout passes, and while they hang on, a
 * normal client is still served quickly.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { request, startServer, type TestServer } from "../support/harness.js";
import { person } from "../support/rooms.js";

/** src/app.ts: httpServer.headersTimeout. */
const HEADERS_TIMEOUT_MS = 10_000;
const SLOW_CONNECTIONS = 50;

interface Slow {
  socket: Socket;
  openedAt: number;
  closedAt: number | null;
  received: string;
}

/** Opens a connection that sends a request one byte a second and never finishes its headers. */
function slowClient(port: number): Promise<Slow> {
  const request = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".padEnd(200, "z");
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const slow: Slow = { socket, openedAt: Date.now(), closedAt: null, received: "" };
    let sent = 0;
    const drip = setInterval(() => {
      if (!socket.destroyed && sent < request.length) socket.write(request[sent++]!);
    }, 1000);
    socket.on("data", (chunk) => {
      slow.received += chunk.toString();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearInterval(drip);
      slow.closedAt = Date.now();
    });
    socket.once("connect", () => {
      socket.write(request[sent++]!);
      resolve(slow);
    });
    socket.once("error", reject);
  });
}

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.close());

test("fifty connections trickling headers are closed after the headers timeout while /health and sockets stay fast", {
  timeout: 40_000,
}, async () => {
  const bystander = await person(server, "Slow Bystander");
  const slow = await Promise.all(Array.from({ length: SLOW_CONNECTIONS }, () => slowClient(server.port)));
  const started = Date.now();

  // during the attack, normal requests are answered quickly, again and again
  while (slow.some((s) => s.closedAt === null)) {
    const t0 = Date.now();
    const res = await fetch(`${server.url}/health`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
    assert.equal((await request(bystander.socket, "room:list", {})).ok, true);
    assert.ok(Date.now() - t0 < 2000, `a normal request took ${Date.now() - t0} ms during the attack`);
    assert.ok(
      Date.now() - started < HEADERS_TIMEOUT_MS + 8000,
      "slow connections were still open long after the headers timeout",
    );
    await new Promise((r) => setTimeout(r, 250));
  }

  for (const s of slow) {
    const held = (s.closedAt ?? 0) - s.openedAt;
    // closed by the server's timeout, not by anything sooner (they were kept alive by the drip)
    assert.ok(held >= HEADERS_TIMEOUT_MS - 500, `a slow connection was closed after only ${held} ms`);
    assert.ok(s.received === "" || s.received.startsWith("HTTP/1.1 408"), `unexpected answer: ${s.received}`);
  }
  const res = await fetch(`${server.url}/health`);
  assert.equal(res.status, 200);
  await res.body?.cancel();
  bystander.socket.close();
});
