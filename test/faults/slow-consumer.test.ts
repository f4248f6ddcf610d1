/**
 * A client that stops reading its socket while its busy room goes on: the server does not queue
 * for it without bound (src/realtime/outbound-limit.ts drops it once MAX_QUEUED_BYTES wait for
 * it), and the other members keep receiving everything. The slow client is a raw WebSocket that
 * speaks the Engine.IO/Socket.io protocol by hand, then stops reading its TCP socket.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { Socket as NetSocket } from "node:net";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { MAX_QUEUED_BYTES } from "../../src/realtime/outbound-limit.js";
import { collect, ok, startServer, type TestServer, until } from "../support/harness.js";
import { group, type Person, people } from "../support/rooms.js";

const BODY_LENGTH = 60_000;
const MESSAGES = 500; // 30 MB: more than the kernel's buffers and the cap together

/** Opens a raw Socket.io connection and resolves once its `session` event arrived. */
function rawClient(url: string, token: string): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no session on the raw socket")), 10_000);
    ws.on("error", reject);
    ws.on("message", (data: Buffer) => {
      const text = data.toString();
      if (text.startsWith("0"))
        ws.send(`40${JSON.stringify({ token })}`); // Engine.IO open → Socket.io connect
      else if (text === "2")
        ws.send("3"); // ping → pong
      else if (text.startsWith('42["session"')) {
        clearTimeout(timer);
        resolve(ws);
      } else if (text.startsWith("44")) reject(new Error(`refused: ${text}`));
    });
  });
}

/** The bytes (string lengths) each server-side connection has queued in Engine.IO right now. */
function queuedPerConnection(server: TestServer): number[] {
  return [...server.app.io.of("/").sockets.values()].map((socket) => {
    const buffer = (socket.conn as unknown as { writeBuffer?: { data?: unknown }[] }).writeBuffer ?? [];
    return buffer.reduce((sum, p) => sum + (typeof p.data === "string" ? p.data.length : 0), 0);
  });
}

describe("a client that stops reading in a busy room", () => {
  let server: TestServer;
  let slow: WebSocket | null = null;
  before(async () => {
    server = await startServer({
      env: { MAX_MESSAGE_LENGTH: String(BODY_LENGTH), RATE_LIMIT_MESSAGES: "100000" },
    });
  });
  after(async () => {
    slow?.terminate();
    await server?.close();
  });

  test("is dropped once its queue passes the cap, the server's memory stays bounded, and the others get everything", {
    timeout: 60_000,
  }, async () => {
    const [ann, ben] = (await people(server, 2, "Busy")) as [Person, Person];
    const stuck = await server.addUser("Stuck");
    const room = await group(ann, [ben, stuck]);

    slow = await rawClient(server.url, await server.token(stuck.id));
    let slowClosed = false;
    slow.on("close", () => {
      slowClosed = true;
    });
    slow.on("error", () => {});
    const stuckSocketIds = () =>
      [...server.app.io.of("/").sockets.values()].filter((s) => s.data.user.id === stuck.id).map((s) => s.id);
    assert.equal(stuckSocketIds().length, 1, "the raw client is connected");
    (slow as unknown as { _socket: NetSocket })._socket.pause(); // stops reading: the kernel buffers fill, then the server's

    const received = collect(ben.socket, "message:new");
    // the server's memory for a client is its queue (the test's own clients share this heap)
    let maxQueued = 0;
    const sample = setInterval(() => {
      maxQueued = Math.max(maxQueued, ...queuedPerConnection(server), 0);
    }, 20);
    try {
      const body = "x".repeat(BODY_LENGTH - 10);
      let next = 0;
      const sender = async () => {
        while (next < MESSAGES) {
          const i = next++;
          await ok(ann.socket, "message:send", {
            roomId: room.id,
            body: `${i} ${body}`,
            clientId: randomUUID(),
          });
        }
      };
      await Promise.all(Array.from({ length: 8 }, sender));
      await until(() => received.length === MESSAGES, 30_000, `Ben receives all ${MESSAGES} messages`);
      await until(
        () => stuckSocketIds().length === 0,
        10_000,
        "the server drops the client that does not read",
      );
    } finally {
      clearInterval(sample);
    }

    assert.deepEqual(
      received.map((m) => Number(m.body.split(" ")[0])),
      Array.from({ length: MESSAGES }, (_, i) => i),
      "Ben got every message, in order",
    );
    assert.ok(ann.socket.connected && ben.socket.connected, "the readers stay connected");
    assert.ok(
      maxQueued <= MAX_QUEUED_BYTES + 2 * BODY_LENGTH,
      `a connection queued ${maxQueued} bytes (cap ${MAX_QUEUED_BYTES})`,
    );
    process.stderr.write(
      `slow consumer: at most ${(maxQueued / 1e6).toFixed(1)} MB queued for one connection, ${(MESSAGES * BODY_LENGTH) / 1e6} MB sent\n`,
    );
    // the raw client's TCP connection is gone too (destroyed, not left to a 30 s close handshake)
    (slow as unknown as { _socket: NetSocket })._socket.resume();
    await until(() => slowClosed, 10_000, "the slow client's connection closes");
  });
});
