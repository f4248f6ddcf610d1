/**
 * The clean-up of files on two nodes that share a PostgreSQL chat database and an S3 bucket (a
 * real S3-protocol server on loopback): at each turn exactly one node removes the expired uploads,
 * each object is removed once (the S3 service's own event notifications count them), a second
 * turn removes nothing, and when the node that ran closes, the other takes the job over. Time is
 * moved by hand: the app's clock (TestClock) and the job turns (ManualTimers) of both nodes.
 * Always on PostgreSQL (the advisory locks are what is tested), so not in `test:postgres`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { FILE_CLEANUP_EVERY_MS, UNATTACHED_TTL_MS } from "../../src/chat/files/cleanup.js";
import { hasBytes, postFile } from "../support/files.js";
import {
  ManualTimers,
  requireService,
  startServer,
  TestClock,
  type TestServer,
  type TestUser,
  tempDir,
} from "../support/harness.js";
import { startS3, type TestS3 } from "../support/s3.js";

const skip = await requireService("postgres");

async function removedCount(server: TestServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text
    .split("\n")
    .find((l) => l.startsWith('timewise_chat_files_removed_total{reason="unattached"}'));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

describe("the clean-up of files on two PostgreSQL nodes", { skip }, () => {
  let s3: TestS3;
  let scratch: { dir: string; remove(): void };
  let a: TestServer;
  let b: TestServer;
  let user: TestUser;
  const clock = new TestClock();
  const timers = new ManualTimers();

  before(async () => {
    s3 = await startS3();
    scratch = tempDir("twc-cleanup-nodes-");
    // one SQLite path: the same built-in users and (on PostgreSQL) the same chat database
    const shared = {
      store: "postgres" as const,
      sqlitePath: join(scratch.dir, "chat.db"),
      env: s3.env,
      app: { now: clock.now, jobTimers: timers },
    };
    a = await startServer(shared);
    b = await startServer(shared);
    user = await a.addUser("Uploader");
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await s3?.close();
    scratch?.remove();
  });

  const upload = async (node: TestServer): Promise<string> => {
    const answer = await postFile(
      node.url,
      `Bearer ${await node.token(user.id)}`,
      new Uint8Array(50).fill(98),
    );
    assert.equal(answer.status, 201, JSON.stringify(answer.error));
    return (await node.app.store.file(answer.file!.id))!.storeKey;
  };

  test("each turn one node removes the expired uploads, each object exactly once", async () => {
    const keys = [await upload(a), await upload(b), await upload(a), await upload(b)];
    for (const key of keys) assert.equal(await hasBytes(a.config.files.store, key), true);
    clock.advance(UNATTACHED_TTL_MS);
    await timers.advance(FILE_CLEANUP_EVERY_MS);

    assert.deepEqual([...s3.removed].sort(), [...keys].sort(), "every object removed, none twice");
    const counts = [await removedCount(a), await removedCount(b)];
    assert.deepEqual([...counts].sort(), [0, 4], "one node did all of it");
    for (const key of keys) assert.equal(await hasBytes(a.config.files.store, key), false);
    assert.equal(await a.app.store.fileBytesOf(user.id), 0);

    await timers.advance(FILE_CLEANUP_EVERY_MS);
    assert.equal(s3.removed.length, 4, "a second turn removes nothing");
    assert.deepEqual([await removedCount(a), await removedCount(b)], counts);
  });

  test("when the node that ran the clean-up closes, the other runs it at the next turn", async () => {
    const ran = (await removedCount(a)) > 0 ? a : b;
    const other = ran === a ? b : a;
    const before = await removedCount(other);
    const key = await upload(other);
    await ran.close();
    clock.advance(UNATTACHED_TTL_MS);
    await timers.advance(FILE_CLEANUP_EVERY_MS);
    assert.equal(await removedCount(other), before + 1);
    assert.deepEqual(s3.removed.slice(4), [key]);
  });
});
