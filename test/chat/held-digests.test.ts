/**
 * (v2.4) Email digests and the `notification` webhook wait for working hours: a real SMTP server
 * on loopback (smtp-server, mails parsed with mailparser) and a real webhook receiver. The app's
 * clock is a number the test sets and the digest job's turns are fired by hand, so "nothing at
 * 07:59, one mail at 08:00" is checked at exact instants, across a daylight-saving change too.
 * Runs on SQLite and, in `npm run test:postgres`, on PostgreSQL.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DIGEST_EVERY_MS } from "../../src/chat/notifications/digests.js";
import type { Message, WorkSchedule } from "../../src/protocol/index.js";
import { type MailCatcher, personMaker, startMailCatcher } from "../support/digest-harness.js";
import { ManualTimers, ok, startServer, type TestServer, until } from "../support/harness.js";
import { expectError, group, type Person } from "../support/rooms.js";
import { type Receiver, startReceiver } from "../support/webhook-receiver.js";

const KEY = "held-digests-test-service-key-0123456789";
const timers = new ManualTimers();
let at = 0;
let smtp: MailCatcher;
let server: TestServer;
let receiver: Receiver;
let n = 0;
/** what the `notification` webhook's listener heard, by user */
const due = new Map<string, number>();

const OFFICE: WorkSchedule = {
  timeZone: "Europe/Lisbon",
  weekly: {
    mon: [["08:00", "16:30"]],
    tue: [["08:00", "16:30"]],
    wed: [["08:00", "16:30"]],
    thu: [["08:00", "16:30"]],
    fri: [["08:00", "16:30"]],
  },
};

before(async () => {
  smtp = await startMailCatcher();
  receiver = await startReceiver();
  server = await startServer({
    env: {
      ...smtp.env,
      SERVICE_API_KEY: KEY,
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: "held-digests-webhook-secret-0123456789",
    },
    app: { now: () => at, jobTimers: timers },
  });
  server.app.onNotificationDue.add((userId) => due.set(userId, (due.get(userId) ?? 0) + 1));
});
after(async () => {
  await server?.close();
  await receiver?.close();
  await smtp?.close();
});

const makePerson = personMaker("h");
const person = (name: string, email?: string) => makePerson(server, name, email);

const api = (method: string, path: string, body: unknown) =>
  fetch(`${server.url}/api/server/${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

/** Sends as `sender` through the server API at the clock's time (no token to outlive a jump). */
async function post(sender: Person, roomId: string, body: string): Promise<Message> {
  n += 1;
  const res = await api("POST", "messages", { roomId, senderId: sender.id, body, clientId: `c${n}` });
  assert.equal(res.status, 201);
  return ((await res.json()) as { message: Message }).message;
}

/** Sets the clock to `iso` and runs one turn of the digest job there. */
async function runAt(iso: string): Promise<void> {
  at = Date.parse(iso);
  await timers.advance(DIGEST_EVERY_MS);
}

const mailsTo = (address: string) => smtp.mailsTo(address);

const notificationsFor = (userId: string) =>
  receiver.received
    .map(
      (h) => JSON.parse(h.body) as { type: string; data: { userId: string; messages: { body: string }[] } },
    )
    .filter((e) => e.type === "notification" && e.data.userId === userId);

test("across the weekend the clocks go forward, Friday evening's message is mailed at Monday 08:00 WEST", async () => {
  at = Date.parse("2026-03-27T18:00:00Z"); // Friday 18:00 in Lisbon (WET, UTC+0)
  const ann = await person("Ann Spring");
  const bob = await person("Bob Spring", "bob.spring@example.com");
  assert.equal((await api("PUT", `users/${bob.id}/schedule`, OFFICE)).status, 200);
  const roomId = (await group(ann, [bob], "Spring")).id;
  await post(ann, roomId, "for Monday");
  await runAt("2026-03-27T18:30:00Z");
  await runAt("2026-03-29T12:00:00Z");
  await runAt("2026-03-30T06:59:00Z"); // 07:59 WEST
  assert.equal(mailsTo("bob.spring@example.com").length, 0);
  assert.equal(due.get(bob.id), undefined);
  await runAt("2026-03-30T07:00:00Z"); // 08:00 WEST
  assert.equal(mailsTo("bob.spring@example.com").length, 1);
  assert.match(mailsTo("bob.spring@example.com")[0]!.text ?? "", /for Monday/);
});

test("a message at 19:00 sends nothing; at 08:00 the next day one mail and one webhook carry all", async () => {
  at = Date.parse("2026-12-07T18:55:00Z"); // Monday, Lisbon is UTC in winter
  const ann = await person("Ann Evening");
  const bob = await person("Bob Off", "bob.off@example.com");
  const dan = await person("Dan Always", "dan.always@example.com");
  assert.equal((await api("PUT", `users/${bob.id}/schedule`, OFFICE)).status, 200);
  const roomId = (await group(ann, [bob, dan], "Evening")).id;
  at = Date.parse("2026-12-07T19:00:00Z");
  // live delivery to an open session is unchanged
  const live = new Promise<Message>((resolve) => bob.socket.once("message:new", resolve));
  await post(ann, roomId, "shift swap?");
  assert.equal((await live).body, "shift swap?");
  at = Date.parse("2026-12-07T22:00:00Z");
  await post(ann, roomId, "anyone?");
  for (const when of [
    "2026-12-07T19:11:00Z",
    "2026-12-07T22:11:00Z",
    "2026-12-08T03:00:00Z",
    "2026-12-08T07:59:00Z",
  ]) {
    await runAt(when);
    assert.equal(mailsTo("bob.off@example.com").length, 0, `nothing at ${when}`);
    assert.equal(due.get(bob.id), undefined, `no webhook at ${when}`);
  }
  // someone without a schedule got theirs at 19:11, and once more for the 22:00 message
  assert.equal(mailsTo("dan.always@example.com").length, 2);
  await runAt("2026-12-08T08:00:00Z");
  const sent = mailsTo("bob.off@example.com");
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.subject, "2 unread messages in TimeWise Chat");
  assert.equal(due.get(bob.id), 1);
  await until(() => notificationsFor(bob.id).length === 1, 5000, "the notification webhook");
  assert.deepEqual(
    notificationsFor(bob.id)[0]!.data.messages.map((m) => m.body),
    ["shift swap?", "anyone?"],
  );
  await runAt("2026-12-08T08:30:00Z");
  assert.equal(mailsTo("bob.off@example.com").length, 1, "never twice");
  assert.equal(due.get(bob.id), 1);
});

test("quiet hours hold a digest until they end, in the user's own zone", async () => {
  at = Date.parse("2026-12-09T02:00:00Z"); // Tuesday 21:00 in Toronto (EST)
  const ann = await person("Ann Late");
  const cy = await person("Cy Quiet", "cy.quiet@example.com");
  await ok(cy.socket, "user:prefs:set", {
    quietHours: { timeZone: "America/Toronto", from: "21:30", to: "07:00" },
  });
  const roomId = (await group(ann, [cy], "Late")).id;
  await post(ann, roomId, "tomorrow is fine");
  at = Date.parse("2026-12-09T02:45:00Z");
  await post(ann, roomId, "really");
  // the first one came due at 21:10, before quiet hours: mailed then
  await runAt("2026-12-09T02:11:00Z");
  assert.equal(mailsTo("cy.quiet@example.com").length, 1);
  for (const when of ["2026-12-09T02:56:00Z", "2026-12-09T11:59:00Z"]) {
    await runAt(when);
    assert.equal(mailsTo("cy.quiet@example.com").length, 1, `nothing more at ${when}`);
  }
  await runAt("2026-12-09T12:00:00Z"); // 07:00 EST
  const sent = mailsTo("cy.quiet@example.com");
  assert.equal(sent.length, 2);
  assert.match(sent[1]!.text ?? "", /really/);
  assert.doesNotMatch(sent[1]!.text ?? "", /tomorrow is fine/);
});

test("an urgent message from a group's admin notifies at once, past working hours, and is listed", async () => {
  at = Date.parse("2026-12-10T20:00:00Z"); // Thursday evening in Lisbon
  const boss = await person("Boss Urgent");
  const gil = await person("Gil Off", "gil.off@example.com");
  const hal = await person("Hal Member", "hal.member@example.com");
  assert.equal((await api("PUT", `users/${gil.id}/schedule`, OFFICE)).status, 200);
  await ok(gil.socket, "user:prefs:set", { emailDelayMin: 60 });
  const roomId = (await group(boss, [gil, hal], "Site A")).id;
  // a member may not, nor anyone in a direct chat
  expectError(
    await hal.socket.emitWithAck("message:send", { roomId, body: "fire?", clientId: "u-hal", urgent: true }),
    "FORBIDDEN",
  );
  const direct = (await ok(boss.socket, "room:direct", { userId: gil.id })).room.id;
  expectError(
    await boss.socket.emitWithAck("message:send", {
      roomId: direct,
      body: "x",
      clientId: "u-d",
      urgent: true,
    }),
    "FORBIDDEN",
  );
  const { message } = await ok(boss.socket, "message:send", {
    roomId,
    body: "Gas leak at site A: do not come in tomorrow",
    clientId: "u-boss",
    urgent: true,
  });
  // no job turn: it goes at once, to gil outside his hours and past his 60-minute delay
  await until(() => mailsTo("gil.off@example.com").length === 1, 5000, "gil's urgent mail");
  await until(() => mailsTo("hal.member@example.com").length === 1, 5000, "hal's urgent mail");
  await until(() => notificationsFor(gil.id).length === 1, 5000, "gil's urgent webhook");
  assert.match(
    mailsTo("gil.off@example.com")[0]!.text ?? "",
    /Urgent, Site A, Boss Urgent, .*:\nGas leak at site A/,
  );
  assert.equal(mailsTo("boss.urgent@example.com").length, 0);
  // a repeat of the clientId notifies nobody again
  await ok(boss.socket, "message:send", { roomId, body: "again", clientId: "u-boss", urgent: true });
  const listed = (await (
    await fetch(`${server.url}/api/server/urgent?since=2026-12-10T00:00:00.000Z`, {
      headers: { authorization: `Bearer ${KEY}` },
    })
  ).json()) as { urgent: unknown[] };
  assert.deepEqual(listed.urgent, [
    { messageId: message.id, roomId, senderId: boss.id, at: "2026-12-10T20:00:00.000Z" },
  ]);
  const audit = (await (
    await fetch(`${server.url}/api/server/audit?since=2026-12-10T00:00:00.000Z`, {
      headers: { authorization: `Bearer ${KEY}` },
    })
  ).json()) as { entries: { action: string; target: string; details: unknown }[] };
  assert.deepEqual(
    audit.entries.filter((e) => e.action === "messages.urgent").map((e) => [e.target, e.details]),
    [[`room:${roomId}`, { messageId: message.id, senderId: boss.id }]],
  );
  // the digest job leaves it out: it was notified already
  await runAt("2026-12-11T08:00:00Z");
  await runAt("2026-12-11T09:30:00Z");
  assert.equal(mailsTo("gil.off@example.com").length, 1);
  assert.equal(mailsTo("hal.member@example.com").length, 1);
  assert.equal(notificationsFor(gil.id).length, 1);
});

test("the server API sends urgent messages as TimeWise or a user, whatever their role", async () => {
  at = Date.parse("2026-12-12T23:00:00Z"); // Saturday night
  const ivy = await person("Ivy Owner");
  const jo = await person("Jo Weekend", "jo.weekend@example.com");
  assert.equal((await api("PUT", `users/${jo.id}/schedule`, OFFICE)).status, 200);
  const roomId = (await group(ivy, [jo], "Weekend")).id;
  const res = await api("POST", "messages", {
    roomId,
    body: "Storm: site closed Monday",
    clientId: "sys-1",
    urgent: true,
  });
  assert.equal(res.status, 201);
  await until(() => mailsTo("jo.weekend@example.com").length === 1, 5000, "jo's urgent mail");
  assert.match(mailsTo("jo.weekend@example.com")[0]!.text ?? "", /Urgent, Weekend, TimeWise, .*:\nStorm/);
  const asJo = await api("POST", "messages", {
    roomId,
    senderId: jo.id,
    body: "noted",
    clientId: "jo-1",
    urgent: true,
  });
  assert.equal(asJo.status, 201, "a plain member, through the server API");
  // ivy heard of both: TimeWise's and jo's
  await until(() => notificationsFor(ivy.id).length === 2, 5000, "ivy's urgent webhooks");
  assert.deepEqual(
    notificationsFor(ivy.id).map((e) => e.data.messages.map((m) => m.body)),
    [["Storm: site closed Monday"], ["noted"]],
  );
});

test("a digest still waiting when the working day ends goes out with what came later, as one mail", async () => {
  at = Date.parse("2026-12-14T16:00:00Z"); // Monday 16:00 in Lisbon
  const ann = await person("Ann Late Mail");
  const kim = await person("Kim Retry", "kim.retry@example.com");
  assert.equal((await api("PUT", `users/${kim.id}/schedule`, OFFICE)).status, 200);
  const roomId = (await group(ann, [kim], "Retry")).id;
  await post(ann, roomId, "before the end of the day");
  smtp.refusing = true;
  try {
    // made at 16:11, then the mail server turns it away until after 16:30, when kim is off
    for (const when of ["2026-12-14T16:11:00Z", "2026-12-14T16:13:00Z", "2026-12-14T16:31:00Z"]) {
      await runAt(when);
    }
  } finally {
    smtp.refusing = false;
  }
  await runAt("2026-12-14T16:40:00Z");
  assert.equal(mailsTo("kim.retry@example.com").length, 0, "nothing once the mail server is back");
  at = Date.parse("2026-12-14T17:00:00Z");
  await post(ann, roomId, "after hours");
  for (const when of ["2026-12-14T17:11:00Z", "2026-12-15T07:59:00Z"]) {
    await runAt(when);
    assert.equal(mailsTo("kim.retry@example.com").length, 0, `nothing at ${when}`);
  }
  await runAt("2026-12-15T08:00:00Z");
  const sent = mailsTo("kim.retry@example.com");
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.subject, "2 unread messages in TimeWise Chat");
  assert.match(sent[0]!.text ?? "", /before the end of the day[\s\S]*after hours/);
  await runAt("2026-12-15T08:30:00Z");
  assert.equal(mailsTo("kim.retry@example.com").length, 1, "never twice");
});
