/**
 * Web Push with two nodes on one PostgreSQL database and one Redis: a tab visible on node A keeps
 * pushes away from a message sent on node B, hiding it lets them through, each message is pushed
 * exactly once (by the node that stored it), and both nodes sign with the one key kept in the
 * database.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { ok, requireService, startServer, TEST_REDIS_URL, type TestServer } from "../support/harness.js";
import { type PushService, startPushService } from "../support/push-service.js";
import { group, send } from "../support/rooms.js";

const skip = (await requireService("postgres")) || (await requireService("redis"));

describe("Web Push across two nodes", { skip }, () => {
  let push: PushService;
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    push = await startPushService();
    const env = { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: `twc-push-${randomUUID().slice(0, 8)}` };
    const app = { push: { agent: push.agent, retryDelaysMs: [] } };
    a = await startServer({ env, app, store: "postgres" });
    b = await startServer({ env, app, database: a.database ?? undefined });
  });
  after(async () => {
    await b?.close();
    await a?.close();
    await push?.close();
  });

  const settled = async () => {
    await a.app.pushSettled();
    await b.app.pushSettled();
  };

  test("both nodes hand out the same VAPID key", async () => {
    const user = await a.addUser("Key Reader");
    const keys = await Promise.all(
      [a, b].map(async (node) => {
        const res = await fetch(`${node.url}/api/push/key`, {
          headers: { authorization: `Bearer ${await node.token(user.id)}` },
        });
        return ((await res.json()) as { publicKey: string }).publicKey;
      }),
    );
    assert.equal(keys[0], keys[1]);
  });

  test("a tab visible on node A keeps away the push of a message sent on node B; each message is pushed once", async () => {
    const annUser = await a.addUser("Ann Nodes");
    const bobUser = await a.addUser("Bob Nodes");
    const ann = { id: annUser.id, user: annUser, socket: await b.connect(annUser) };
    const bobOnA = await a.connect(bobUser);
    const room = await group(ann, [{ id: bobUser.id }], "Across");
    const browser = push.browser("bob-across");
    const res = await fetch(`${a.url}/api/push/subscriptions`, {
      method: "POST",
      headers: { authorization: `Bearer ${await a.token(bobUser.id)}`, "content-type": "application/json" },
      body: JSON.stringify(browser.subscription),
    });
    assert.equal(res.status, 201);

    await ok(bobOnA, "presence:visibility", { visible: true });
    await send(ann.socket, room.id, "bob is looking");
    await settled();
    assert.deepEqual(browser.pushes(), []);

    await ok(bobOnA, "presence:visibility", { visible: false });
    const first = await send(ann.socket, room.id, "bob looked away");
    const second = await send(ann.socket, room.id, "and again");
    await settled();
    assert.deepEqual(
      // the two go out side by side: their order of arrival is not fixed
      browser
        .pushes()
        .map((p) => (p as { messageId: string }).messageId)
        .sort(),
      [first.id, second.id].sort(),
    );
  });
});
