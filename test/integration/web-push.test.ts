/**
 * Web Push end to end (PROTOCOL v2.3): the real server with a loopback push service that decrypts
 * every push with the browser's keys. A member the message notifies and who has no visible tab
 * gets it; a visible tab, their own message, a muted room or `push: false` keep it away; a
 * subscription the service answers 410 for is removed; the subscription routes check who asks and
 * what they send. Runs on SQLite and, in `npm run test:postgres`, on PostgreSQL.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ok, request, startServer, type TestServer } from "../support/harness.js";
import { type PushService, startPushService, type TestBrowser } from "../support/push-service.js";
import { group, type Person, send } from "../support/rooms.js";

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

let people = 0;
/** A connected user; their socket says nothing about visibility unless the test makes it. */
async function member(name = "Member"): Promise<Person & { token: string }> {
  people += 1;
  const user = await server.addUser(`${name} ${people}`);
  const token = await server.token(user.id);
  return { id: user.id, user, token, socket: await server.connect({ token }) };
}

function call(method: string, path: string, token: string | null, body?: unknown, type = "application/json") {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = type;
  return fetch(`${server.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function subscribe(person: { token: string }, name: string): Promise<TestBrowser> {
  const browser = push.browser(name);
  const res = await call("POST", "/api/push/subscriptions", person.token, browser.subscription);
  assert.equal(res.status, 201, await res.text());
  return browser;
}

/** Every push decided so far has gone out (or was decided against). */
const settled = () => server.app.pushSettled();

describe("who gets a push", () => {
  test("a member with no visible tab gets the message, encrypted for their browser", async () => {
    const [ann, bob] = [await member("Ann"), await member("Bob")];
    const room = await group(ann, [bob], "Night shift");
    const bobs = await subscribe(bob, "bob-laptop");
    const message = await send(ann.socket, room.id, "  The truck is here ☕  ");
    await settled();
    assert.deepEqual(bobs.pushes(), [
      {
        roomId: room.id,
        messageId: message.id,
        title: `${ann.user.name} in Night shift`,
        body: "The truck is here ☕",
        url: `/#room=${room.id}`,
      },
    ]);
    // signed with the key the routes hand out
    const { publicKey } = (await (await call("GET", "/api/push/key", bob.token)).json()) as {
      publicKey: string;
    };
    const last = push.received.at(-1)!;
    assert.match(String(last.headers.authorization), new RegExp(`, k=${publicKey}$`));
  });

  test("in a direct chat the title is the sender; every browser of the member gets it", async () => {
    const [ann, bob] = [await member("Ann"), await member("Bob")];
    const { room } = await ok(ann.socket, "room:direct", { userId: bob.id });
    const phone = await subscribe(bob, "bob-phone-direct");
    const laptop = await subscribe(bob, "bob-laptop-direct");
    await send(ann.socket, room.id, "hi");
    await settled();
    for (const browser of [phone, laptop]) {
      assert.deepEqual(
        browser.pushes().map((p) => (p as { title: string }).title),
        [ann.user.name],
      );
    }
  });

  test("a member with a visible tab gets none, until the tab is hidden or closed", async () => {
    const [ann, bob] = [await member("Ann"), await member("Bob")];
    const room = await group(ann, [bob], "Visible");
    const bobs = await subscribe(bob, "bob-visible");
    await ok(bob.socket, "presence:visibility", { visible: true });
    // a second, background tab says nothing and does not matter
    await server.connect({ token: bob.token });
    await send(ann.socket, room.id, "seen live");
    await settled();
    assert.deepEqual(bobs.pushes(), []);

    await ok(bob.socket, "presence:visibility", { visible: false });
    await send(ann.socket, room.id, "hidden now");
    await settled();
    assert.deepEqual(
      bobs.pushes().map((p) => (p as { body: string }).body),
      ["hidden now"],
    );

    await ok(bob.socket, "presence:visibility", { visible: true });
    await send(ann.socket, room.id, "visible again");
    await settled();
    assert.equal(bobs.pushes().length, 1);
    const gone = new Promise((resolve) => bob.socket.once("disconnect", resolve));
    bob.socket.disconnect();
    await gone;
    // the server hears the disconnect a moment later: the next push is the proof it did
    let bodies: string[] = [];
    for (let i = 0; i < 50 && !bodies.includes("tab closed"); i++) {
      await send(ann.socket, room.id, "tab closed");
      await settled();
      bodies = bobs.pushes().map((p) => (p as { body: string }).body);
    }
    assert.ok(bodies.includes("tab closed"), "a closed tab keeps pushes away");
  });

  test("their own messages, a muted room and push: false send nothing", async () => {
    const [ann, bob, cat] = [await member("Ann"), await member("Bob"), await member("Cat")];
    const room = await group(ann, [bob, cat], "Quiet");
    const anns = await subscribe(ann, "ann-own");
    const bobs = await subscribe(bob, "bob-muted");
    const cats = await subscribe(cat, "cat-nopush");
    await ok(bob.socket, "room:notify", { roomId: room.id, notify: "none" });
    await ok(cat.socket, "user:prefs:set", { push: false });
    await send(ann.socket, room.id, `@${bob.user.login} @${cat.user.login} nobody hears this`);
    await settled();
    assert.deepEqual([anns.pushes(), bobs.pushes(), cats.pushes()], [[], [], []]);
  });

  test("a room set to mentions pushes only the messages that mention them, also when an edit adds it", async () => {
    const [ann, bob] = [await member("Ann"), await member("Bob")];
    const room = await group(ann, [bob], "Mentions");
    const bobs = await subscribe(bob, "bob-mentions");
    await ok(bob.socket, "room:notify", { roomId: room.id, notify: "mentions" });
    const plain = await send(ann.socket, room.id, "nothing for bob");
    const mention = await send(ann.socket, room.id, `@${bob.user.login} look`);
    await settled();
    assert.deepEqual(
      bobs.pushes().map((p) => (p as { body: string }).body),
      [`@${bob.user.login} look`],
    );
    await ok(ann.socket, "message:edit", { messageId: plain.id, body: `now for @${bob.user.login}` });
    await settled();
    assert.deepEqual(
      bobs.pushes().map((p) => (p as { messageId: string }).messageId),
      [mention.id, plain.id],
    );
  });

  test("a subscription the push service answers 410 for is removed and gets nothing more", async () => {
    const [ann, bob] = [await member("Ann"), await member("Bob")];
    const room = await group(ann, [bob], "Gone");
    await subscribe(bob, "bob-gone");
    const before = push.received.length;
    push.answers.push(410);
    await send(ann.socket, room.id, "first");
    await settled();
    assert.equal(push.received.length, before + 1);
    assert.deepEqual(await server.app.store.pushSubscriptionsOf([bob.id]), []);
    await send(ann.socket, room.id, "second");
    await settled();
    assert.equal(push.received.length, before + 1);
  });
});

describe("the subscription routes", () => {
  test("GET /api/push/key answers the VAPID public key to a signed-in user only", async () => {
    const ann = await member();
    const res = await call("GET", "/api/push/key", ann.token);
    assert.equal(res.status, 200);
    const { publicKey } = (await res.json()) as { publicKey: string };
    assert.equal(Buffer.from(publicKey, "base64url").length, 65);
    assert.equal((await call("GET", "/api/push/key", null)).status, 401);
    assert.equal((await call("GET", "/api/push/key", "not-a-token")).status, 401);
  });

  test("a bad subscription is a 400 that names the field, and stores nothing", async () => {
    const ann = await member();
    const good = push.browser("ann-bad").subscription;
    const cases: [unknown, string][] = [
      [{ ...good, endpoint: "http://push.example.com/x" }, "endpoint"],
      [{ ...good, endpoint: "not a url" }, "endpoint"],
      [{ ...good, endpoint: `https://push.example.com/${"x".repeat(3000)}` }, "endpoint"],
      [{ ...good, keys: { ...good.keys, p256dh: "abc" } }, "keys.p256dh"],
      [{ ...good, keys: { ...good.keys, auth: "!!" } }, "keys.auth"],
      [{ endpoint: good.endpoint }, "keys"],
      [[], ""],
    ];
    for (const [body, field] of cases) {
      const res = await call("POST", "/api/push/subscriptions", ann.token, body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(error.code, "BAD_REQUEST");
      if (field) assert.ok(error.message.includes(`"${field}"`), error.message);
    }
    const notJson = await call("POST", "/api/push/subscriptions", ann.token, "{", "application/json");
    assert.equal(notJson.status, 400);
    const text = await call("POST", "/api/push/subscriptions", ann.token, "x", "text/plain");
    assert.equal(text.status, 400);
    const huge = await call("POST", "/api/push/subscriptions", ann.token, {
      ...good,
      pad: "x".repeat(10_000),
    });
    assert.equal(huge.status, 413);
    assert.equal((await call("POST", "/api/push/subscriptions", null, good)).status, 401);
    assert.deepEqual(await server.app.store.pushSubscriptionsOf([ann.id]), []);
  });

  test("DELETE removes the caller's own subscription only; another user's is not found", async () => {
    const [ann, bob] = [await member("Ann"), await member("Bob")];
    const anns = await subscribe(ann, "ann-delete");
    const endpoint = anns.subscription.endpoint;
    const bobTries = await call("DELETE", "/api/push/subscriptions", bob.token, { endpoint });
    assert.equal(bobTries.status, 404);
    assert.equal(((await bobTries.json()) as { error: { code: string } }).error.code, "NOT_FOUND");
    assert.equal((await server.app.store.pushSubscriptionsOf([ann.id])).length, 1);
    assert.equal((await call("DELETE", "/api/push/subscriptions", null, { endpoint })).status, 401);
    assert.equal((await call("DELETE", "/api/push/subscriptions", ann.token, { endpoint: "x" })).status, 400);
    const mine = await call("DELETE", "/api/push/subscriptions", ann.token, { endpoint });
    assert.equal(mine.status, 204);
    assert.equal(await mine.text(), "");
    assert.deepEqual(await server.app.store.pushSubscriptionsOf([ann.id]), []);
    assert.equal((await call("DELETE", "/api/push/subscriptions", ann.token, { endpoint })).status, 404);
  });

  test("a user may have 20 browsers; the 21st is a 409 until one is removed", async () => {
    const ann = await member();
    const browsers: TestBrowser[] = [];
    for (let i = 0; i < 20; i++) browsers.push(await subscribe(ann, `ann-many-${i}`));
    // the same browser again is fine: it only renews
    const again = await call("POST", "/api/push/subscriptions", ann.token, browsers[0]!.subscription);
    assert.equal(again.status, 201);
    const extra = push.browser("ann-many-20").subscription;
    const refused = await call("POST", "/api/push/subscriptions", ann.token, extra);
    assert.equal(refused.status, 409);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, "CONFLICT");
    const { endpoint } = browsers[5]!.subscription;
    assert.equal((await call("DELETE", "/api/push/subscriptions", ann.token, { endpoint })).status, 204);
    assert.equal((await call("POST", "/api/push/subscriptions", ann.token, extra)).status, 201);
  });

  test("presence:visibility takes a boolean only and answers BAD_REQUEST otherwise", async () => {
    const ann = await member();
    for (const payload of [{}, { visible: "yes" }, { visible: 1 }, null]) {
      const res = await request(ann.socket, "presence:visibility", payload as never);
      assert.equal(res.ok ? "ok" : res.error.code, "BAD_REQUEST", JSON.stringify(payload));
    }
    assert.ok((await request(ann.socket, "presence:visibility", { visible: true })).ok);
  });
});
