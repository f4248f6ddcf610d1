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
