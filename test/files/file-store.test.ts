/**
 * The file stores, each against the real thing: the disk store on a temporary folder, and the S3
 * store against a real S3-protocol server on loopback (s3rver). The same cases run on both: put,
 * get, ranges, head, delete, and uploads that are too large or cut off leave nothing behind.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { after, before, describe, test } from "node:test";
import { DiskFileStore } from "../../src/files/disk-store.js";
import { S3FileStore } from "../../src/files/s3-store.js";
import { type FileStore, FileTooLargeError, RangeNotSatisfiableError } from "../../src/files/store.js";
import { tempDir } from "../support/harness.js";
import { startS3, type TestS3 } from "../support/s3.js";

/** A body that arrives in several chunks, as an upload does. */
function chunked(bytes: Buffer, chunkSize = 64 * 1024): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  return Readable.from(chunks);
}

/** A body that sends `bytes`, then fails as a dropped connection does. */
function cutOff(bytes: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(bytes);
        return;
      }
      this.destroy(new Error("the connection was reset"));
    },
  });
}

async function bytesOf(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

interface Setup {
  store: FileStore;
  close(): Promise<void>;
}

const stores: { name: string; open(): Promise<Setup> }[] = [
  {
    name: "disk",
    async open() {
      const dir = tempDir("twc-files-");
      return { store: new DiskFileStore(dir.dir), close: async () => dir.remove() };
    },
  },
  {
    name: "s3",
    async open() {
      const s3: TestS3 = await startS3();
      const spool = tempDir("twc-spool-");
      const store = new S3FileStore(s3.config, spool.dir);
      return {
        store,
        async close() {
          await store.close();
          await s3.close();
          spool.remove();
        },
      };
    },
  },
];

for (const kind of stores) {
  describe(`the ${kind.name} file store`, () => {
    let setup: Setup;
    let store: FileStore;
    let n = 0;
    const key = () => {
      n += 1;
      return `ab/test-${n}`;
    };
    before(async () => {
      setup = await kind.open();
      store = setup.store;
    });
    after(() => setup.close());

    /** The spool folder holds no leftovers (it may not exist at all). */
    const spoolIsEmpty = () =>
      assert.deepEqual(existsSync(store.spoolDir) ? readdirSync(store.spoolDir) : [], []);

    test("answers a ping", async () => {
      await store.ping();
    });

    test("keeps the exact bytes it was given, in several chunks, and reports their size and hash", async () => {
      const bytes = randomBytes(3 * 1024 * 1024 + 17);
      const k = key();
      const stored = await store.put(k, chunked(bytes));
      assert.deepEqual(stored, { size: bytes.length, sha256: sha256(bytes) });
      assert.deepEqual(await store.head(k), { size: bytes.length });
      const read = await store.get(k);
      assert.ok(read);
      assert.equal(read.size, bytes.length);
      assert.ok((await bytesOf(read.body)).equals(bytes), "the same bytes come back");
      spoolIsEmpty();
    });

    test("keeps a file of zero bytes", async () => {
      const k = key();
      assert.deepEqual(await store.put(k, Readable.from([])), { size: 0, sha256: sha256(Buffer.alloc(0)) });
      assert.deepEqual(await store.head(k), { size: 0 });
      const read = await store.get(k);
      assert.ok(read);
      assert.equal((await bytesOf(read.body)).length, 0);
    });

    test("reads a range of bytes, both ends included, and tells the whole size", async () => {
      const bytes = Buffer.from("0123456789abcdefghijklmnopqrstuvwxyz");
      const k = key();
      await store.put(k, chunked(bytes, 5));
      const middle = await store.get(k, { start: 10, end: 19 });
      assert.ok(middle);
      assert.equal(middle.size, bytes.length);
      assert.equal(await text(middle.body), "abcdefghij");
      const first = await store.get(k, { start: 0, end: 0 });
      assert.ok(first);
      assert.equal(await text(first.body), "0");
    });

    test("cuts a range that runs past the end at the last byte", async () => {
      const k = key();
      await store.put(k, chunked(Buffer.from("0123456789")));
      const tail = await store.get(k, { start: 7, end: 1000 });
      assert.ok(tail);
      assert.equal(await text(tail.body), "789");
      assert.equal(tail.size, 10);
    });

    test("refuses a range that starts past the end, naming the file's size", async () => {
      const k = key();
      await store.put(k, chunked(Buffer.from("0123456789")));
      await assert.rejects(store.get(k, { start: 10, end: 20 }), (error: unknown) => {
        assert.ok(error instanceof RangeNotSatisfiableError);
        assert.equal(error.size, 10);
        return true;
      });
    });

    test("deletes a file, and deleting it again is not an error", async () => {
      const k = key();
      await store.put(k, chunked(Buffer.from("to be removed")));
      await store.delete(k);
      assert.equal(await store.head(k), null);
      assert.equal(await store.get(k), null);
      assert.equal(await store.get(k, { start: 0, end: 3 }), null);
      await store.delete(k);
    });

    test("knows no file that was never stored", async () => {
      assert.equal(await store.head("zz/never-stored"), null);
      assert.equal(await store.get("zz/never-stored"), null);
    });

    test("cuts off an upload past the limit and keeps nothing of it", async () => {
      const k = key();
      await assert.rejects(
        store.put(k, chunked(randomBytes(300_000), 10_000), { maxBytes: 100_000 }),
        (error) => {
          assert.ok(error instanceof FileTooLargeError);
          assert.equal(error.maxBytes, 100_000);
          return true;
        },
      );
      assert.equal(await store.head(k), null);
      spoolIsEmpty();
    });

    test("keeps an upload of exactly the limit", async () => {
      const k = key();
      const stored = await store.put(k, chunked(randomBytes(100_000), 10_000), { maxBytes: 100_000 });
      assert.equal(stored.size, 100_000);
      assert.deepEqual(await store.head(k), { size: 100_000 });
    });

    test("keeps nothing of an upload whose stream fails halfway", async () => {
      const k = key();
      await assert.rejects(store.put(k, cutOff(randomBytes(50_000))), /the connection was reset/);
      assert.equal(await store.head(k), null);
      spoolIsEmpty();
    });

    test("refuses keys that could leave its folder or bucket prefix", async () => {
      for (const bad of ["../x", "/etc/passwd", "a/../b", "a//b", ".hidden", "a/.incoming", "a\\b", ""]) {
        await assert.rejects(store.put(bad, chunked(Buffer.from("x"))), /not a file store key/, bad);
        await assert.rejects(store.get(bad), /not a file store key/, bad);
      }
      spoolIsEmpty();
    });
  });
}
