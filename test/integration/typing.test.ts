/**
 * typing: other members see it, none of the typer's own sockets do, an optional ack answers
 * { ok: true }, and the server ends a typing indicator itself 6 s after the last `typing: true`.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { LIMITS } from "../../src/protocol/index.js";
import { collect, request, sleep, startServer, type TestServer, waitFor } from "../support/harness.js";
import { expectError, group, MISSING_ID, person, settle } from "../support/rooms.js";

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.close();
});

test("typing reaches the other members and none of the typer's sockets", async () => {
  const a = await person(server);
  const a2 = await server.connect(a.user);
  const b = await person(server);
  const b2 = await server.connect(b.user);
  const c = await person(server);
  const room = await group(a, [b, c]);
  const echoes = [collect(a.socket, "typing"), collect(a2, "typing")];
  const arrivals = [b.socket, b2, c.socket].map((s) => waitFor(s, "typing", (p) => p.roomId === room.id));
  assert.deepEqual(await request(a.socket, "typing", { roomId: room.id, typing: true }), { ok: true });
  for (const got of await Promise.all(arrivals))
    assert.deepEqual(got, { roomId: room.id, userId: a.id, typing: true });

  const stopped = waitFor(b.socket, "typing", (p) => p.roomId === room.id && !p.typing);
  assert.deepEqual(await request(a.socket, "typing", { roomId: room.id, typing: false }), { ok: true });
  assert.deepEqual(await stopped, { roomId: room.id, userId: a.id, typing: false });
  await settle();
  assert.deepEqual(
    echoes.map((e) => e.length),
    [0, 0],
    "the typer's own sockets hear nothing",
  );
});

test("typing works without an ack callback", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  const seen = waitFor(b.socket, "typing", (p) => p.roomId === room.id && p.typing);
  a.socket.emit("typing", { roomId: room.id, typing: true });
  assert.deepEqual(await seen, { roomId: room.id, userId: a.id, typing: true });
});

test("typing in a room of other people is NOT_FOUND and reaches nobody", async () => {
  const a = await person(server);
  const b = await person(server);
  const outsider = await person(server);
  const room = await group(a, [b]);
  const heard = [collect(a.socket, "typing"), collect(b.socket, "typing")];
  expectError(await request(outsider.socket, "typing", { roomId: room.id, typing: true }), "NOT_FOUND");
  expectError(await request(outsider.socket, "typing", { roomId: MISSING_ID, typing: true }), "NOT_FOUND");
  await settle();
  assert.deepEqual(
    heard.map((h) => h.length),
    [0, 0],
  );
});

test("the server sends typing: false itself about 6 s after the last typing: true", {
  timeout: 20_000,
}, async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  const first = waitFor(b.socket, "typing", (p) => p.typing);
  a.socket.emit("typing", { roomId: room.id, typing: true });
  await first;
  const falses = collect(b.socket, "typing");
  // Renewing after 2 s must push the automatic stop back; nothing may stop it meanwhile.
  await sleep(2000);
  assert.equal(falses.length, 0, "no typing: false while the user keeps typing");
  const lastTrue = Date.now();
  assert.deepEqual(await request(a.socket, "typing", { roomId: room.id, typing: true }), { ok: true });
  const stopped = await waitFor(b.socket, "typing", (p) => !p.typing, 9000);
  const after = Date.now() - lastTrue;
  assert.deepEqual(stopped, { roomId: room.id, userId: a.id, typing: false });
  assert.ok(after >= LIMITS.typingTimeoutMs - 1000, `stopped ${after} ms after the last typing: true`);
  assert.ok(after <= 9000, `stopped ${after} ms after the last typing: true`);
  assert.equal(falses.filter((p) => !p.typing).length, 1, "one automatic typing: false");
});

test("an explicit typing: false is not followed by an automatic one", { timeout: 15_000 }, async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  const started = waitFor(b.socket, "typing", (p) => p.typing);
  a.socket.emit("typing", { roomId: room.id, typing: true });
  await started;
  const stopped = waitFor(b.socket, "typing", (p) => !p.typing);
  a.socket.emit("typing", { roomId: room.id, typing: false });
  await stopped;
  const later = collect(b.socket, "typing");
  await sleep(LIMITS.typingTimeoutMs + 1000);
  assert.deepEqual(later, [], "the automatic stop was cancelled");
});

test("a typer who disconnects stops typing for the others", { timeout: 15_000 }, async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  const started = waitFor(b.socket, "typing", (p) => p.typing);
  a.socket.emit("typing", { roomId: room.id, typing: true });
  await started;
  const stopped = waitFor(b.socket, "typing", (p) => !p.typing && p.userId === a.id, 9000);
  a.socket.disconnect();
  assert.deepEqual(await stopped, { roomId: room.id, userId: a.id, typing: false });
});
