/**
 * (v2.3) The Web Push subscriptions' contract at store level, run against both stores like
 * ack-records-contract.ts: a save adds or renews an endpoint, a user's count is capped, only the
 * owner removes their own, a gone endpoint is forgotten whoever owns it, and a second node sees
 * what the first wrote.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { AsyncChatStore } from "../../src/storage/async-chat-store.js";
import type { PushSubscriptionRecord } from "../../src/storage/push.js";
import type { OpenedStore } from "./chat-store-contract.js";

const AT = "2026-03-01T10:00:00.000Z";
const LATER = "2026-03-01T11:00:00.000Z";

const sub = (userId: string, n: number, at = AT): PushSubscriptionRecord => ({
  userId,
  endpoint: `https://push.example.com/${userId}/${n}`,
  p256dh: `key-${userId}-${n}`,
  auth: `auth-${userId}-${n}`,
  createdAt: at,
});

export function pushSubscriptionsContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`the ${name} store's push subscriptions`, () => {
    let opened: OpenedStore;
    let s: AsyncChatStore;
    before(async () => {
      opened = await open();
      s = opened.store;
    });
    after(() => opened?.dispose());

    test("a new endpoint is added, the same one again is renewed with its new keys", async () => {
      assert.equal(await s.savePushSubscription(sub("p1", 1), 5), "added");
      assert.equal(await s.savePushSubscription(sub("p1", 2, LATER), 5), "added");
      const renewed = { ...sub("p1", 1, LATER), p256dh: "new-key", auth: "new-auth" };
      assert.equal(await s.savePushSubscription(renewed, 5), "renewed");
      // renewing keeps the first time, so the list stays in the order of subscribing
      assert.deepEqual(await s.pushSubscriptionsOf(["p1", "nobody"]), [
        { ...sub("p1", 1), p256dh: "new-key", auth: "new-auth" },
        sub("p1", 2, LATER),
      ]);
      assert.deepEqual(await s.pushSubscriptionsOf([]), []);
    });

    test("a user at the limit can renew an endpoint but not add one", async () => {
      assert.equal(await s.savePushSubscription(sub("p2", 1), 2), "added");
      assert.equal(await s.savePushSubscription(sub("p2", 2), 2), "added");
      assert.equal(await s.savePushSubscription(sub("p2", 3), 2), "full");
      assert.equal(await s.savePushSubscription(sub("p2", 2), 2), "renewed");
      assert.deepEqual(
        (await s.pushSubscriptionsOf(["p2"])).map((r) => r.endpoint),
        [sub("p2", 1).endpoint, sub("p2", 2).endpoint],
      );
    });

    test("an endpoint subscribed by another user moves to them", async () => {
      await s.savePushSubscription(sub("p3", 1), 5);
      assert.equal(await s.savePushSubscription({ ...sub("p3", 1), userId: "p4" }, 5), "renewed");
      assert.deepEqual(await s.pushSubscriptionsOf(["p3"]), []);
      assert.deepEqual(
        (await s.pushSubscriptionsOf(["p4"])).map((r) => r.userId),
        ["p4"],
      );
    });

    test("only the owner removes their subscription; a gone endpoint is forgotten for anyone", async () => {
      await s.savePushSubscription(sub("p5", 1), 5);
      await s.savePushSubscription(sub("p5", 2), 5);
      assert.equal(await s.removePushSubscription("p6", sub("p5", 1).endpoint), false);
      assert.equal(await s.removePushSubscription("p5", sub("p5", 1).endpoint), true);
      assert.equal(await s.removePushSubscription("p5", sub("p5", 1).endpoint), false);
      await s.forgetPushSubscription(sub("p5", 2).endpoint);
      await s.forgetPushSubscription("https://push.example.com/never");
      assert.deepEqual(await s.pushSubscriptionsOf(["p5"]), []);
    });

    test("another node sees the subscriptions this one saved", async () => {
      await s.savePushSubscription(sub("p7", 1), 5);
      const other = await opened.another();
      assert.deepEqual(await other.pushSubscriptionsOf(["p7"]), [sub("p7", 1)]);
    });
  });
}
