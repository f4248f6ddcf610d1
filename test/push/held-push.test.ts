/**
 * (v2.4) Web Push and working hours: nothing is pushed to someone off work, and when their next
 * working period starts they get one push that sums up what was held, from the digest job (which
 * runs on one node at a time). The real server, a loopback push service that decrypts every
 * push, a clock the test sets, and the job's turns fired by hand. No SMTP server is set: the
 * summary does not depend on email. Runs on SQLite and, in `npm run test:postgres`, PostgreSQL.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DIGEST_EVERY_MS } from "../../src/chat/notifications/digests.js";
import type { WorkSchedule } from "../../src/protocol/index.js";
import { ManualTimers, startServer, type TestServer } from "../support/harness.js";
import { type PushService, startPushService } from "../support/push-service.js";
import { group, type Person } from "../support/rooms.js";
import { serverApiClient } from "../support/server-api-client.js";

const KEY = "held-push-test-service-key-0123456789";
const OFFICE: WorkSchedule = {
  timeZone: "Europe/Lisbon",
  weekly: Object.fromEntries(["mon", "tue", "wed", "thu", "fri"].map((day) => [day, [["08:00", "16:30"]]])),
};

const timers = new ManualTimers();
let at = Date.parse("2026-12-07T18:00:00Z"); // Monday 18:00 in Lisbon (UTC in winter)
let server: TestServer;
let push: PushService;

before(async () => {
  push = await startPushService();
  server = await startServer({
    env: { SERVICE_API_KEY: KEY },
    app: { now: () => at, jobTimers: timers, push: { agent: push.agent, retryDelaysMs: [] } },
  });
});
after(async () => {
  await server?.close();
  await push?.close();
});

const { call: api, post } = serverApiClient(() => server.url, KEY);

let n = 0;
async function person(name: string): Promise<Person & { token: string }> {
  n += 1;
  const user = await server.addUser(name, { login: `p${n}` });
  const token = await server.token(user.id);
  return { id: user.id, user, token, socket: await server.connect({ token }) };
}

/** Sets the clock to `iso`, runs one turn of the digest job there, and waits for its pushes. */
async function runAt(iso: string): Promise<void> {
  at = Date.parse(iso);
  await timers.advance(DIGEST_EVERY_MS);
  await server.app.pushSettled();
}

test("off work nothing is pushed; at 08:00 one push sums up what was held, and only that", async () => {
  const ann = await person("Ann Yard");
  const bob = await person("Bob Off");
  assert.equal((await api("PUT", `users/${bob.id}/schedule`, OFFICE)).status, 200);
  const browser = push.browser("bob-phone");
  const res = await fetch(`${server.url}/api/push/subscriptions`, {
    method: "POST",
    headers: { authorization: `Bearer ${bob.token}`, "content-type": "application/json" },
    body: JSON.stringify(browser.subscription),
  });
  assert.equal(res.status, 201);
  const yard = (await group(ann, [bob], "Yard")).id;
  const gate = (await group(ann, [bob], "Gate")).id;

  await post(ann, yard, "the truck is late");
  await post(ann, yard, "now it is here");
  at = Date.parse("2026-12-07T21:00:00Z");
  const last = await post(ann, gate, "gate code changed");
  await server.app.pushSettled();
  for (const when of ["2026-12-07T21:11:00Z", "2026-12-08T03:00:00Z", "2026-12-08T07:59:00Z"]) {
    await runAt(when);
    assert.deepEqual(browser.pushes(), [], `nothing at ${when}`);
  }

  await runAt("2026-12-08T08:00:00Z");
  assert.deepEqual(browser.pushes(), [
    {
      roomId: gate,
      messageId: last.id,
      title: "While you were away",
      body: "3 new messages in 2 chats",
      url: "/",
    },
  ]);
  await runAt("2026-12-08T08:30:00Z");
  assert.equal(browser.pushes().length, 1, "never twice");

  // at work: pushed when sent, and not summed up again when the digest job finds it due
  at = Date.parse("2026-12-08T09:00:00Z");
  await post(ann, yard, "thanks");
  await server.app.pushSettled();
  assert.deepEqual(
    browser.pushes().map((p) => (p as { body: string }).body),
    ["3 new messages in 2 chats", "thanks"],
  );
  await runAt("2026-12-08T09:11:00Z");
  assert.equal(browser.pushes().length, 2);
});
