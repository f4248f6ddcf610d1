/**
 * Scoped server API keys (SERVER_API_KEYS) beside the full-access SERVICE_API_KEY, and per-address
 * throttling of wrong keys: past WRONG_KEYS_PER_MINUTE wrong keys an address gets 429 with
 * Retry-After, even with the right key, so keys cannot be guessed at speed.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { ConfigError, loadConfig } from "../../src/config/index.js";
import { WRONG_KEYS_PER_MINUTE } from "../../src/http/server-api.js";
import { startServer, type TestServer } from "../support/harness.js";

const FULL = randomBytes(24).toString("hex");
const BADGE = randomBytes(24).toString("hex");
const SYNC = `${randomBytes(24).toString("hex")}:with:colons`;

async function api(
  server: TestServer,
  method: string,
  path: string,
  key: string | null,
  body?: unknown,
  forwardedFor?: string,
): Promise<{ status: number; code: string | undefined; retryAfter: string | null }> {
  const headers: Record<string, string> = {};
  if (forwardedFor !== undefined) headers["x-forwarded-for"] = forwardedFor;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await response.json()) as { error?: { code?: string } };
  return { status: response.status, code: json.error?.code, retryAfter: response.headers.get("retry-after") };
}

describe("scoped server API keys", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({
      env: { SERVICE_API_KEY: FULL, SERVER_API_KEYS: `badge:unread:${BADGE};\n sync:rooms,messages:${SYNC}` },
    });
  });
  after(() => server.close());

  test("each key may use only the routes of its scopes; SERVICE_API_KEY may use all", async () => {
    const ann = await server.addUser("Ann Keys");
    const unread = `/api/server/users/${ann.id}/unread`;
    const room = "/api/server/rooms/team:keys";
    const token = "/api/server/tokens";
    assert.equal((await api(server, "GET", unread, BADGE)).status, 200, "badge reads unread counts");
    const refused = await api(server, "POST", token, BADGE, { userId: ann.id });
    assert.deepEqual([refused.status, refused.code], [403, "FORBIDDEN"], "badge mints no tokens");
    assert.equal((await api(server, "PUT", room, BADGE, { name: "T", memberIds: [ann.id] })).status, 403);

    const synced = await api(server, "PUT", room, SYNC, { name: "Team", memberIds: [ann.id] });
    assert.equal(synced.status, 201, "a key with a colon in it works");
    assert.equal((await api(server, "GET", unread, SYNC)).status, 403);
    assert.equal((await api(server, "POST", token, SYNC, { userId: ann.id })).status, 403);

    assert.equal((await api(server, "POST", token, FULL, { userId: ann.id })).status, 200);
    assert.equal((await api(server, "GET", unread, FULL)).status, 200);
    assert.equal((await api(server, "GET", room, FULL)).status, 200);
  });
});

describe("wrong server API keys", () => {
  let server: TestServer;
  before(async () => {
    // SERVER_API_KEYS alone turns the API on; the clock stands still, so the wait is known exactly
    const at = Date.now();
    server = await startServer({ env: { SERVER_API_KEYS: `badge:unread:${BADGE}` }, app: { now: () => at } });
  });
  after(() => server.close());

  test("past the allowance an address gets 429 with Retry-After, even with the right key", async () => {
    const path = "/api/server/users/1/unread";
    assert.equal((await api(server, "GET", path, BADGE)).status, 200);
    // a missing key is not a guess and does not count
    for (let i = 0; i < 3; i++) assert.equal((await api(server, "GET", path, null)).status, 401);
    for (let i = 0; i < WRONG_KEYS_PER_MINUTE; i++) {
      const wrong = await api(server, "GET", path, `${BADGE.slice(0, -2)}${i.toString().padStart(2, "0")}`);
      assert.deepEqual([wrong.status, wrong.code], [401, "AUTH_INVALID"], `wrong key ${i + 1}`);
    }
    const guess = await api(server, "GET", path, "yet-another-guess-0123456789abcdef");
    assert.deepEqual([guess.status, guess.code], [429, "RATE_LIMITED"]);
    const right = await api(server, "GET", path, BADGE);
    assert.deepEqual([right.status, right.code], [429, "RATE_LIMITED"], "the right key waits too");
    assert.equal(right.retryAfter, "60", "the whole minute, as no time has passed");
  });
});

describe("wrong server API keys behind a trusted proxy", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({
      env: { SERVER_API_KEYS: `badge:unread:${BADGE}`, TRUST_PROXY: "127.0.0.1" },
    });
  });
  after(() => server.close());

  test("are counted per client address the proxy names, so one client's guesses do not lock out another", async () => {
    const path = "/api/server/users/1/unread";
    for (let i = 0; i <= WRONG_KEYS_PER_MINUTE; i++) {
      await api(server, "GET", path, `wrong-key-${i}-0123456789abcdef0123456789`, undefined, "203.0.113.7");
    }
    const guesser = await api(server, "GET", path, BADGE, undefined, "203.0.113.7");
    assert.deepEqual([guesser.status, guesser.code], [429, "RATE_LIMITED"]);
    const other = await api(server, "GET", path, BADGE, undefined, "203.0.113.8");
    assert.equal(other.status, 200, "another client behind the same proxy still gets in");
  });
});

describe("SERVER_API_KEYS settings", () => {
  const bad: [string, string, RegExp][] = [
    ["no key part", "badge:unread", /entry 1: write it as name:scope,scope:key/],
    ["an unknown scope", `badge:unread,admin:${BADGE}`, /entry 1 \(badge\): unknown scope "admin"/],
    ["a short key", "badge:unread:short", /at least 32 characters/],
    ["a name used twice", `a:unread:${BADGE};a:rooms:${SYNC}`, /entry 2: the name a is used twice/],
    ["one key twice", `a:unread:${BADGE};b:rooms:${BADGE}`, /entry 2 \(b\): the same key is given twice/],
    ["a bad name", `bad name:unread:${BADGE}`, /entry 1: write it as/],
  ];
  for (const [what, value, message] of bad) {
    test(`${what} stops start-up with a line naming SERVER_API_KEYS and never the key`, () => {
      assert.throws(
        () => loadConfig({ NODE_ENV: "test", SERVER_API_KEYS: value }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          const text = error.problems.join("\n");
          assert.match(text, /^SERVER_API_KEYS: /m);
          assert.match(text, message);
          assert.ok(!text.includes(BADGE) && !text.includes(SYNC) && !text.includes("short"), text);
          return true;
        },
      );
    });
  }

  test("SERVICE_API_KEY alone is one full-access key", () => {
    const config = loadConfig({ NODE_ENV: "test", SERVICE_API_KEY: FULL });
    assert.deepEqual(config.serverApiKeys, [{ name: "default", scopes: ["all"], key: FULL }]);
  });
});
