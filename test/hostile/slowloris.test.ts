/**
 * Slow HTTP headers (slowloris): connections that trickle a request line and headers byte by byte
 * are closed once the server's headers timeout passes, and while they hang on, a normal client is
 * still served quickly. Node runs that timeout on its own timers, which a test cannot move, so the
 * attack runs against a server whose timeout is 1 s instead of 10 s (`httpTimeouts`), and one more
 * test checks that the real server uses the 10 s.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { HTTP_TIMEOUTS } from "../../src/app.js";
import { request, startServer, type TestServer, until } from "../support/harness.js";
import { person } from "../support/rooms.js";

/** the test server's headers timeout, and how often Node checks it */
const HEADERS_TIMEOUT_MS = 1_000;
const CHECK_EVERY_MS = 100;
/** how often a slow client sends its next byte: well inside the timeout, so only the timeout ends it */
const DRIP_MS = 100;
const SLOW_CONNECTIONS = 50;

interface Slow {
  socket: Socket;
  openedAt: number;
  closedAt: number | null;
  received: string;
}

/** Opens a connection that sends a request one byte every DRIP_MS and never finishes its headers. */
function slowClient(port: number): Promise<Slow> {
  const request = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".padEnd(200, "z");
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const slow: Slow = { socket, openedAt: Date.now(), closedAt: null, received: "" };
    let sent = 0;
    const drip = setInterval(() => {
      if (!socket.destroyed && sent < request.length) socket.write(request[sent++]!);
    }, DRIP_MS);
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
  server = await startServer({
    app: { httpTimeouts: { headersMs: HEADERS_TIMEOUT_MS, checkEveryMs: CHECK_EVERY_MS } },
  });
});
after(() => server.close());

test("fifty connections trickling headers are closed after the headers timeout while /health and sockets stay fast", async () => {
  const bystander = await person(server, "Slow Bystander");
  const slow = await Promise.all(Array.from({ length: SLOW_CONNECTIONS }, () => slowClient(server.port)));

  // during the attack, normal requests are answered quickly, again and again: each poll is one
  // /health and one room:list, until the server has closed every slow connection
  let probes = 0;
  await until(
    async () => {
      const t0 = Date.now();
      const res = await fetch(`${server.url}/health`);
      assert.equal(res.status, 200);
      await res.body?.cancel();
      assert.equal((await request(bystander.socket, "room:list", {})).ok, true);
      assert.ok(Date.now() - t0 < 1000, `a normal request took ${Date.now() - t0} ms during the attack`);
      probes++;
      return slow.every((s) => s.closedAt !== null);
    },
    HEADERS_TIMEOUT_MS + 5000,
    "the server to close every slow connection",
  );
  assert.ok(probes >= 2, `only ${probes} normal requests ran during the attack`);

  for (const s of slow) {
    const held = s.closedAt! - s.openedAt;
    // closed by the server's timeout, not by anything sooner (they were kept alive by the drip)
    assert.ok(held >= HEADERS_TIMEOUT_MS - 50, `a slow connection was closed after only ${held} ms`);
    // Node answers an unfinished request that ran out of time with 408, then closes
    assert.equal(s.received, "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n");
  }
  const res = await fetch(`${server.url}/health`);
  assert.equal(res.status, 200);
  await res.body?.cancel();
  bystander.socket.close();
});

test("the server gives a request's headers 10 s and the whole request 30 s, checked every second", async () => {
  const plain = await startServer();
  try {
    const { httpServer } = plain.app;
    assert.deepEqual(
      [httpServer.headersTimeout, httpServer.requestTimeout],
      [HTTP_TIMEOUTS.headersMs, HTTP_TIMEOUTS.requestMs],
    );
    assert.deepEqual(HTTP_TIMEOUTS, { headersMs: 10_000, requestMs: 30_000, checkEveryMs: 1_000 });
  } finally {
    await plain.close();
  }
});
