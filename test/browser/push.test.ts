/**
 * Web Push in a real Chromium: the chat's page tells the server its tab is visible (no push while
 * it is open, one once it is closed), and the service worker at /sw.js registers, shows a pushed
 * message as a notification titled as the server sent it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { newPerson, signInWithPassword, useBrowser } from "../support/browser.js";
import { ok, startServer, until } from "../support/harness.js";
import { startPushService } from "../support/push-service.js";
import { group, send } from "../support/rooms.js";

const { skip, browser } = await useBrowser();

test("an open chat tab keeps pushes away; once it is closed they arrive", { skip }, async (t) => {
  const push = await startPushService();
  t.after(() => push.close());
  const server = await startServer({ app: { push: { agent: push.agent, retryDelaysMs: [] } } });
  t.after(() => server.close());
  const alice = await newPerson(t, browser(), server, "Alice Push");
  const bob = await server.addUser("Bob Push");
  const b = { id: bob.id, user: bob, socket: await server.connect(bob) };
  const room = await group(b, [{ id: alice.user.id }], "Pushes");
  const phone = push.browser("alice-phone");
  const saved = await fetch(`${server.url}/api/push/subscriptions`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${await server.token(alice.user.id)}`,
      "content-type": "application/json",
    },
    body: JSON.stringify(phone.subscription),
  });
  assert.equal(saved.status, 201);

  await signInWithPassword(alice, server);
  // the page said `visible: true` once connected: a message now sends no push
  let quiet = false;
  for (let i = 0; i < 50 && !quiet; i++) {
    const before = phone.pushes().length;
    await send(b.socket, room.id, `while open ${i}`);
    await server.app.pushSettled();
    quiet = phone.pushes().length === before;
  }
  assert.ok(quiet, "an open, visible tab keeps pushes away");
  const seen = phone.pushes().length;
  await send(b.socket, room.id, "still open");
  await server.app.pushSettled();
  assert.equal(phone.pushes().length, seen);

  await alice.page.close();
  await until(
    async () => {
      await send(b.socket, room.id, "after closing");
      await server.app.pushSettled();
      return phone.pushes().some((p) => (p as { body: string }).body === "after closing");
    },
    10_000,
    "a push once the tab is closed",
  );
  await ok(b.socket, "room:get", { roomId: room.id });
});

test("the service worker registers and shows a pushed message as a notification", { skip }, async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const alice = await newPerson(t, browser(), server, "Alice Worker");
  await alice.context.grantPermissions(["notifications"], { origin: server.url });
  await alice.page.goto(server.url);
  // a string: the test's own TypeScript has no DOM types
  const scope: string = await alice.page.evaluate(
    `navigator.serviceWorker.register("/sw.js").then(async (r) => { await navigator.serviceWorker.ready; return r.scope; })`,
  );
  assert.equal(scope, `${server.url}/`);
  const cdp = await alice.context.newCDPSession(alice.page);
  const registrationId = new Promise<string>((resolve) => {
    cdp.on("ServiceWorker.workerRegistrationUpdated", (event) => {
      const found = event.registrations.find((r) => r.scopeURL === `${server.url}/`);
      if (found) resolve(found.registrationId);
    });
  });
  await cdp.send("ServiceWorker.enable");
  const pushed = {
    roomId: "42",
    messageId: "7",
    title: "Bob in Ops",
    body: "The truck is here",
    url: "/#room=42",
  };
  await cdp.send("ServiceWorker.deliverPushMessage", {
    origin: server.url,
    registrationId: await registrationId,
    data: JSON.stringify(pushed),
  });
  let shown: { title: string; body: string; tag: string }[] = [];
  await until(
    async () => {
      shown = await alice.page.evaluate(
        "navigator.serviceWorker.ready.then(async (r) => (await r.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag })))",
      );
      return shown.length > 0;
    },
    10_000,
    "the notification",
  );
  assert.deepEqual(shown, [{ title: "Bob in Ops", body: "The truck is here", tag: "room-42" }]);
});
