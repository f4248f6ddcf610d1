/**
 * The server's own pages are always allowed, but only with their own scheme: behind a proxy that
 * ends TLS (`X-Forwarded-Proto: https`), a page at `http://` the same host (which anyone on the
 * network can change) is refused at the Socket.io handshake, the WebSocket upgrade and HTTP CORS;
 * a plain-http server does not take `https://` either.
 */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, test } from "node:test";
import { startServer, type TestServer } from "../support/harness.js";

const HANDSHAKE = "/socket.io/?EIO=4&transport=polling";

/** A WebSocket upgrade by hand; resolves with 101 when upgraded, else the status. */
function upgradeStatus(server: TestServer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${server.url}/socket.io/?EIO=4&transport=websocket`, {
      headers: {
        ...headers,
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("upgrade", (_res, socket) => {
      socket.destroy();
      resolve(101);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the server's own origin", () => {
  let server: TestServer;
  let own: { http: string; https: string };
  before(async () => {
    server = await startServer({ env: { CORS_ORIGINS: "https://timewise.test" } });
    own = { http: `http://127.0.0.1:${server.port}`, https: `https://127.0.0.1:${server.port}` };
  });
  after(() => server.close());

  const handshake = async (headers: Record<string, string>) => {
    const response = await fetch(`${server.url}${HANDSHAKE}`, { headers });
    await response.body?.cancel();
    return response.status;
  };
  const behindTls = { "x-forwarded-proto": "https" };

  test("behind a proxy that ends TLS the https page is allowed and the http one refused", async () => {
    assert.equal(await handshake({ origin: own.https, ...behindTls }), 200);
    assert.equal(await handshake({ origin: own.http, ...behindTls }), 403);
    // a proxy chain that lists several schemes still counts as https
    assert.equal(await handshake({ origin: own.http, "x-forwarded-proto": "https, http" }), 403);
  });

  test("the WebSocket upgrade follows the same rule", async () => {
    assert.equal(await upgradeStatus(server, { origin: own.https, ...behindTls }), 101);
    assert.equal(await upgradeStatus(server, { origin: own.http, ...behindTls }), 403);
  });

  test("HTTP CORS follows the same rule", async () => {
    const status = async (origin: string) => {
      const response = await fetch(`${server.url}/api/rooms`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "GET", ...behindTls },
      });
      await response.body?.cancel();
      return { status: response.status, allowed: response.headers.get("access-control-allow-origin") };
    };
    assert.equal((await status(own.https)).allowed, own.https);
    const refused = await status(own.http);
    assert.equal(refused.status, 403);
    assert.equal(refused.allowed, null);
  });

  test("a plain-http server takes its http page only, not https", async () => {
    assert.equal(await handshake({ origin: own.http }), 200);
    assert.equal(await handshake({ origin: own.https }), 403);
  });
});
