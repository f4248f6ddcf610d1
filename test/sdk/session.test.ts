/**
 * The SDK and the end of a session: with a token provider it hands the server a fresh token
 * shortly before the first one expires (so the connection is never ended), and after
 * `session:ended` it reconnects at once with a fresh token. The server's clock and the SDK's are
 * the test's; the server's check is run on demand, so nothing sleeps.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startServer, until } from "../support/harness.js";
import { sdkClient } from "../support/sdk.js";

test("with getToken the SDK refreshes before expiry, so the connection outlives its first token", async (t) => {
  let now = Date.now();
  const server = await startServer({ app: { now: () => now } });
  t.after(() => server.close());
  const ann = await server.addUser("Ann Sdk");
  const reasons: string[] = [];
  // 30 s tokens: less than the SDK's one-minute lead, so it refreshes right after connecting
  const client = await sdkClient(t, server, ann, {
    now: () => now,
    getToken: (reason) => {
      reasons.push(reason);
      return server.app.tokens.sign(ann.id, 30);
    },
  });
  await until(() => reasons.includes("refresh"), 5000, "a token refresh");
  const socketId = client.socket.id;
  now += 20_000;
  // With 30 s tokens the SDK refreshes again as soon as each refresh is answered, so a token signed
  // before the clock moved may be the last one accepted so far. Wait until the server holds one
  // made after it moved: that one outlives the next 20 s.
  const heldExpiry = async () =>
    (await server.app.io.fetchSockets()).map((s) => (s.data.token?.expiresAt ?? 0) * 1000);
  await until(
    async () => {
      const held = await heldExpiry();
      return held.length === 1 && held[0]! > now + 20_000;
    },
    5000,
    "a refresh made after the clock moved, accepted",
  );
  now += 20_000; // 40 s after the first token was made: it has expired, the refreshed ones have not
  await server.app.recheckNow();
  assert.equal(client.status, "online");
  assert.equal(client.socket.id, socketId, "the same connection, never ended");
  assert.deepEqual((await client.request("room:list", {})).rooms, [], "requests still work");
});

test("after session:ended the SDK reconnects at once with a fresh token", async (t) => {
  let now = Date.now();
  const server = await startServer({ app: { now: () => now } });
  t.after(() => server.close());
  const ann = await server.addUser("Ann Ended");
  const reasons: string[] = [];
  const ended: string[] = [];
  // a static first token without a provider-driven refresh: the SDK is only told at the end
  const client = await sdkClient(t, server, ann, {
    now: () => 0, // the SDK thinks expiry is far away: no refresh before it
    getToken: (reason) => {
      reasons.push(reason);
      return server.app.tokens.sign(ann.id, 60);
    },
  });
  client.on("session:ended", ({ code }) => ended.push(code));
  const first = client.socket.id;
  now += 120_000;
  await server.app.recheckNow();
  await until(() => client.status === "online" && client.socket.id !== first, 5000, "a new connection");
  assert.deepEqual(ended, ["AUTH_EXPIRED"]);
  assert.equal(reasons.at(-1), "refresh", "the new connection asked for a fresh token");
});
