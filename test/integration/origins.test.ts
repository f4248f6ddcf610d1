/**
 * CORS_ORIGINS for the Socket.io handshake and HTTP CORS: an exact allow-list (plus `:*` ports),
 * 403 at the Engine.IO level for anything else, the server's own origin always allowed, and
 * no Origin at all (a server or native client) allowed with a token.
 */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { io } from "socket.io-client";
import {
  serverEnv,
  spawnServer,
  startServer,
  type TestServer,
  type TestUser,
  tempDir,
  until,
} from "../support/harness.js";

const ALLOWED = "http://allowed.example";
const handshakePath = "/socket.io/?EIO=4&transport=polling";

/** The Engine.IO handshake as a browser sends it, with `origin` (or none). */
function rawHandshake(server: { url: string }, origin: string | null): Promise<Response> {
  return fetch(`${server.url}${handshakePath}`, { headers: origin === null ? {} : { origin } });
}

/** A WebSocket upgrade request by hand; resolves with the status (101 if it was upgraded) and body. */
function rawUpgrade(server: { url: string }, origin: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${server.url}/socket.io/?EIO=4&transport=websocket`, {
      headers: {
        origin,
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("upgrade", (_res, socket) => {
      socket.destroy();
      resolve({ status: 101, body: "" });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("Socket.io handshake origins", () => {
  let server: TestServer;
  let ann: TestUser;
  before(async () => {
    server = await startServer({ env: { CORS_ORIGINS: `${ALLOWED},http://localhost:*` } });
    ann = await server.addUser("Ann Origin");
  });
  after(() => server.close());

  const refused = [
    "http://evil.example",
    "null",
    `${ALLOWED}.evil.com`,
    "http://evil.com.allowed.example",
    "http://xallowed.example",
    `${ALLOWED}:8080`,
    "https://allowed.example",
    "http://localhost.evil.com",
    "http://localhost.evil.com:3000",
    "http://127.0.0.2:3000",
  ];
  for (const origin of refused) {
    test(`a polling handshake from Origin ${origin} gets HTTP 403`, async () => {
      const response = await rawHandshake(server, origin);
      await response.body?.cancel();
      assert.equal(response.status, 403);
      assert.notEqual(response.headers.get("access-control-allow-origin"), origin);
      assert.notEqual(response.headers.get("access-control-allow-origin"), "*");
    });
  }

  const allowed = [ALLOWED, "http://localhost:5173", "http://localhost:3000"];
  for (const origin of allowed) {
    test(`a polling handshake from the allowed Origin ${origin} opens, echoing that origin`, async () => {
      const response = await rawHandshake(server, origin);
      assert.equal(response.status, 200);
      assert.match(await response.text(), /^0\{/, "an Engine.IO open packet");
      assert.equal(response.headers.get("access-control-allow-origin"), origin);
    });
  }

  test("a raw WebSocket upgrade from a foreign Origin is refused with 403 and told what to do, never upgraded", async () => {
    const answer = await rawUpgrade(server, "http://evil.example");
    assert.equal(answer.status, 403);
    assert.match(answer.body, /add its address to CORS_ORIGINS/);
  });

  test("a refused polling handshake is told what to do", async () => {
    const response = await rawHandshake(server, "http://evil.example");
    assert.equal(response.status, 403);
    assert.match(await response.text(), /add its address to CORS_ORIGINS/);
  });

  test("a handshake from the server's own origin is allowed although it is not listed", async () => {
    const response = await rawHandshake(server, `http://127.0.0.1:${server.port}`);
    assert.equal(response.status, 200);
    await response.body?.cancel();
  });

  test("a handshake without an Origin header is accepted with a token", async () => {
    const response = await rawHandshake(server, null);
    assert.equal(response.status, 200);
    await response.body?.cancel();
    const socket = await server.connect(ann, { transports: ["polling"] });
    socket.close();
  });

  for (const transports of [["polling"], ["websocket"]] as const) {
    test(`a socket.io client sending a foreign Origin over ${transports[0]} is refused even with a valid token`, async () => {
      const token = await server.token(ann.id);
      const socket = io(server.url, {
        auth: { token },
        extraHeaders: { origin: "http://evil.example" },
        transports: [...transports],
        forceNew: true,
        reconnection: false,
      });
      const outcome = await new Promise<string>((resolve) => {
        socket.once("connect", () => resolve("connected"));
        socket.once("connect_error", (err) => resolve(`refused: ${err.message}`));
      });
      socket.close();
      assert.match(outcome, /^refused/);
      assert.doesNotMatch(outcome, /unauthorized/, "refused before authentication, at the Engine.IO level");
    });
  }

  test("a socket.io client sending the server's own origin over websocket is accepted", async () => {
    const socket = await server.connect(ann, {
      extraHeaders: { origin: `http://127.0.0.1:${server.port}` },
      transports: ["websocket"],
    });
    socket.close();
  });

  test("a socket.io client sending an allowed Origin over polling is accepted", async () => {
    const socket = await server.connect(ann, { extraHeaders: { origin: ALLOWED }, transports: ["polling"] });
    socket.close();
  });
});

describe("HTTP CORS", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ env: { CORS_ORIGINS: `${ALLOWED},http://localhost:*` } });
  });
  after(() => server.close());

  for (const origin of [ALLOWED, "http://localhost:8081"]) {
    test(`GET /health from ${origin} echoes exactly that origin, never *`, async () => {
      const response = await fetch(`${server.url}/health`, { headers: { origin } });
      assert.equal(response.status, 200);
      await response.body?.cancel();
      assert.equal(response.headers.get("access-control-allow-origin"), origin);
    });
  }

  test("a response echoing the origin says Vary: Origin so caches keep origins apart", async () => {
    const response = await fetch(`${server.url}/health`, { headers: { origin: ALLOWED } });
    await response.body?.cancel();
    assert.match(response.headers.get("vary") ?? "", /origin/i);
  });

  test("GET /health from a foreign origin carries no CORS permission", async () => {
    const response = await fetch(`${server.url}/health`, { headers: { origin: "http://evil.example" } });
    await response.body?.cancel();
    assert.equal(response.headers.get("access-control-allow-origin"), null);
    assert.equal(response.headers.get("access-control-allow-credentials"), null);
  });

  test("a preflight for POST /api/login from an allowed origin is answered with that origin", async () => {
    const response = await fetch(`${server.url}/api/login`, {
      method: "OPTIONS",
      headers: {
        origin: ALLOWED,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    await response.body?.cancel();
    assert.equal(response.status, 204, "a preflight is answered with no content");
    assert.equal(response.headers.get("access-control-allow-origin"), ALLOWED);
    assert.match(response.headers.get("access-control-allow-methods") ?? "", /POST/);
    assert.match(response.headers.get("access-control-allow-headers") ?? "", /content-type/i);
  });

  test("a preflight for GET /api/rooms with Authorization from an allowed origin allows that header", async () => {
    const response = await fetch(`${server.url}/api/rooms`, {
      method: "OPTIONS",
      headers: {
        origin: ALLOWED,
        "access-control-request-method": "GET",
        "access-control-request-headers": "authorization",
      },
    });
    await response.body?.cancel();
    assert.equal(response.status, 204, "a preflight is answered with no content");
    assert.equal(response.headers.get("access-control-allow-origin"), ALLOWED);
    assert.match(response.headers.get("access-control-allow-headers") ?? "", /authorization/i);
  });

  test("error responses to an allowed origin carry the CORS header too, so pages can read them", async () => {
    const response = await fetch(`${server.url}/api/rooms`, { headers: { origin: ALLOWED } });
    assert.equal(response.status, 401);
    await response.body?.cancel();
    assert.equal(response.headers.get("access-control-allow-origin"), ALLOWED);
  });
});

describe("the development default for CORS_ORIGINS", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  test("any localhost port is allowed when CORS_ORIGINS is unset outside production", async () => {
    const response = await rawHandshake(server, "http://localhost:5173");
    await response.body?.cancel();
    assert.equal(response.status, 200);
  });

  test("a foreign origin is refused when CORS_ORIGINS is unset", async () => {
    const response = await rawHandshake(server, "https://evil.example");
    await response.body?.cancel();
    assert.equal(response.status, 403);
  });
});

describe("refused origins in the log", () => {
  test("the operator sees a refused page's address once, with what to do, however often it tries", async () => {
    const dir = tempDir();
    const server = await spawnServer(
      serverEnv(join(dir.dir, "chat.db"), { CORS_ORIGINS: ALLOWED, LOG_LEVEL: "info" }),
    );
    try {
      for (let i = 0; i < 3; i++) {
        (await rawHandshake(server, "http://forgotten.example")).body?.cancel();
        await rawUpgrade(server, "http://forgotten.example");
      }
      (await rawHandshake(server, ALLOWED)).body?.cancel();
      // a barrier: one more refused address, after all the others. The server writes its log as
      // one stream in order, so once this line is there, any repeat of the first one is there too
      (await rawHandshake(server, "http://marker.example")).body?.cancel();
      const refusals = () => server.logs().filter((l) => l.origin !== undefined);
      await until(
        () => refusals().some((l) => l.origin === "http://marker.example"),
        5000,
        "the marker's refusal in the log",
      );
      assert.deepEqual(
        refusals().map((l) => l.origin),
        ["http://forgotten.example", "http://marker.example"],
        "each refused address once, in order",
      );
      const [line] = refusals() as [Record<string, unknown>];
      assert.equal(line.origin, "http://forgotten.example");
      assert.equal(line.level, 40, "a warning");
      assert.match(String(line.msg), /CORS_ORIGINS/);
    } finally {
      await server.stop();
      dir.remove();
    }
  });
});
