/**
 * Handshake authentication (PROTOCOL.md "Identity and authentication"): every way a token can be
 * wrong is refused with the contract's code, valid tokens are accepted by either carrier, and an
 * unreachable user directory says "unavailable" rather than "unauthorized".
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";
import { io } from "socket.io-client";
import {
  connectWithToken,
  craftToken,
  openSocket,
  request,
  sessionOf,
  startServer,
  TEST_SECRET,
  type TestServer,
  type TestSocket,
  type TestUser,
} from "../support/harness.js";

const now = () => Math.floor(Date.now() / 1000);
const HOUR = 3600;
const DAY = 86_400;

/** A token signed with the test servers' secret (HS256 unless `alg` says otherwise). */
const sign = (claims: Record<string, unknown>, alg: "HS256" | "HS512" | "none" = "HS256") =>
  craftToken(claims, { secret: TEST_SECRET, alg });

describe("handshake with the default settings", () => {
  let server: TestServer;
  let ann: TestUser;
  let valid: () => Record<string, unknown>;
  before(async () => {
    server = await startServer();
    ann = await server.addUser("Ann Handshake");
    valid = () => ({ sub: ann.id, iat: now(), exp: now() + HOUR });
  });
  after(() => server.close());

  test("a token from the server's own signer opens a socket that answers requests", async () => {
    const socket = await server.connect(ann);
    assert.equal(socket.connected, true);
    assert.equal((await request(socket, "room:list", {})).ok, true);
    socket.close();
  });

  test("the session event carries the user's id, name and login as strings", async () => {
    const token = sign(valid());
    const socket = io(server.url, {
      auth: { token },
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
    });
    const session = await new Promise<{ user: { id: string; name: string } }>((resolve, reject) => {
      socket.once("session", resolve);
      socket.once("connect_error", reject);
    });
    socket.close();
    assert.deepEqual(session.user, { id: ann.id, name: "Ann Handshake", login: ann.login });
  });

  test("a numeric sub is accepted as the same user", async () => {
    const { socket, user } = await connectWithToken(server.url, sign({ ...valid(), sub: Number(ann.id) }));
    socket.close();
    assert.deepEqual(user, { id: ann.id, name: "Ann Handshake", login: ann.login });
  });

  test("a handshake without any token is refused with AUTH_REQUIRED", async () => {
    assert.deepEqual(await server.connectRefused({}), { message: "unauthorized", code: "AUTH_REQUIRED" });
  });

  const invalid: [string, () => unknown][] = [
    ["a string that is not a JWT", () => "not-a-jwt"],
    ["a token signed with another secret", () => craftToken(valid(), { secret: `${TEST_SECRET}-other` })],
    ["a token with alg none", () => sign(valid(), "none")],
    ["an HS512 token signed with the right secret", () => sign(valid(), "HS512")],
    [
      "a token whose payload was changed after signing",
      () => {
        const [h, , s] = sign(valid()).split(".");
        const forged = Buffer.from(JSON.stringify({ ...valid(), sub: String(Number(ann.id) + 1) })).toString(
          "base64url",
        );
        return `${h}.${forged}.${s}`;
      },
    ],
    ["a token with its signature cut short", () => sign(valid()).slice(0, -5)],
    ["a token with no signature part", () => sign(valid()).split(".").slice(0, 2).join(".")],
    ["a token without exp", () => sign({ sub: ann.id, iat: now() })],
    ["a token whose nbf is two minutes ahead", () => sign({ ...valid(), nbf: now() + 120 })],
    ["a token whose nbf is 45 seconds ahead", () => sign({ ...valid(), nbf: now() + 45 })],
    [
      "a token issued 45 seconds in the future",
      () => sign({ sub: ann.id, iat: now() + 45, exp: now() + HOUR }),
    ],
    [
      "a token issued two minutes in the future",
      () => sign({ sub: ann.id, iat: now() + 120, exp: now() + HOUR }),
    ],
    [
      "a token valid for eight days (iat to exp)",
      () => sign({ sub: ann.id, iat: now(), exp: now() + 8 * DAY }),
    ],
    ["a token without iat expiring in eight days", () => sign({ sub: ann.id, exp: now() + 8 * DAY })],
    ["a token whose sub is not numeric", () => sign({ ...valid(), sub: "alice" })],
    ["a token whose sub is negative", () => sign({ ...valid(), sub: -5 })],
    ["a token whose sub is zero", () => sign({ ...valid(), sub: "0" })],
    ["a token whose sub is a fraction", () => sign({ ...valid(), sub: 1.5 })],
    ["a token without sub", () => sign({ iat: now(), exp: now() + HOUR })],
    ["a token larger than 4 KB", () => sign({ ...valid(), padding: "x".repeat(4200) })],
    ["a token that is a number", () => 12345],
    ["a token that is an object", () => ({ sub: ann.id })],
  ];
  for (const [name, token] of invalid) {
    test(`${name} is refused with AUTH_INVALID`, async () => {
      assert.deepEqual(await server.connectRefused({ token: token() }), {
        message: "unauthorized",
        code: "AUTH_INVALID",
      });
    });
  }

  test("a token that expired two minutes ago is refused with AUTH_EXPIRED", async () => {
    const token = sign({ sub: ann.id, iat: now() - HOUR, exp: now() - 120 });
    assert.deepEqual(await server.connectRefused({ token }), {
      message: "unauthorized",
      code: "AUTH_EXPIRED",
    });
  });

  test("a token that expired 45 seconds ago is refused with AUTH_EXPIRED (beyond the 30 s skew)", async () => {
    const token = sign({ sub: ann.id, iat: now() - HOUR, exp: now() - 45 });
    assert.deepEqual(await server.connectRefused({ token }), {
      message: "unauthorized",
      code: "AUTH_EXPIRED",
    });
  });

  test("a token that expired ten seconds ago is still accepted (30 s of clock skew)", async () => {
    const socket = await server.connect({ token: sign({ sub: ann.id, iat: now() - HOUR, exp: now() - 10 }) });
    socket.close();
  });

  test("a token issued ten seconds in the future is accepted (30 s of clock skew)", async () => {
    const socket = await server.connect({ token: sign({ sub: ann.id, iat: now() + 10, exp: now() + HOUR }) });
    socket.close();
  });

  test("a token valid for exactly seven days is accepted", async () => {
    const iat = now();
    const socket = await server.connect({ token: sign({ sub: ann.id, iat, exp: iat + 7 * DAY }) });
    socket.close();
  });

  test("a valid token for a user who does not exist is refused with USER_UNKNOWN", async () => {
    const token = sign({ sub: "987654321", iat: now(), exp: now() + HOUR });
    assert.deepEqual(await server.connectRefused({ token }), {
      message: "unauthorized",
      code: "USER_UNKNOWN",
    });
  });

  test("a valid token for a disabled user is refused with USER_DISABLED", async () => {
    const bea = await server.addUser("Bea Disabled");
    await server.builtin!.setActive(bea.login, false);
    const token = await server.token(bea.id);
    assert.deepEqual(await server.connectRefused({ token }), {
      message: "unauthorized",
      code: "USER_DISABLED",
    });
  });

  test("an Authorization: Bearer header opens a socket over polling then websocket", async () => {
    const token = sign(valid());
    const socket: TestSocket = io(server.url, {
      extraHeaders: { authorization: `Bearer ${token}` },
      transports: ["polling", "websocket"],
      forceNew: true,
      reconnection: false,
    });
    try {
      const session = await new Promise<{ user: { id: string } }>((resolve, reject) => {
        socket.once("session", resolve);
        socket.once("connect_error", reject);
      });
      assert.equal(session.user.id, ann.id);
      const rooms = await request(socket, "room:list", {});
      assert.equal(rooms.ok, true);
    } finally {
      socket.close();
    }
  });

  test("an Authorization: Bearer header also works over a websocket-only connection", async () => {
    const { socket, user } = await sessionOf(
      openSocket(
        server.url,
        {},
        { extraHeaders: { authorization: `Bearer ${sign(valid())}` }, transports: ["websocket"] },
      ),
    );
    try {
      assert.equal(user.id, ann.id);
      assert.equal((await request(socket, "room:list", {})).ok, true);
    } finally {
      socket.close();
    }
  });

  test("an invalid auth.token is refused even when a valid Bearer header is sent too (no fall-back)", async () => {
    const refusal = await server.connectRefused(
      { token: "garbage" },
      { extraHeaders: { authorization: `Bearer ${sign(valid())}` }, transports: ["polling", "websocket"] },
    );
    assert.deepEqual(refusal, { message: "unauthorized", code: "AUTH_INVALID" });
  });

  test("an Authorization: Bearer header with a forged token is refused with AUTH_INVALID", async () => {
    const token = craftToken(valid(), { secret: "not-the-secret-not-the-secret-not" });
    const refusal = await server.connectRefused(
      {},
      { extraHeaders: { authorization: `Bearer ${token}` }, transports: ["polling", "websocket"] },
    );
    assert.deepEqual(refusal, { message: "unauthorized", code: "AUTH_INVALID" });
  });

  test("after many refusals the server still accepts a valid token", async () => {
    await Promise.all(Array.from({ length: 20 }, () => server.connectRefused({ token: "garbage" })));
    const socket = await server.connect(ann);
    const rooms = await request(socket, "room:list", {});
    assert.equal(rooms.ok, true);
    socket.close();
  });
});

describe("handshake with an issuer, an audience and a shorter lifetime", () => {
  let server: TestServer;
  let ann: TestUser;
  const claims = () => ({
    sub: ann.id,
    iat: now(),
    exp: now() + 600,
    iss: "timewise-php",
    aud: "timewise-chat",
  });
  before(async () => {
    server = await startServer({
      env: { AUTH_JWT_ISSUER: "timewise-php", AUTH_JWT_AUDIENCE: "timewise-chat", AUTH_JWT_MAX_TTL_S: "900" },
    });
    ann = await server.addUser("Ann Issuer");
  });
  after(() => server.close());

  test("a token with the configured iss and aud is accepted", async () => {
    const socket = await server.connect({ token: sign(claims()) });
    socket.close();
  });

  const refused: [string, () => Record<string, unknown>][] = [
    ["without iss", () => ({ ...claims(), iss: undefined })],
    ["with another iss", () => ({ ...claims(), iss: "someone-else" })],
    ["without aud", () => ({ ...claims(), aud: undefined })],
    ["with another aud", () => ({ ...claims(), aud: "another-app" })],
    ["valid for longer than AUTH_JWT_MAX_TTL_S", () => ({ ...claims(), exp: now() + 1200 })],
  ];
  for (const [name, make] of refused) {
    test(`a token ${name} is refused with AUTH_INVALID`, async () => {
      const token = sign(JSON.parse(JSON.stringify(make())));
      assert.deepEqual(await server.connectRefused({ token }), {
        message: "unauthorized",
        code: "AUTH_INVALID",
      });
    });
  }
});

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return typeof address === "object" && address ? address.port : 1;
}

describe("handshake when the user directory cannot be reached", () => {
  for (const [name, port] of [
    ["MySQL on port 1", async () => 1],
    ["MySQL on a stopped port", closedPort],
  ] as const) {
    test(`with ${name} a valid token is refused as unavailable with AUTH_UNAVAILABLE`, async () => {
      const server = await startServer({
        env: { MYSQL_HOST: "127.0.0.1", MYSQL_PORT: String(await port()), MYSQL_CONNECT_TIMEOUT_MS: "2000" },
      });
      try {
        const token = sign({ sub: "7", iat: now(), exp: now() + HOUR });
        assert.deepEqual(await server.connectRefused({ token }), {
          message: "unavailable",
          code: "AUTH_UNAVAILABLE",
        });
        const refused = await server.connectRefused({ token: "garbage" });
        assert.equal(refused.code, "AUTH_INVALID", "a bad token is still refused as invalid");
      } finally {
        await server.close();
      }
    });
  }
});
