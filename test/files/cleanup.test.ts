/**
 * The life of a file after its upload, on a real server with the disk store: deleting its message
 * removes its record and bytes and frees the uploader's quota; the clean-up job (driven by hand:
 * the app's clock moves with TestClock, the job's turns with ManualTimers) removes uploads never
 * attached once they are 24 h old, keeps younger and attached ones, and finishes deletions whose
 * bytes a crash or a file store that was down left behind (S3 on loopback, stopped and started). Runs on SQLite and, with TEST_CHAT_STORE=postgres, on PostgreSQL.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { FileBytes } from "../../src/chat/files/bytes.js";
import {
  cleanUpFiles,
  FILE_CLEANUP_EVERY_MS,
  LEFT_OVER_AFTER_MS,
  UNATTACHED_TTL_MS,
} from "../../src/chat/files/cleanup.js";
import { DiskFileStore } from "../../src/files/disk-store.js";
import type { ChatFile } from "../../src/protocol/index.js";
import { hasBytes, postFile } from "../support/files.js";
import { ManualTimers, ok, startServer, TestClock, type TestServer } from "../support/harness.js";
import { clientId, group, type Person, person } from "../support/rooms.js";
import { startS3 } from "../support/s3.js";

const MINUTE = 60_000;

/** The value of `timewise_chat_files_removed_total{reason="…"}` on `server` (0 when never counted). */
async function removedCount(server: TestServer, reason: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text
    .split("\n")
    .find((l) => l.startsWith(`timewise_chat_files_removed_total{reason="${reason}"}`));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

describe("files after their upload", () => {
  let server: TestServer;
  let clock: TestClock;
  let timers: ManualTimers;
  before(async () => {
    clock = new TestClock();
    timers = new ManualTimers();
    server = await startServer({
      env: { FILES_QUOTA_BYTES: "1000" },
      app: { now: clock.now, jobTimers: timers },
    });
  });
  after(() => server?.close());

  const upload = async (who: Person, size: number): Promise<ChatFile> => {
    const answer = await postFile(
      server.url,
      `Bearer ${await server.token(who.id)}`,
      new Uint8Array(size).fill(97),
    );
    assert.equal(answer.status, 201, JSON.stringify(answer.error));
    return answer.file!;
  };
  const keyOf = async (file: ChatFile): Promise<string> => (await server.app.store.file(file.id))!.storeKey;
  const bytesThere = async (key: string) => hasBytes(server.config.files.store, key);
  const filesDir = () => {
    const store = server.config.files.store;
    assert.equal(store.kind, "disk");
    return store.kind === "disk" ? store.dir : "";
  };
  /** One turn of the clean-up job, as its timer would fire it. */
  const cleanUpTurn = () => timers.advance(FILE_CLEANUP_EVERY_MS);

  test("deleting a message removes its files' records and bytes, and frees the uploader's quota", async () => {
    const ann = await person(server);
    const room = await group(ann, []);
    const photo = await upload(ann, 600);
    const key = await keyOf(photo);
    const { message } = await ok(ann.socket, "message:send", {
      roomId: room.id,
      body: "",
      clientId: clientId(),
      fileIds: [photo.id],
    });
    const over = await postFile(server.url, `Bearer ${await server.token(ann.id)}`, new Uint8Array(600));
    assert.deepEqual([over.status, over.error?.code], [413, "QUOTA_EXCEEDED"]);
    const removedBefore = await removedCount(server, "message_deleted");

    const { message: deleted } = await ok(ann.socket, "message:delete", { messageId: message.id });
    assert.deepEqual(deleted.files, []);
    assert.equal(await server.app.store.file(photo.id), undefined);
    assert.equal(await bytesThere(key), false, "the bytes are gone when the delete is acked");
    assert.equal(await server.app.store.fileBytesOf(ann.id), 0);
    assert.deepEqual(
      await server.app.store.pendingFileDeletions(new Date(clock.now()).toISOString(), 1000),
      [],
    );
    assert.equal(await removedCount(server, "message_deleted"), removedBefore + 1);
    const again = await upload(ann, 600);
    // attached, so the clean-up test below counts only its own upload
    await ok(ann.socket, "message:send", {
      roomId: room.id,
      body: "",
      clientId: clientId(),
      fileIds: [again.id],
    });
  });

  test("an upload never attached is kept for 23 h 59 min and removed, record and bytes, once 24 h old", async () => {
    const ann = await person(server);
    const room = await group(ann, []);
    const lonely = await upload(ann, 100);
    const sent = await upload(ann, 100);
    await ok(ann.socket, "message:send", {
      roomId: room.id,
      body: "",
      clientId: clientId(),
      fileIds: [sent.id],
    });
    const [lonelyKey, sentKey] = [await keyOf(lonely), await keyOf(sent)];
    const removedBefore = await removedCount(server, "unattached");

    clock.advance(UNATTACHED_TTL_MS - MINUTE);
    await cleanUpTurn();
    assert.equal((await server.app.store.file(lonely.id))?.id, lonely.id, "23 h 59 min old: kept");
    assert.equal(await bytesThere(lonelyKey), true);

    clock.advance(MINUTE);
    await cleanUpTurn();
    assert.equal(await server.app.store.file(lonely.id), undefined, "24 h old: removed");
    assert.equal(await bytesThere(lonelyKey), false);
    assert.equal(await removedCount(server, "unattached"), removedBefore + 1);
    assert.equal(await server.app.store.fileBytesOf(ann.id), 100);
    assert.equal((await server.app.store.file(sent.id))?.id, sent.id, "an attached file stays");
    assert.equal(await bytesThere(sentKey), true);

    await cleanUpTurn();
    assert.equal(
      await removedCount(server, "unattached"),
      removedBefore + 1,
      "a second run removes nothing more",
    );
    assert.equal(await bytesThere(sentKey), true);
  });

  test("one run works through every expired upload a batch at a time", async () => {
    const ann = await person(server);
    const files = [
      await upload(ann, 10),
      await upload(ann, 10),
      await upload(ann, 10),
      await upload(ann, 10),
      await upload(ann, 10),
    ];
    const keys = await Promise.all(files.map(keyOf));
    clock.advance(UNATTACHED_TTL_MS);
    const batches: number[] = [];
    const store = server.app.store;
    const outcome = await cleanUpFiles({
      store: {
        removeUnattachedFiles: async (before, limit, at) => {
          const removed = await store.removeUnattachedFiles(before, limit, at);
          batches.push(removed.length);
          return removed;
        },
        pendingFileDeletions: (before, limit) => store.pendingFileDeletions(before, limit),
      },
      bytes: new FileBytes(store, new DiskFileStore(filesDir())),
      now: clock.now,
      batch: 2,
    });
    assert.deepEqual(batches, [2, 2, 1]);
    assert.deepEqual(outcome, { unattached: 5, leftOver: 0 });
    for (const key of keys) assert.equal(await bytesThere(key), false);
    assert.equal(await store.fileBytesOf(ann.id), 0);
  });

  test("bytes a crash left behind after a message was deleted are removed by the clean-up", async () => {
    const ann = await person(server);
    const room = await group(ann, []);
    const file = await upload(ann, 100);
    const key = await keyOf(file);
    const { message } = await ok(ann.socket, "message:send", {
      roomId: room.id,
      body: "",
      clientId: clientId(),
      fileIds: [file.id],
    });
    // the delete committed, then the node died before it removed the bytes
    const { fileKeys } = await server.app.store.deleteMessage(
      message.id,
      new Date(clock.now()).toISOString(),
    );
    assert.deepEqual(fileKeys, [key]);
    assert.equal(await bytesThere(key), true);

    await cleanUpTurn();
    assert.equal(await bytesThere(key), true, "a deletion younger than a few minutes may still be under way");
    clock.advance(LEFT_OVER_AFTER_MS);
    await cleanUpTurn();
    assert.equal(await bytesThere(key), false);
    assert.deepEqual(
      await server.app.store.pendingFileDeletions(new Date(clock.now()).toISOString(), 1000),
      [],
    );
  });
});

test("the app runs the clean-up on the job scheduler, and closing the app stops it", async () => {
  const timers = new ManualTimers();
  const server = await startServer({ app: { jobTimers: timers } });
  try {
    // without SMTP or webhooks: the clean-up of files, retention (rooms can have their own), and
    // the notifications job (Web Push is always on: it sums up what was held for people off work)
    assert.equal(timers.active, 3, "three background jobs: files clean-up, retention, notifications");
  } finally {
    await server.close();
  }
  assert.equal(timers.active, 0);
});

test("a file store down as a message is deleted: the delete still succeeds, the clean-up removes the bytes once it is back", async () => {
  const s3 = await startS3();
  const clock = new TestClock();
  const timers = new ManualTimers();
  const server = await startServer({ env: s3.env, app: { now: clock.now, jobTimers: timers } });
  try {
    const ann = await person(server);
    const room = await group(ann, []);
    const answer = await postFile(server.url, `Bearer ${await server.token(ann.id)}`, new Uint8Array(64));
    const key = (await server.app.store.file(answer.file!.id))!.storeKey;
    const { message } = await ok(ann.socket, "message:send", {
      roomId: room.id,
      body: "",
      clientId: clientId(),
      fileIds: [answer.file!.id],
    });
    await s3.stop();
    const { message: deleted } = await ok(ann.socket, "message:delete", { messageId: message.id });
    assert.equal(deleted.deleted, true);
    assert.equal(await server.app.store.fileBytesOf(ann.id), 0, "the quota is free at once");
    const now = () => new Date(clock.now()).toISOString();
    assert.deepEqual(await server.app.store.pendingFileDeletions(now(), 1000), [key]);

    await s3.start();
    assert.equal(await hasBytes(server.config.files.store, key), true);
    clock.advance(LEFT_OVER_AFTER_MS);
    await timers.advance(FILE_CLEANUP_EVERY_MS);
    assert.equal(await hasBytes(server.config.files.store, key), false);
    assert.deepEqual(s3.removed, [key]);
    assert.deepEqual(await server.app.store.pendingFileDeletions(now(), 1000), []);
  } finally {
    await server.close();
    await s3.close();
  }
});
