/**
 * (v2.4) The daily retention run on two nodes that share a PostgreSQL chat database and an S3
 * bucket: at each turn exactly one node deletes the old messages (its
 * timewise_chat_messages_expired_total counts them all, the other's none), each tombstone gets one
 * new rev, each file's bytes are removed once, and a second turn deletes nothing. Time is moved by
 * hand: the app's clock (TestClock) and the job turns (ManualTimers) of both nodes. Always on
 * PostgreSQL (its advisory locks are what is tested), so not in `test:postgres`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { RETENTION_EVERY_MS } from "../../src/chat/retention/service.js";
import { hasBytes, postFile } from "../support/files.js";
import {
  ManualTimers,
  ok,
  requireService,
  startServer,
  TestClock,
  type TestServer,
  tempDir,
} from "../support/harness.js";
import { clientId, group, person, send } from "../support/rooms.js";
import { startS3, type TestS3 } from "../support/s3.js";

const skip = await requireService("postgres");
const DAY = 24 * 60 * 60 * 1000;

async function expiredCount(server: TestServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("timewise_chat_messages_expired_total "));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

describe("retention on two PostgreSQL nodes", { skip }, () => {
  let s3: TestS3;
  let scratch: { dir: string; remove(): void };
  let a: TestServer;
  let b: TestServer;
  const clock = new TestClock();
  const timers = new ManualTimers();

  before(async () => {
    s3 = await startS3();
    scratch = tempDir("twc-retention-nodes-");
    const shared = {
      store: "postgres" as const,
      sqlitePath: join(scratch.dir, "chat.db"),
      env: { ...s3.env, RETENTION_DAYS: "7" },
      app: { now: clock.now, jobTimers: timers },
    };
    a = await startServer(shared);
    b = await startServer(shared);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await s3?.close();
    scratch?.remove();
  });

  test("each turn one node deletes the old messages, each once", async () => {
    const ann = await person(a);
    const room = await group(ann, []);
    const upload = await postFile(a.url, `Bearer ${await a.token(ann.id)}`, new Uint8Array(30).fill(99));
    assert.equal(upload.status, 201);
    const key = (await a.app.store.file(upload.file!.id))!.storeKey;
    const sent = [
      (
        await ok(ann.socket, "message:send", {
          roomId: room.id,
          body: "with a file",
          clientId: clientId(),
          fileIds: [upload.file!.id],
        })
      ).message,
    ];
    for (let i = 0; i < 4; i++) sent.push(await send(ann.socket, room.id, `old ${i}`));
    const revBefore = (await a.app.store.room(room.id))!.rev;
    clock.advance(7 * DAY + 1);
    await timers.advance(RETENTION_EVERY_MS);

    const counts = [await expiredCount(a), await expiredCount(b)];
    assert.deepEqual([...counts].sort(), [0, 5], "one node deleted all five");
    const changes = await a.app.store.changes(room.id, revBefore, 100);
    assert.equal(changes.messages.length, 5);
    assert.ok(changes.messages.every((m) => m.deleted));
    assert.equal(changes.rev, revBefore + 5, "one new rev per tombstone: none deleted twice");
    assert.equal(await hasBytes(a.config.files.store, key), false);
    assert.ok(s3.removed.filter((k) => k === key).length <= 1, "the file removed once");

    await timers.advance(RETENTION_EVERY_MS);
    assert.deepEqual([await expiredCount(a), await expiredCount(b)], counts, "a second turn deletes nothing");
    assert.equal((await a.app.store.room(room.id))!.rev, revBefore + 5);
  });
});
