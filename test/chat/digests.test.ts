/**
 * Email digests (PROTOCOL v2.3) against a real SMTP server on loopback (smtp-server), each mail
 * parsed with mailparser: the delay, one mail for many messages, nothing for read or deleted
 * messages, muted rooms or disabled users, an SMTP outage (sent once it is back), and a digest
 * pending across a restart, and sent digests deleted after 30 days. Time is moved by hand: the app's clock and the job's turns. Runs on
 * SQLite and, in `npm run test:postgres`, on PostgreSQL.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import pg from "pg";
import { KEEP_SENT_DAYS } from "../../src/chat/notifications/digests.js";
import { type MailCatcher, passMinutes, personMaker, startMailCatcher } from "../support/digest-harness.js";
import { ManualTimers, ok, startServer, TestClock, type TestServer, tempDir } from "../support/harness.js";
import { group, type Person, send } from "../support/rooms.js";

const clock = new TestClock();
const timers = new ManualTimers();
const scratch = tempDir("twc-digests-");
const person = personMaker("u");
let smtp: MailCatcher;
let server: TestServer;
let ann: Person;
let bob: Person;

async function start(): Promise<TestServer> {
  return startServer({
    sqlitePath: join(scratch.dir, "chat.db"),
    env: smtp.env,
    app: { now: clock.now, jobTimers: timers },
  });
}

/** Lets `minutes` pass and runs the job's turns on the way. */
const pass = (minutes: number) => passMinutes(clock, [timers], minutes);
const mailsTo = (address: string) => smtp.mailsTo(address);

before(async () => {
  smtp = await startMailCatcher();
  server = await start();
  ann = await person(server, "Ann Sender");
  bob = await person(server, "Bob Away", "bob@example.com");
});
after(async () => {
  await server?.close();
  await smtp?.close();
  scratch.remove();
});

test("unread messages go out as one digest after the user's delay, not before", async () => {
  const roomId = (await group(ann, [bob], "Planning")).id;
  await send(ann.socket, roomId, "first point");
  await send(ann.socket, roomId, "second <point>");
  await pass(9);
  assert.equal(mailsTo("bob@example.com").length, 0, "nothing before the 10 minutes");
  await pass(2);
  const sent = mailsTo("bob@example.com");
  assert.equal(sent.length, 1);
  const mail = sent[0]!;
  assert.equal(mail.subject, "2 unread messages in TimeWise Chat");
  assert.match(
    mail.text ?? "",
    /Planning, Ann Sender, .*:\nfirst point\nhttps:\/\/chat\.example\.com\/#room=/,
  );
  assert.match(mail.text ?? "", /second <point>/);
  assert.match(String(mail.html), /second &#60;point&#62;/);
  await pass(30);
  assert.equal(mailsTo("bob@example.com").length, 1, "never twice");
});

test("read and deleted messages and muted rooms are left out; nothing at all when all are", async () => {
  const carl = await person(server, "Carl Reader", "carl@example.com");
  const read = (await group(ann, [carl], "Read")).id;
  const muted = (await group(ann, [carl], "Muted")).id;
  const deleted = (await group(ann, [carl], "Deleted")).id;
  const message = await send(ann.socket, read, "read soon");
  await ok(carl.socket, "room:notify", { roomId: muted, notify: "none" });
  await send(ann.socket, muted, "muted");
  const gone = await send(ann.socket, deleted, "deleted soon");
  await ok(carl.socket, "room:read", { roomId: read, seq: message.seq });
  await ok(ann.socket, "message:delete", { messageId: gone.id });
  await pass(11);
  assert.equal(mailsTo("carl@example.com").length, 0);
});

test("a disabled user gets no digest", async () => {
  const dora = await person(server, "Dora Disabled", "dora@example.com");
  const roomId = (await group(ann, [dora], "Disabled")).id;
  await send(ann.socket, roomId, "for dora");
  server.builtin!.setActive(dora.id, false);
  await pass(11);
  assert.equal(mailsTo("dora@example.com").length, 0);
});

test("with the SMTP server down the digest is tried again, and sent once when it is back", async () => {
  const eve = await person(server, "Eve Patient", "eve@example.com");
  const roomId = (await group(ann, [eve], "Outage")).id;
  await send(ann.socket, roomId, "while down");
  smtp.refusing = true;
  await pass(15);
  assert.equal(mailsTo("eve@example.com").length, 0);
  smtp.refusing = false;
  await pass(60);
  assert.equal(mailsTo("eve@example.com").length, 1);
  await pass(60);
  assert.equal(mailsTo("eve@example.com").length, 1, "sent once");
});

test("a digest pending when the server stops is sent after the restart, once", async () => {
  const fay = await person(server, "Fay Restart", "fay@example.com");
  const roomId = (await group(ann, [fay], "Restart")).id;
  await send(ann.socket, roomId, "across a restart");
  smtp.refusing = true;
  await pass(11);
  assert.equal(mailsTo("fay@example.com").length, 0);
  await server.close();
  smtp.refusing = false;
  server = await start();
  ann = { ...ann, socket: await server.connect(ann.user) };
  await pass(10);
  const sent = mailsTo("fay@example.com");
  assert.equal(sent.length, 1);
  assert.match(sent[0]!.text ?? "", /across a restart/);
});

/** The digests in the chat database, straight from its tables: pending ones and sent ones. */
async function digestRows(): Promise<{ pending: number; sent: number; items: number }> {
  const sql = `SELECT
    (SELECT COUNT(*) FROM digests WHERE sent_at IS NULL) AS pending,
    (SELECT COUNT(*) FROM digests WHERE sent_at IS NOT NULL) AS sent,
    (SELECT COUNT(*) FROM digest_items) AS items`;
  type Row = { pending: number | string; sent: number | string; items: number | string };
  let row: Row;
  if (server.database) {
    const client = new pg.Client({ connectionString: server.database.url });
    await client.connect();
    try {
      row = (await client.query<Row>(sql)).rows[0]!;
    } finally {
      await client.end();
    }
  } else {
    row = server.db.prepare(sql).get() as Row;
  }
  return { pending: Number(row.pending), sent: Number(row.sent), items: Number(row.items) };
}

test("sent digests are deleted after 30 days with their items; a pending one stays until it is sent", async () => {
  const gus = await person(server, "Gus Later", "gus@example.com");
  const roomId = (await group(ann, [gus], "Clean-up")).id;
  await send(ann.socket, roomId, "kept while pending");
  smtp.refusing = true;
  await pass(11);
  const beforeJump = await digestRows();
  assert.ok(beforeJump.sent >= 3, "the earlier tests' digests went out");
  assert.equal(beforeJump.pending, 1, "Gus's digest waits for the SMTP server");

  clock.advance((KEEP_SENT_DAYS - 1) * 86_400_000);
  await pass(61);
  assert.equal((await digestRows()).sent, beforeJump.sent, "nothing is deleted before 30 days");

  clock.advance(2 * 86_400_000);
  await pass(61);
  assert.deepEqual(
    await digestRows(),
    { pending: 1, sent: 0, items: 1 },
    "only Gus's digest and its item are left",
  );

  smtp.refusing = false;
  await pass(61);
  assert.equal(mailsTo("gus@example.com").length, 1);
  assert.match(mailsTo("gus@example.com")[0]!.text ?? "", /kept while pending/);
  assert.deepEqual(await digestRows(), { pending: 0, sent: 1, items: 1 }, "a fresh sent digest is kept");
});
