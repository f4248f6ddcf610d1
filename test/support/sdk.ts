/**
 * SDK clients for tests: real `ChatClient`s against a real test server, closed after the test.
 */
import type { TestContext } from "node:test";
import { ChatClient, type ChatClientOptions, MemoryStorage } from "../../src/sdk/index.js";
import type { TestServer, TestUser } from "./harness.js";

/**
 * A connected, caught-up SDK client for `user`. WebSocket only, to keep tests quick; the SDK's
 * default (polling first, then upgrade) is what browsers use and is covered by the browser tests.
 */
export async function sdkClient(
  t: TestContext,
  server: TestServer,
  user: TestUser,
  options: Partial<ChatClientOptions> = {},
): Promise<ChatClient> {
  const client = new ChatClient({
    url: server.url,
    getToken: () => server.token(user.id),
    storage: new MemoryStorage(),
    requestTimeoutMs: 5000,
    ...options,
    socketOptions: { transports: ["websocket"], ...options.socketOptions },
  });
  t.after(() => client.close());
  await client.ready();
  return client;
}

/**
 * Loses the next `count` `event`s on their way into `socket`, as a dropped packet or a node that
 * died before sending would: the SDK never hears of them. Resolves once they have been lost.
 */
export function loseIncoming(socket: ChatClient["socket"], event: string, count = 1): Promise<void> {
  // socket.io-client hands every incoming event to this (internal) method before any listener
  const inner = socket as unknown as { onevent(packet: { data?: unknown[] }): void };
  const original = inner.onevent;
  let left = count;
  return new Promise((resolve) => {
    inner.onevent = function (this: unknown, packet: { data?: unknown[] }) {
      if (left > 0 && packet.data?.[0] === event) {
        left -= 1;
        if (left === 0) {
          inner.onevent = original;
          resolve();
        }
        return;
      }
      original.call(this, packet);
    };
  });
}

/**
 * Answers the next request of `socket` with a retryable `UNAVAILABLE` in place of the server's
 * answer, as a busy server would. Resolves once it has.
 */
export function failNextAnswer(socket: ChatClient["socket"]): Promise<void> {
  const inner = socket as unknown as { onack(packet: { data?: unknown[] }): void };
  const original = inner.onack;
  return new Promise((resolve) => {
    inner.onack = function (this: unknown, packet: { data?: unknown[] }) {
      inner.onack = original;
      const busy = { ok: false, error: { code: "UNAVAILABLE", message: "Try again in a moment." } };
      original.call(this, { ...packet, data: [busy] });
      resolve();
    };
  });
}
