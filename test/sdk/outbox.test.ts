/**
 * The outbox: every message is stored exactly once and in order, across a connection dropped in
 * the middle of a burst, a lost acknowledgement, a page reload and a server restart.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Message } from "../../src/protocol/index.js";
import { ChatClient, ChatError, MemoryStorage } from "../../src/sdk/index.js";
import { collect, ok, startServer, type TestServer, until } from "../support/harness.js";
import { sdkClient } from "../support/sdk.js";

let server: TestServer;
before(async () => {
  server = await startServer({ env: { MAX_MESSAGE_LENGTH: "100" } });
});
after(async () => {
  await server?.close();
});

/** Every message of a room as the server has it, through another user's socket. */
async function stored(socket: Parameters<typeof ok>[0], roomId: string): Promise<Message[]> {
  return (await ok(socket, "message:history", { roomId, limit: 100 })).messages;
}

test("a burst of sends through a dropped connection and a lost ack is stored once each, in order", async (t) => {
  const alice = await server.addUser();
  const bob = await server.addUser();
  const a = await sdkClient(t, server, alice);
  const { room } = await a.request("room:direct", { userId: bob.id });
  await a.openRoom(room.id);
  const observer = await server.connect(bob);
  const seenByBob = collect(observer, "message:new");
  let sendsEmitted = 0;
  a.socket.onAnyOutgoing((event) => {
    if (event === "message:send") sendsEmitted += 1;
  });
  // The server broadcasts a message before it acks it, so dropping the connection the moment
  // Alice's own copy of message 5 arrives loses exactly that ack: the outbox must resend it.
  let dropped = false;
  a.on("message:new", (m) => {
    if (m.body === "burst 5" && !dropped) {
      dropped = true;
      a.socket.io.engine.close();
    }
  });

  const bodies = Array.from({ length: 20 }, (_, i) => `burst ${i + 1}`);
  const sends = bodies.map((body) => a.send(room.id, body));
  const acked = await Promise.all(sends);

  assert.ok(dropped, "the connection was dropped mid-burst");
  assert.ok(
    sendsEmitted > bodies.length,
    `the lost ack was resent (${sendsEmitted} sends for ${bodies.length})`,
  );
  assert.deepEqual(
    acked.map((m) => m.body),
    bodies,
  );
  const messages = await stored(observer, room.id);
  assert.deepEqual(
    messages.map((m) => m.body),
    bodies,
    "stored once each, in the order written",
  );
  assert.deepEqual(
    messages.map((m) => m.seq),
    bodies.map((_, i) => i + 1),
  );
  await until(() => seenByBob.length >= bodies.length, 5000, "Bob's copies");
  // a round trip on Bob's socket: any repeated broadcast would have arrived before its answer
  await ok(observer, "room:list", {});
  assert.deepEqual(
    seenByBob.map((m) => m.body),
    bodies,
    "Bob got each message once, in the order written",
  );
  await until(() => a.status === "online" && a.state.pending(room.id).length === 0);
  assert.deepEqual(
    a.state.messages(room.id).map((m) => m.body),
    bodies,
    "Alice's own view shows each message once",
  );
});

test("messages written while the server is down survive a reload and a restart, and are sent once", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "twc-outbox-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sqlitePath = join(dir, "chat.db");
  const first = await startServer({ sqlitePath });
  const alice = await first.addUser();
  const bob = await first.addUser();
  const storage = new MemoryStorage(); // the page's localStorage: it outlives the page
  const page1 = await sdkClient(t, first, alice, { storage });
  const { room } = await page1.request("room:direct", { userId: bob.id });
  await page1.send(room.id, "before the outage");

  await first.close();
  await until(() => page1.status === "offline", 5000, "the client to notice");
  const queued = ["one", "two", "three"].map((body) => page1.send(room.id, body).catch(() => null));
  assert.equal(page1.state.pending(room.id).length, 3, "shown as waiting right away");
  assert.equal(page1.state.pendingCount(), 3);
  page1.close(); // the page is reloaded before the server is back
  void queued;

  const second = await startServer({ sqlitePath, env: { CHAT_PORT: String(first.port) } });
  t.after(() => second.close());
  const page2 = new ChatClient({
    url: second.url,
    getToken: () => second.token(alice.id),
    storage,
    socketOptions: { transports: ["websocket"] },
  });
  t.after(() => page2.close());
  await page2.ready();
  await page2.openRoom(room.id);
  await until(() => page2.state.pendingCount() === 0, 5000, "the outbox to drain");
  const bobSocket = await second.connect(bob);
  assert.deepEqual(
    (await stored(bobSocket, room.id)).map((m) => m.body),
    ["before the outage", "one", "two", "three"],
  );
  assert.deepEqual(
    page2.state.messages(room.id).map((m) => m.body),
    ["before the outage", "one", "two", "three"],
  );
});

test("a message stored before a reload whose ack was lost is not sent or shown twice", async (t) => {
  const alice = await server.addUser();
  const bob = await server.addUser();
  const socket = await server.connect(alice);
  const { room } = await ok(socket, "room:direct", { userId: bob.id });
  // The earlier page sent it and the server stored it, but the page closed before the ack came.
  const clientId = "0123456789abcdef0123456789abcdef";
  await ok(socket, "message:send", { roomId: room.id, body: "sent once", clientId });
  const storage = new MemoryStorage();
  const key = `twc:outbox:v1:${new URL(server.url).host}:${alice.id}`;
  const item = {
    clientId,
    roomId: room.id,
    body: "sent once",
    replyToId: null,
    createdAt: new Date().toISOString(),
  };
  storage.setItem(key, JSON.stringify([{ ...item, state: "queued" }]));

  const page = await sdkClient(t, server, alice, { storage });
  await page.openRoom(room.id);
  assert.deepEqual(page.state.pending(room.id), [], "the stored copy hides the outbox entry");
  await until(() => page.state.pendingCount() === 0, 5000, "the outbox to drain");
  assert.equal(storage.getItem(key), null, "nothing left in storage");
  assert.deepEqual(
    (await stored(socket, room.id)).map((m) => m.clientId),
    [clientId],
  );
  assert.equal(page.state.messages(room.id).length, 1);
});

test("a message the server refuses for good stays as failed until it is discarded", async (t) => {
  const alice = await server.addUser();
  const bob = await server.addUser();
  const a = await sdkClient(t, server, alice);
  const { room } = await a.request("room:direct", { userId: bob.id });
  await assert.rejects(a.send(room.id, "x".repeat(101)), (error: unknown) => {
    assert.ok(error instanceof ChatError);
    assert.equal(error.code, "PAYLOAD_TOO_LARGE");
    return true;
  });
  const [failed] = a.state.pending(room.id);
  assert.equal(failed?.state, "failed");
  assert.equal(failed?.error?.code, "PAYLOAD_TOO_LARGE");
  assert.equal(a.state.pendingCount(), 0, "failed messages don't count as waiting");
  const next = await a.send(room.id, "short one");
  assert.equal(next.body, "short one", "a failed message does not block the ones after it");
  a.discard(failed?.clientId ?? "");
  assert.deepEqual(a.state.pending(room.id), []);
});
