/**
 * `POST /api/login` with the built-in user directory: a token that opens a socket, one answer for
 * every kind of wrong sign-in, rate limits, malformed requests, and a directory that is down.
 */
import assert from "node:assert/strict";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { after, before, describe, test } from "node:test";
import { request, startServer, TEST_SECRET, type TestServer, type TestUser } from "../support/harness.js";

interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
  ms: number;
}

/** POSTs `body` to /api/login (a string is sent as it is) and parses the JSON answer. */
async function login(server: TestServer, body: unknown, contentType = "application/json"): Promise<Reply> {
  const started = performance.now();
  const response = await fetch(`${server.url}/api/login`, {
    method: "POST",
    headers: { "content-type": contentType },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`POST /api/login → ${response.status} with a non-JSON body: ${text}`);
  }
  return { status: response.status, body: parsed, headers: response.headers, ms };
}

const errorCode = (reply: Reply) => (reply.body.error as { code?: string } | undefined)?.code;

describe("POST /api/login with the built-in directory", () => {
  let server: TestServer;
  let ann: TestUser;
  const password = "correct horse battery staple";
  before(async () => {
    server = await startServer();
    ann = await server.addUser("Ann Login", { password });
  });
  after(() => server.close());

  test("the right password answers {token, user} and the token opens a socket for that user", async () => {
    const reply = await login(server, { username: ann.login, password });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.deepEqual(reply.body.user, { id: ann.id, name: "Ann Login" });
    const token = reply.body.token;
    assert.equal(typeof token, "string");
    const socket = await server.connect({ token: token as string });
    const session = await request(socket, "room:list", {});
    assert.equal(session.ok, true);
    socket.close();
  });

  test("the login token is an HS256 JWT for the user that lasts AUTH_LOGIN_TOKEN_TTL_S (12 hours by default)", async () => {
    const reply = await login(server, { username: ann.login, password });
    const [header, payload] = String(reply.body.token)
      .split(".")
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>);
    assert.equal(header?.alg, "HS256");
    assert.equal(String(payload?.sub), ann.id);
    const exp = Number(payload?.exp);
    const iat = Number(payload?.iat);
    const now = Math.floor(Date.now() / 1000);
    assert.ok(iat >= now - 5 && iat <= now, `made just now: iat ${iat}, now ${now}`);
    assert.equal(exp - iat, 43_200, "the default AUTH_LOGIN_TOKEN_TTL_S");
    assert.ok(!String(reply.body.token).includes(TEST_SECRET));
  });
});

describe("wrong sign-ins all get the same answer", () => {
  let server: TestServer;
  let ann: TestUser;
  let dee: TestUser;
  let nop: TestUser;
  before(async () => {
    server = await startServer();
    ann = await server.addUser("Ann Wrong", { password: "ann-password" });
    dee = await server.addUser("Dee Disabled", { password: "dee-password" });
    nop = await server.addUser("Nop Nopassword");
    await server.builtin!.setActive(dee.login, false);
  });
  after(() => server.close());

  test("wrong password, unknown user, disabled user and a user without a password answer 401 identically", async () => {
    const wrong = await login(server, { username: ann.login, password: "not-it" });
    const unknown = await login(server, { username: "nobody-at-all", password: "not-it" });
    const disabled = await login(server, { username: dee.login, password: "dee-password" });
    const noPassword = await login(server, { username: nop.login, password: "anything" });
    for (const reply of [wrong, unknown, disabled, noPassword]) {
      assert.equal(reply.status, 401, JSON.stringify(reply.body));
      assert.deepEqual(reply.body, wrong.body, "the same JSON body for every wrong sign-in");
      assert.equal(reply.body.token, undefined);
    }
    assert.equal(typeof errorCode(wrong), "string");
    assert.equal(typeof (wrong.body.error as { message?: unknown }).message, "string");
  });

  test("an unknown user takes as long as a wrong password: medians within 25% over interleaved rounds", async () => {
    // the first sign-in of each kind warms up the paths; the rounds alternate so load on the machine hits both
    await login(server, { username: ann.login, password: "warm-up" });
    await login(server, { username: "no-such-login", password: "warm-up" });
    const wrong: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 7; i++) {
      wrong.push((await login(server, { username: ann.login, password: `nope-${i}` })).ms);
      unknown.push((await login(server, { username: `no-such-login-${i}`, password: `nope-${i}` })).ms);
    }
    const median = (times: number[]) => times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
    const ratio = median(unknown) / median(wrong);
    assert.ok(
      ratio > 0.75 && ratio < 1.25,
      `unknown user ${median(unknown).toFixed(1)} ms vs wrong password ${median(wrong).toFixed(1)} ms`,
    );
  });

  test("checking a password does not block the event loop", async () => {
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    // four cost-12 checks at once: about a second of CPU, none of it on this thread
    await Promise.all([0, 1, 2, 3].map((i) => login(server, { username: ann.login, password: `busy-${i}` })));
    delay.disable();
    const maxMs = delay.max / 1e6;
    assert.ok(maxMs < 60, `the event loop stalled for ${maxMs.toFixed(1)} ms`);
  });
});

describe("sign-in rate limits", () => {
  test("repeated wrong passwords for one username end in 429 RATE_LIMITED, even for the right password", async () => {
    const server = await startServer();
    try {
      const ann = await server.addUser("Ann Limited", { password: "right" });
      let limited: Reply | null = null;
      for (let i = 0; i < 40 && !limited; i++) {
        const reply = await login(server, { username: ann.login, password: `wrong-${i}` });
        if (reply.status === 429) limited = reply;
        else assert.equal(reply.status, 401);
      }
      assert.ok(limited, "no 429 after 40 wrong passwords");
      assert.equal(errorCode(limited), "RATE_LIMITED");
      assert.equal(typeof (limited.body.error as { message?: unknown }).message, "string");
      const right = await login(server, { username: ann.login, password: "right" });
      assert.equal(right.status, 429, "a correct password does not bypass the limit");
    } finally {
      await server.close();
    }
  });

  test("many attempts from one address over many usernames end in 429 too", async () => {
    const server = await startServer();
    try {
      let status = 0;
      for (let i = 0; i < 100 && status !== 429; i++) {
        status = (await login(server, { username: `spray-${i}`, password: "guess" })).status;
      }
      assert.equal(status, 429);
    } finally {
      await server.close();
    }
  });
});

describe("sign-in limits count failures, per user", () => {
  const limits = { perIp: 3, ipWindowS: 60, perUsername: 3, usernameWindowS: 300 };

  test("successful sign-ins from one address are not counted against it", async () => {
    const server = await startServer({ app: { loginLimits: limits } });
    try {
      const ann = await server.addUser("Ann Often", { password: "right" });
      for (let i = 0; i < 5; i++) {
        assert.equal(
          (await login(server, { username: ann.login, password: "right" })).status,
          200,
          `try ${i}`,
        );
      }
    } finally {
      await server.close();
    }
  });

  test("one user's lock-out does not lock out another user at the same address", async () => {
    const server = await startServer({ app: { loginLimits: { ...limits, perIp: 5 } } });
    try {
      const ann = await server.addUser("Ann Locked", { password: "ann-right" });
      const bob = await server.addUser("Bob Fine", { password: "bob-right" });
      for (let i = 0; i < 3; i++) {
        assert.equal((await login(server, { username: ann.login, password: `wrong-${i}` })).status, 401);
      }
      // ann (or someone at her desk) keeps trying: refused, without filling the address's allowance
      for (let i = 0; i < 5; i++) {
        assert.equal((await login(server, { username: ann.login, password: "ann-right" })).status, 429);
      }
      assert.equal((await login(server, { username: bob.login, password: "bob-right" })).status, 200);
    } finally {
      await server.close();
    }
  });
});

describe("malformed sign-in requests", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  const bad: [string, unknown, string?][] = [
    ["a body that is not JSON", "{username: bob"],
    ["an empty body", ""],
    ["no password", { username: "ann" }],
    ["no username", { password: "pw" }],
    ["a numeric username", { username: 42, password: "pw" }],
    ["an array password", { username: "ann", password: ["pw"] }],
    ["a JSON null", "null"],
    ["a form-encoded body", "username=ann&password=pw", "application/x-www-form-urlencoded"],
  ];
  for (const [name, body, type] of bad) {
    test(`${name} answers 400 BAD_REQUEST`, async () => {
      const reply = await login(server, body, type);
      assert.equal(reply.status, 400, JSON.stringify(reply.body));
      assert.equal(errorCode(reply), "BAD_REQUEST");
    });
  }

  test("GET /api/login is not a sign-in and answers a JSON error", async () => {
    const response = await fetch(`${server.url}/api/login`);
    assert.equal(response.status, 404);
    const body = (await response.json()) as { error?: { code?: string } };
    assert.equal(body.error?.code, "NOT_FOUND");
  });
});

describe("sign-in when the MySQL user directory is down", () => {
  test("POST /api/login answers 503, not 401", async () => {
    const server = await startServer({
      env: { MYSQL_HOST: "127.0.0.1", MYSQL_PORT: "1", MYSQL_CONNECT_TIMEOUT_MS: "2000" },
    });
    try {
      const reply = await login(server, { username: "ann", password: "pw" });
      assert.equal(reply.status, 503, JSON.stringify(reply.body));
      assert.match(String(errorCode(reply)), /UNAVAILABLE/);
    } finally {
      await server.close();
    }
  });
});
