/**
 * (v2.3) The SDK's Web Push calls against a real server and the loopback push service: the key,
 * this browser's subscription saved and removed (errors as typed `ChatError`s), and `setVisible`,
 * which keeps pushes away and is said again after a reconnection.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ChatError } from "../../src/sdk/index.js";
import { startServer, type TestServer, until } from "../support/harness.js";
import { type PushService, startPushService } from "../support/push-service.js";
import { group, send } from "../support/rooms.js";
import { sdkClient } from "../support/sdk.js";

let server: TestServer;
let push: PushService;

before(async () => {
  push = await startPushService();
  server = await startServer({ app: { push: { agent: push.agent, retryDelaysMs: [] } } });
});
after(async () => {
  await server?.close();
  await push?.close();
});

test("pushKey, subscribePush and unsubscribePush call the routes and answer typed errors", async (t) => {
  const user = await server.addUser("Sdk Push");
  const client = await sdkClient(t, server, user);
  const key = await client.pushKey();
  assert.equal(Buffer.from(key, "base64url").length, 65);
  const browser = push.browser("sdk-one");
  await client.subscribePush(browser.subscription);
  assert.equal((await server.app.store.pushSubscriptionsOf([user.id])).length, 1);
  await assert.rejects(
    client.subscribePush({ ...browser.subscription, endpoint: "http://insecure.example.com/x" }),
    (error: unknown) => error instanceof ChatError && error.code === "BAD_REQUEST",
  );
  await client.unsubscribePush(browser.subscription.endpoint);
  assert.deepEqual(await server.app.store.pushSubscriptionsOf([user.id]), []);
  await assert.rejects(
    client.unsubscribePush(browser.subscription.endpoint),
    (error: unknown) => error instanceof ChatError && error.code === "NOT_FOUND",
  );
});

test("setVisible(true) keeps pushes away, also after a reconnection; setVisible(false) lets them through", async (t) => {
  const annUser = await server.addUser("Ann Sdk");
  const bobUser = await server.addUser("Bob Sdk");
  const ann = { id: annUser.id, user: annUser, socket: await server.connect(annUser) };
  const bob = await sdkClient(t, server, bobUser);
  const room = await group(ann, [{ id: bobUser.id }], "Sdk visible");
  const browser = push.browser("sdk-bob");
  await bob.subscribePush(browser.subscription);
  bob.setVisible(true);
  // the event has no ack: a request behind it on the same socket is answered after it
  await bob.request("user:prefs:get", {});
  await send(ann.socket, room.id, "while looking");
  await server.app.pushSettled();
  assert.deepEqual(browser.pushes(), []);

  let synced = false;
  const off = bob.on("synced", () => {
    synced = true;
  });
  bob.dropConnection();
  await until(() => synced && bob.status === "online", 5000, "the client to reconnect");
  off();
  await bob.request("user:prefs:get", {});
  await send(ann.socket, room.id, "after the reconnection");
  await server.app.pushSettled();
  assert.deepEqual(browser.pushes(), []);

  bob.setVisible(false);
  await bob.request("user:prefs:get", {});
  await send(ann.socket, room.id, "looked away");
  await server.app.pushSettled();
  assert.deepEqual(
    browser.pushes().map((p) => (p as { body: string }).body),
    ["looked away"],
  );
});
