/**
 * Email digests (PROTOCOL v2.3: "never twice, also with several nodes") with two nodes on one
 * PostgreSQL database and one Redis, against one real SMTP server on loopback. Both nodes run the
 * digest job from their own hand-moved timers at the same moments; a second test runs the job's
 * work on both nodes at once past the job lock, as around a takeover, with both runs made to read
 * before either writes. Needs PostgreSQL and Redis itself, whatever TEST_CHAT_STORE says.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import {
  DIGEST_EVERY_MS,
  type DigestDeps,
  type DueListener,
  runDigests,
} from "../../src/chat/notifications/digests.js";
import { smtpMailer } from "../../src/chat/notifications/mailer.js";
import { Listeners } from "../../src/shared/listeners.js";
import type { AsyncChatStore } from "../../src/storage/async-chat-store.js";
import {
  MAIL_FROM,
  type MailCatcher,
  passMinutes,
  personMaker,
  startMailCatcher,
} from "../support/digest-harness.js";
import {
  ManualTimers,
  requireService,
  startServer,
  TEST_REDIS_URL,
  TestClock,
  type TestServer,
} from "../support/harness.js";
import { group, send } from "../support/rooms.js";

const skip = await requireService("postgres", "redis");

describe("email digests with two nodes on PostgreSQL", { skip }, () => {
  const clock = new TestClock();
  const timersA = new ManualTimers();
  const timersB = new ManualTimers();
  const makePerson = personMaker("n");
  let smtp: MailCatcher;
  let a: TestServer;
  let b: TestServer;
  /** every user the nodes' `notification` channel heard of, once per hearing */
  const heard: string[] = [];

  before(async () => {
    smtp = await startMailCatcher();
    const env = {
      ...smtp.env,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: `twc-digests-${randomUUID().slice(0, 8)}`,
    };
    a = await startServer({ store: "postgres", env, app: { now: clock.now, jobTimers: timersA } });
    b = await startServer({
      database: a.database ?? undefined,
      env,
      app: { now: clock.now, jobTimers: timersB },
    });
    for (const node of [a, b]) node.app.onNotificationDue.add((userId) => heard.push(userId));
  });
  after(async () => {
    await b?.close();
    await a?.close();
    await smtp?.close();
  });

  /** Users are all added on node a, and connected to the node given. */
  const person = (node: TestServer, name: string, email?: string) => makePerson(node, name, email, a);
  /** Lets `minutes` pass; at each minute both nodes' job turns come at the same moment. */
  const pass = (minutes: number) => passMinutes(clock, [timersA, timersB], minutes);
  const mailsTo = (address: string) => smtp.mailsTo(address);

  test("both nodes run the job every minute, and the user gets exactly one mail", async () => {
    const ann = await person(a, "Ann Sender");
    const bob = await person(b, "Bob Away", "bob.nodes@example.com");
    const roomId = (await group(ann, [bob], "Two nodes")).id;
    await send(ann.socket, roomId, "first on node a");
    await send(ann.socket, roomId, "second on node a");
    await pass(11);
    const sent = mailsTo("bob.nodes@example.com");
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.subject, "2 unread messages in TimeWise Chat");
    await pass(30);
    assert.equal(mailsTo("bob.nodes@example.com").length, 1, "never a second mail");
    assert.deepEqual(
      heard.filter((id) => id === bob.id),
      [bob.id],
      "the notification channel heard once",
    );
  });

  test("two runs at the same moment, past the job lock, send one mail and tell the webhook once", async () => {
    const ann = await person(a, "Ann Racer");
    const cleo = await person(b, "Cleo Away", "cleo.nodes@example.com");
    const dan = await person(a, "Dan Away", "dan.nodes@example.com");
    const roomId = (await group(ann, [cleo, dan], "Takeover")).id;
    await send(ann.socket, roomId, "during a takeover");
    clock.advance(11 * DIGEST_EVERY_MS);

    // both runs read what is due before either writes: the race a takeover can cause
    let read = 0;
    let bothRead: () => void = () => {};
    const barrier = new Promise<void>((resolve) => {
      bothRead = resolve;
    });
    // a class instance on PostgreSQL: its methods are bound, not spread
    const racing = (store: AsyncChatStore): DigestDeps["store"] => ({
      queueDigests: (marks, list, at) => store.queueDigests(marks, list, at),
      claimDigests: (now, holdUntil, limit) => store.claimDigests(now, holdUntil, limit),
      digestEntries: (ids) => store.digestEntries(ids),
      finishDigest: (id, at, outcome) => store.finishDigest(id, at, outcome),
      retryDigest: (id, nextTryAt) => store.retryDigest(id, nextTryAt),
      pruneDigests: (before) => store.pruneDigests(before),
      userNames: (ids) => store.userNames(ids),
      dueMessages: async (before, limit) => {
        const rows = await store.dueMessages(before, limit);
        if (++read === 2) bothRead();
        await barrier;
        return rows;
      },
    });
    const told: string[] = [];
    const onDue = new Listeners<Parameters<DueListener>>();
    onDue.add((userId) => told.push(userId));
    const mailer = smtpMailer(smtp.url, MAIL_FROM);
    const deps = (node: TestServer): DigestDeps => ({
      store: racing(node.app.store),
      directory: node.directory,
      send: mailer.send,
      publicUrl: "https://chat.example.com",
      now: clock.now,
      onDue,
    });
    try {
      const [one, two] = await Promise.all([runDigests(deps(a)), runDigests(deps(b))]);
      assert.equal(read, 2, "both runs read before writing");
      assert.equal(one.queued + two.queued, 2, "one digest each for Cleo and Dan, from one run or the other");
      assert.equal(one.sent + two.sent, 2);
    } finally {
      mailer.close();
    }
    assert.equal(mailsTo("cleo.nodes@example.com").length, 1);
    assert.equal(mailsTo("dan.nodes@example.com").length, 1);
    assert.deepEqual(told.sort(), [cleo.id, dan.id].sort(), "each user told once");
    await pass(30);
    assert.equal(mailsTo("cleo.nodes@example.com").length, 1, "the nodes' own jobs send nothing more");
    assert.equal(mailsTo("dan.nodes@example.com").length, 1);
  });
});
