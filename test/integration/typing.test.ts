/**
 * typing: other members see it, none of the typer's own sockets do, an optional ack answers
 * { ok: true }, and the server ends a typing indicator itself 6 s after the last `typing: true`.
 * The automatic stop runs on timers this file fires by hand, so no test waits 6 s; a request on
 * the listening socket is the barrier that shows nothing more is on its way to it.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { TypingTimers } from "../../src/chat/typing/service.js";
import { LIMITS } from "../../src/protocol/index.js";
import { collect, request, startServer, type TestServer, waitFor } from "../support/harness.js";
import { expectError, group, MISSING_ID, person, roundTrip } from "../support/rooms.js";

/** Timers that only fire when the test says so; `pending` holds those not yet fired or cancelled. */
class ManualTimers implements TypingTimers {
  readonly pending = new Map<number, { callback: () => void; ms: number }>();
  #next = 0;
  start(callback: () => void, ms: number): number {
    this.#next += 1;
    this.pending.set(this.#next, { callback, ms });
    return this.#next;
  }
  cancel(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Fires every pending timer, as if the timeout had passed. */
  fireAll(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const timer of due) timer.callback();
  }
}

const timers = new ManualTimers();
let server: TestServer;
before(async () => {
  server = await startServer({ app: { typingTimers: timers } });
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
  await roundTrip(a.socket, a2);
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
  await roundTrip(a.socket, b.socket);
  assert.deepEqual(
    heard.map((h) => h.length),
    [0, 0],
  );
});

test("the server sends typing: false itself 6 s after the last typing: true, and a renewal restarts the wait", async () => {
  timers.fireAll(); // ends the indicators earlier tests left running
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  const first = waitFor(b.socket, "typing", (p) => p.typing);
  assert.deepEqual(await request(a.socket, "typing", { roomId: room.id, typing: true }), { ok: true });
  assert.deepEqual(await first, { roomId: room.id, userId: a.id, typing: true });
  const heard = collect(b.socket, "typing");
  const started = [...timers.pending.keys()];
  assert.deepEqual(
    [...timers.pending.values()].map((t) => t.ms),
    [LIMITS.typingTimeoutMs],
  );
  // a renewal cancels the first stop and starts a fresh full wait, without a second typing: true
  assert.deepEqual(await request(a.socket, "typing", { roomId: room.id, typing: true }), { ok: true });
  assert.equal(
    started.some((id) => timers.pending.has(id)),
    false,
    "the first stop was cancelled",
  );
  assert.deepEqual(
    [...timers.pending.values()].map((t) => t.ms),
    [LIMITS.typingTimeoutMs],
  );
  await roundTrip(b.socket);
  assert.deepEqual(heard, [], "nothing more while the user keeps typing");
  timers.fireAll();
  await roundTrip(b.socket);
  assert.deepEqual(heard, [{ roomId: room.id, userId: a.id, typing: false }]);
});

test("an explicit typing: false is not followed by an automatic one", async () => {
  timers.fireAll(); // ends the indicators earlier tests left running
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  const started = waitFor(b.socket, "typing", (p) => p.typing);
  a.socket.emit("typing", { roomId: room.id, typing: true });
  assert.deepEqual(await started, { roomId: room.id, userId: a.id, typing: true });
  const stopped = waitFor(b.socket, "typing", (p) => !p.typing);
  assert.deepEqual(await request(a.socket, "typing", { roomId: room.id, typing: false }), { ok: true });
  assert.deepEqual(await stopped, { roomId: room.id, userId: a.id, typing: false });
  assert.equal(timers.pending.size, 0, "the automatic stop was cancelled");
  const later = collect(b.socket, "typing");
  timers.fireAll();
  await roundTrip(b.socket);
  assert.deepEqual(later, []);
});

test("a typer who disconnects stops typing for the others", async () => {
  const a = await person(server);
  const b = await person(server);
  const room = await group(a, [b]);
  const started = waitFor(b.socket, "typing", (p) => p.typing);
  a.socket.emit("typing", { roomId: room.id, typing: true });
  assert.deepEqual(await started, { roomId: room.id, userId: a.id, typing: true });
  const stopped = waitFor(b.socket, "typing", (p) => !p.typing && p.userId === a.id, 9000);
  a.socket.disconnect();
  assert.deepEqual(await stopped, { roomId: room.id, userId: a.id, typing: false });
});
