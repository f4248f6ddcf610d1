/**
 * The HTTP API (PROTOCOL.md "HTTP"): health, the Bearer-authenticated room and message routes that
 * mirror room:list / message:history / message:send, and JSON errors with matching statuses.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Message, Room } from "../../src/protocol/index.js";
import {
  collect,
  craftToken,
  ok,
  startServer,
  TEST_SECRET,
  type TestServer,
  type TestSocket,
  type TestUser,
  until,
  waitFor,
} from "../support/harness.js";

interface Reply {
  status: number;
  type: string;
  body: Record<string, unknown>;
}

/** One HTTP call; the body is parsed as JSON (a non-JSON body fails the test). */
async function call(
  server: TestServer,
  path: string,
  options: { method?: string; token?: string; json?: unknown; raw?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.json !== undefined || options.raw !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${server.url}${path}`, {
    method: options.method ?? "GET",
    headers,
    body: options.raw ?? (options.json === undefined ? undefined : JSON.stringify(options.json)),
  });
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`${options.method ?? "GET"} ${path} → ${response.status} with a non-JSON body: ${text}`);
  }
  return { status: response.status, type: response.headers.get("content-type") ?? "", body };
}

/** Asserts the contract's error shape `{ error: { code, message } }` with the given status and code. */
function assertError(reply: Reply, status: number, code: string | RegExp) {
  assert.equal(reply.status, status, JSON.stringify(reply.body));
  assert.match(reply.type, /application\/json/);
  const error = reply.body.error as { code: unknown; message: unknown };
  assert.ok(error && typeof error === "object", `an error object: ${JSON.stringify(reply.body)}`);
  if (typeof code === "string") assert.equal(error.code, code);
  else assert.match(String(error.code), code);
  assert.equal(typeof error.message, "string");
}

describe("HTTP API", () => {
  let server: TestServer;
  let ann: TestUser;
  let bob: TestUser;
  let cat: TestUser;
  let annToken: string;
  let annSocket: TestSocket;
  let bobSocket: TestSocket;
  let room: Room;
  const sent: Message[] = [];

  before(async () => {
    server = await startServer({ env: { MAX_MESSAGE_LENGTH: "50" } });
    ann = await server.addUser("Ann Http");
    bob = await server.addUser("Bob Http");
    cat = await server.addUser("Cat Outsider");
    annToken = await server.token(ann.id);
    annSocket = await server.connect(ann);
    bobSocket = await server.connect(bob);
    room = (await ok(annSocket, "room:direct", { userId: bob.id })).room;
    for (let i = 1; i <= 5; i++) {
      sent.push(
        (await ok(annSocket, "message:send", { roomId: room.id, body: `m${i}`, clientId: `h${i}` })).message,
      );
    }
  });
  after(() => server.close());

  test("GET /health answers 200 {status: ok} as JSON", async () => {
    const reply = await call(server, "/health");
    assert.equal(reply.status, 200);
    assert.match(reply.type, /application\/json/);
    assert.deepEqual(reply.body, { status: "ok" });
  });

  test("an unknown route answers 404 with a JSON error", async () => {
    assertError(await call(server, "/no/such/route"), 404, "NOT_FOUND");
  });

  test("GET /api/rooms without a token answers 401 with a JSON error", async () => {
    assertError(await call(server, "/api/rooms"), 401, "AUTH_REQUIRED");
  });

  test("GET /api/rooms with a forged, expired or unknown user's token answers 401", async () => {
    const now = Math.floor(Date.now() / 1000);
    const forged = craftToken({ sub: ann.id, iat: now, exp: now + 60 }, { secret: `${TEST_SECRET}!` });
    assertError(await call(server, "/api/rooms", { token: forged }), 401, "AUTH_INVALID");
    const expired = craftToken({ sub: ann.id, iat: now - 600, exp: now - 300 }, { secret: TEST_SECRET });
    assertError(await call(server, "/api/rooms", { token: expired }), 401, "AUTH_EXPIRED");
    const unknown = craftToken({ sub: "987654321", iat: now, exp: now + 60 }, { secret: TEST_SECRET });
    assertError(await call(server, "/api/rooms", { token: unknown }), 401, "USER_UNKNOWN");
  });

  test("GET /api/rooms with a disabled user's token is refused with USER_DISABLED", async () => {
    const dee = await server.addUser("Dee Disabled");
    await server.builtin!.setActive(dee.login, false);
    const reply = await call(server, "/api/rooms", { token: await server.token(dee.id) });
    assertError(reply, 403, "USER_DISABLED");
  });

  test("GET /api/rooms with a Bearer token answers what room:list answers", async () => {
    const reply = await call(server, "/api/rooms", { token: annToken });
    assert.equal(reply.status, 200);
    const viaSocket = await ok(annSocket, "room:list", {});
    assert.deepEqual(reply.body, { rooms: viaSocket.rooms, next: null });
    const rooms = reply.body.rooms as Room[];
    assert.equal(rooms.length, 1);
    assert.equal(rooms[0]!.id, room.id);
    assert.equal(rooms[0]!.lastSeq, 5);
  });

  test("GET /api/rooms/:id/messages answers what message:history answers", async () => {
    const reply = await call(server, `/api/rooms/${room.id}/messages`, { token: annToken });
    assert.equal(reply.status, 200);
    const viaSocket = await ok(annSocket, "message:history", { roomId: room.id });
    assert.deepEqual(reply.body, { messages: viaSocket.messages, hasMore: false });
    assert.deepEqual(
      (reply.body.messages as Message[]).map((m) => m.body),
      ["m1", "m2", "m3", "m4", "m5"],
    );
  });

  test("GET messages honours limit, beforeSeq and afterSeq from the query string", async () => {
    const path = `/api/rooms/${room.id}/messages`;
    const latest = await call(server, `${path}?limit=2`, { token: annToken });
    assert.deepEqual(
      [(latest.body.messages as Message[]).map((m) => m.seq), latest.body.hasMore],
      [[4, 5], true],
    );
    const older = await call(server, `${path}?limit=2&beforeSeq=4`, { token: annToken });
    assert.deepEqual(
      [(older.body.messages as Message[]).map((m) => m.seq), older.body.hasMore],
      [[2, 3], true],
    );
    const newer = await call(server, `${path}?limit=3&afterSeq=3`, { token: annToken });
    assert.deepEqual(
      [(newer.body.messages as Message[]).map((m) => m.seq), newer.body.hasMore],
      [[4, 5], false],
    );
  });

  for (const query of [
    "limit=0",
    "limit=101",
    "limit=2.5",
    "limit=abc",
    "beforeSeq=3&afterSeq=1",
    "beforeSeq=-1",
  ]) {
    test(`GET messages with ${query} answers 400 BAD_REQUEST`, async () => {
      assertError(
        await call(server, `/api/rooms/${room.id}/messages?${query}`, { token: annToken }),
        400,
        "BAD_REQUEST",
      );
    });
  }

  for (const [method, path] of [
    ["GET", "/api/rooms/%E0%A4%A/messages"],
    ["GET", "/api/rooms/%zz/messages"],
    ["POST", "/api/rooms/%C0/messages"],
  ] as const) {
    test(`${method} ${path} (a broken %-escape) answers 400 BAD_REQUEST, not 500`, async () => {
      const reply = await call(server, path, {
        method,
        token: annToken,
        ...(method === "POST" ? { json: { body: "hi", clientId: "esc-1" } } : {}),
      });
      assertError(reply, 400, "BAD_REQUEST");
      assert.equal((await call(server, "/health")).status, 200);
    });
  }

  test("GET messages of a room the caller is not in answers 404, as for a room that does not exist", async () => {
    const catToken = await server.token(cat.id);
    assertError(await call(server, `/api/rooms/${room.id}/messages`, { token: catToken }), 404, "NOT_FOUND");
    assertError(await call(server, "/api/rooms/987654321/messages", { token: catToken }), 404, "NOT_FOUND");
  });

  test("GET messages without a token answers 401", async () => {
    assertError(await call(server, `/api/rooms/${room.id}/messages`), 401, /^AUTH_/);
  });

  test("POST a message stores it and both members' sockets get message:new", async () => {
    const annGot = waitFor(annSocket, "message:new", (m) => m.clientId === "http-1");
    const bobGot = waitFor(bobSocket, "message:new", (m) => m.clientId === "http-1");
    const reply = await call(server, `/api/rooms/${room.id}/messages`, {
      method: "POST",
      token: annToken,
      json: { body: "sent over HTTP", clientId: "http-1" },
    });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    const message = reply.body.message as Message;
    assert.equal(message.body, "sent over HTTP");
    assert.equal(message.senderId, ann.id);
    assert.equal(message.roomId, room.id);
    assert.equal(message.seq, 6);
    assert.deepEqual(await bobGot, message);
    assert.deepEqual(await annGot, message);
  });

  test("POSTing the same clientId again returns the stored message and broadcasts nothing", async () => {
    const seen = collect(bobSocket, "message:new");
    const first = await call(server, `/api/rooms/${room.id}/messages`, {
      method: "POST",
      token: annToken,
      json: { body: "once", clientId: "http-2" },
    });
    await until(() => seen.length === 1, 5000, "the first broadcast");
    const again = await call(server, `/api/rooms/${room.id}/messages`, {
      method: "POST",
      token: annToken,
      json: { body: "twice", clientId: "http-2" },
    });
    // the same answer as the first time, status included: a retry cannot tell it was a retry
    assert.deepEqual([first.status, again.status], [201, 201]);
    assert.deepEqual(again.body.message, first.body.message, "first body wins");
    const history = await ok(annSocket, "message:history", { roomId: room.id, afterSeq: 6 });
    assert.deepEqual(
      history.messages.map((m) => m.clientId),
      ["http-2"],
    );
    assert.equal(seen.length, 1);
  });

  test("the same clientId in another room answers 409 CONFLICT", async () => {
    const other = (await ok(annSocket, "room:direct", { userId: cat.id })).room;
    assertError(
      await call(server, `/api/rooms/${other.id}/messages`, {
        method: "POST",
        token: annToken,
        json: { body: "elsewhere", clientId: "h1" },
      }),
      409,
      "CONFLICT",
    );
  });

  const badPosts: [string, { json?: unknown; raw?: string }][] = [
    ["a body that is not JSON", { raw: "{not json" }],
    ["no body field", { json: { clientId: "x1" } }],
    ["no clientId", { json: { body: "hi" } }],
    ["a numeric body", { json: { body: 42, clientId: "x2" } }],
    ["a clientId of 65 characters", { json: { body: "hi", clientId: "c".repeat(65) } }],
    ["a JSON array", { json: ["hi"] }],
  ];
  for (const [name, payload] of badPosts) {
    test(`POST a message with ${name} answers 400 BAD_REQUEST`, async () => {
      const reply = await call(server, `/api/rooms/${room.id}/messages`, {
        method: "POST",
        token: annToken,
        ...payload,
      });
      assertError(reply, 400, "BAD_REQUEST");
    });
  }

  test("POST a message longer than MAX_MESSAGE_LENGTH answers 413 PAYLOAD_TOO_LARGE", async () => {
    const reply = await call(server, `/api/rooms/${room.id}/messages`, {
      method: "POST",
      token: annToken,
      json: { body: "x".repeat(51), clientId: "too-long" },
    });
    assertError(reply, 413, "PAYLOAD_TOO_LARGE");
  });

  test("message length counts code points: 50 emoji fit a limit of 50", async () => {
    const json = { body: "😀".repeat(50), clientId: "emoji-50" };
    const reply = await call(server, `/api/rooms/${room.id}/messages`, {
      method: "POST",
      token: annToken,
      json,
    });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    assert.equal((reply.body.message as Message).body, json.body);
  });

  test("POST a message to a room the caller is not in answers 404", async () => {
    const reply = await call(server, `/api/rooms/${room.id}/messages`, {
      method: "POST",
      token: await server.token(cat.id),
      json: { body: "intruder", clientId: "cat-1" },
    });
    assertError(reply, 404, "NOT_FOUND");
  });

  test("POST a message without a token answers 401", async () => {
    const reply = await call(server, `/api/rooms/${room.id}/messages`, {
      method: "POST",
      json: { body: "anon", clientId: "anon-1" },
    });
    assertError(reply, 401, /^AUTH_/);
  });

  test("a huge request body is refused with 413 and the server keeps answering", async () => {
    const response = await fetch(`${server.url}/api/rooms/${room.id}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${annToken}`, "content-type": "application/json" },
      body: JSON.stringify({ body: "y".repeat(5_000_000), clientId: "huge" }),
    }).catch(() => null);
    if (response) {
      assert.equal(response.status, 413);
      await response.body?.cancel();
    }
    assert.equal((await call(server, "/health")).status, 200);
  });
});
