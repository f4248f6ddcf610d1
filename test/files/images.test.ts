/**
 * Images through real uploads (`POST /api/files` on a real server): PNG, JPEG, GIF and WebP made
 * here with sharp get their size and a thumbnail of at most 360 px; the GPS position in a photo's
 * EXIF is gone from the stored bytes (read back through the file store, as a download would), and
 * `size` is the size of those bytes. Hostile and broken images (a PNG declaring 100,000 × 100,000
 * pixels, a cut-off JPEG, bytes whose magic says GIF but that are not one) are plain files.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { fileTypeFromBuffer } from "file-type";
import sharp from "sharp";
import { DiskFileStore } from "../../src/files/disk-store.js";
import { ImageProcessor, ImagesBusyError } from "../../src/files/images.js";
import { thumbnailKey } from "../../src/files/keys.js";
import { S3FileStore } from "../../src/files/s3-store.js";
import { type FileStore, spool } from "../../src/files/store.js";
import type { ChatFile, FileBody, HttpErrorBody } from "../../src/protocol/index.js";
import { startServer, type TestServer } from "../support/harness.js";
import { bombPng, GPS_MARK, jpegWithGps, noise } from "../support/images.js";
import { person } from "../support/rooms.js";
import { startS3, type TestS3 } from "../support/s3.js";

for (const kind of ["disk", "s3"] as const)
  describe(`image uploads (${kind} store)`, () => imageUploads(kind));

/**
 * The upload tests on one file store. The S3 store runs the cases that write and read its bytes
 * differently (re-encoded, cut down, plain); the store interface is tested in file-store.test.ts.
 */
function imageUploads(kind: "disk" | "s3"): void {
  let server: TestServer;
  let store: FileStore;
  let s3: TestS3 | null = null;
  let token: string;
  before(async () => {
    s3 = kind === "s3" ? await startS3() : null;
    server = await startServer(s3 ? { env: s3.env } : {});
    const config = server.config.files.store;
    assert.equal(config.kind, kind);
    store = config.kind === "disk" ? new DiskFileStore(config.dir) : new S3FileStore(config);
    token = await server.token((await person(server)).id);
  });
  after(async () => {
    await store?.close();
    await server?.close();
    await s3?.close();
  });
  /** A test of both stores, or (`both` false) of the disk store only. */
  const cases = (both: boolean, title: string, fn: () => Promise<void>) => {
    if (both || kind === "disk") test(title, fn);
  };

  const upload = async (name: string, bytes: Buffer): Promise<ChatFile> => {
    const form = new FormData();
    form.append("file", new Blob([bytes]), name);
    const res = await fetch(`${server.url}/api/files`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    const body = (await res.json()) as FileBody;
    assert.equal(res.status, 201, JSON.stringify(body));
    return body.file;
  };
  /** The bytes the store keeps under `key` (what a download serves), or null. */
  const stored = async (key: string): Promise<Buffer | null> => {
    const read = await store.get(key);
    if (!read) return null;
    const chunks: Buffer[] = [];
    for await (const chunk of read.body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const keyOf = async (file: ChatFile) => {
    const record = await server.app.store.file(file.id);
    assert.ok(record, "the upload has a record");
    return record.storeKey;
  };
  /** The served bytes and the thumbnail's, after checking the thumbnail is a WebP of at most 360 px. */
  const servedOf = async (file: ChatFile, thumb: { width: number; height: number }) => {
    // the link is signed for the uploader: its path names this file's thumbnail
    assert.match(
      file.thumbnailUrl ?? "",
      new RegExp(`^/api/files/${file.id}/thumbnail\\?u=\\d+&e=\\d+&s=[\\w-]+$`),
    );
    const served = await stored(await keyOf(file));
    assert.ok(served);
    assert.equal(file.size, served.length, "size is the size of the served bytes");
    const thumbnail = await stored(thumbnailKey(await keyOf(file)));
    assert.ok(thumbnail, "the thumbnail is in the store next to the file");
    assert.equal((await fileTypeFromBuffer(thumbnail))?.mime, "image/webp");
    const meta = await sharp(thumbnail).metadata();
    assert.deepEqual({ width: meta.width, height: meta.height }, thumb);
    return served;
  };
  const assertPlain = async (file: ChatFile) => {
    assert.deepEqual([file.width, file.height, file.thumbnailUrl], [null, null, null]);
    assert.equal((await server.app.store.file(file.id))?.hasThumbnail, false);
    assert.equal(await stored(thumbnailKey(await keyOf(file))), null, "no thumbnail was stored");
  };

  cases(false, "a PNG gets its size and a 360 px WebP thumbnail, and is served byte for byte", async () => {
    const png = await sharp(noise(800, 400)).png({ compressionLevel: 1 }).toBuffer();
    const file = await upload("chart.png", png);
    assert.deepEqual([file.type, file.width, file.height], ["image/png", 800, 400]);
    const served = await servedOf(file, { width: 360, height: 180 });
    assert.ok(served.equals(png), "a PNG without metadata is not re-encoded");
  });

  cases(
    true,
    "a JPEG loses its GPS position and is turned upright; width and height are the upright ones",
    async () => {
      const jpeg = await jpegWithGps(800, 600, 6);
      const sent = await sharp(jpeg).metadata();
      assert.equal(sent.orientation, 6, "the test photo is stored sideways with an orientation tag");
      assert.ok(jpeg.includes(Buffer.from(GPS_MARK)), "the test photo has a GPS block");
      const file = await upload("receipt.jpg", jpeg);
      assert.deepEqual([file.type, file.width, file.height], ["image/jpeg", 600, 800]);
      const served = await servedOf(file, { width: 270, height: 360 });
      const meta = await sharp(served).metadata();
      assert.deepEqual(
        [meta.format, meta.width, meta.height, meta.exif, meta.xmp, meta.orientation],
        ["jpeg", 600, 800, undefined, undefined, undefined],
      );
      assert.equal(served.includes(Buffer.from("Exif\0\0")), false, "no EXIF block is left in the bytes");
      assert.equal(served.includes(Buffer.from(GPS_MARK)), false);
    },
  );

  cases(false, "a GIF smaller than a thumbnail keeps its size in the thumbnail", async () => {
    // a flat picture: quantizing noise into a palette is slow and tells nothing more
    const gif = await sharp({ create: { width: 300, height: 200, channels: 3, background: "#3a7" } })
      .gif()
      .toBuffer();
    const file = await upload("wave.gif", gif);
    assert.deepEqual([file.type, file.width, file.height], ["image/gif", 300, 200]);
    const served = await servedOf(file, { width: 300, height: 200 });
    assert.ok(served.equals(gif));
  });

  cases(false, "a WebP with EXIF is re-encoded without it", async () => {
    const webp = await sharp(noise(500, 1000))
      .withExif({ IFD3: { GPSLatitudeRef: "N", GPSLatitude: "52/1 31/1 12/1" } })
      .webp()
      .toBuffer();
    assert.notEqual((await sharp(webp).metadata()).exif, undefined);
    const file = await upload("site.webp", webp);
    assert.deepEqual([file.type, file.width, file.height], ["image/webp", 500, 1000]);
    const served = await servedOf(file, { width: 180, height: 360 });
    const meta = await sharp(served).metadata();
    assert.deepEqual([meta.format, meta.exif], ["webp", undefined]);
  });

  cases(false, "a PNG renamed .exe is still an image with a thumbnail", async () => {
    const file = await upload("setup.exe", await sharp(noise(40, 30)).png().toBuffer());
    assert.deepEqual([file.name, file.type, file.width, file.height], ["setup.exe", "image/png", 40, 30]);
    await servedOf(file, { width: 40, height: 30 });
  });

  cases(false, "eight images uploaded at once all get their sizes and thumbnails, taking turns", async () => {
    const sizes = Array.from({ length: 8 }, (_, i) => [40 + i, 30 + i] as const);
    const files = await Promise.all(
      sizes.map(async ([w, h], i) => upload(`burst-${i}.png`, await sharp(noise(w, h)).png().toBuffer())),
    );
    assert.deepEqual(
      files.map((f) => [f.width, f.height, f.thumbnailUrl !== null]),
      sizes.map(([w, h]) => [w, h, true]),
    );
  });

  cases(true, "a PNG declaring 100,000 × 100,000 pixels is a plain file, and uploads go on", async () => {
    const bomb = bombPng(100_000, 100_000);
    const file = await upload("bomb.png", bomb);
    assert.equal(file.type, "image/png");
    await assertPlain(file);
    assert.ok((await stored(await keyOf(file)))?.equals(bomb), "it has no metadata to remove");
    const next = await upload("after.png", await sharp(noise(10, 10)).png().toBuffer());
    assert.deepEqual([next.width, next.height], [10, 10]);
  });

  cases(
    true,
    "a cut-off JPEG is a plain file, and its EXIF with the GPS position is still removed",
    async () => {
      const jpeg = await jpegWithGps(640, 480, 1);
      const cut = jpeg.subarray(0, Math.floor(jpeg.length * 0.6));
      const file = await upload("cut.jpg", cut);
      assert.equal(file.type, "image/jpeg");
      await assertPlain(file);
      const served = await stored(await keyOf(file));
      assert.ok(served);
      assert.equal(file.size, served.length);
      assert.ok(cut.includes(Buffer.from(GPS_MARK)), "the cut-off photo still has its GPS block");
      assert.equal(served.includes(Buffer.from("Exif\0\0")), false);
      assert.equal(served.includes(Buffer.from(GPS_MARK)), false);
      // everything but the EXIF segment is kept: the picture data after it ends the same way
      assert.ok(served.subarray(-1000).equals(cut.subarray(-1000)));
    },
  );

  cases(false, "bytes with a GIF's magic that are no GIF, and text named .jpg, are plain files", async () => {
    const fake = await upload("fake.gif", Buffer.concat([Buffer.from("GIF89a"), Buffer.alloc(200, 7)]));
    assert.equal(fake.type, "image/gif");
    await assertPlain(fake);
    const text = await upload("photo.jpg", Buffer.from("not a photo at all\n"));
    assert.equal(text.type, "text/plain");
    await assertPlain(text);
  });
}

describe("image uploads when images are busy", () => {
  let server: TestServer;
  before(async () => {
    // no turn and no room to wait: every image finds the node busy
    server = await startServer({ app: { imageLimits: { concurrency: 0, maxWaiting: 0 } } });
  });
  after(() => server?.close());

  test("an image is 503 UNAVAILABLE and nothing of it is kept; other files still upload", async () => {
    const ann = await person(server);
    const send = async (name: string, bytes: Buffer) => {
      const form = new FormData();
      form.append("file", new Blob([bytes]), name);
      const res = await fetch(`${server.url}/api/files`, {
        method: "POST",
        headers: { authorization: `Bearer ${await server.token(ann.id)}` },
        body: form,
      });
      return { status: res.status, body: (await res.json()) as FileBody & HttpErrorBody };
    };
    const image = await send("photo.png", await sharp(noise(20, 20)).png().toBuffer());
    assert.deepEqual([image.status, image.body.error.code], [503, "UNAVAILABLE"]);
    assert.equal(await server.app.store.fileBytesOf(ann.id), 0);
    const config = server.config.files.store;
    const spoolDir = join(config.kind === "disk" ? config.dir : "", ".incoming");
    assert.deepEqual(existsSync(spoolDir) ? readdirSync(spoolDir) : [], [], "no spooled file is left");
    const text = await send("notes.txt", Buffer.from("still fine\n"));
    assert.equal(text.status, 201);
    assert.equal(await server.app.store.fileBytesOf(ann.id), 11);
  });
});

describe("ImageProcessor", () => {
  test("images past the ones waiting for a turn are refused as busy, not queued without end", async () => {
    const images = new ImageProcessor({ maxPixels: 1e6, timeoutS: 5, concurrency: 1, maxWaiting: 1 });
    const dir = join(tmpdir(), `twc-images-${process.pid}`);
    const png = await sharp(noise(50, 50)).png().toBuffer();
    const files = await Promise.all([1, 2, 3].map(() => spool(Readable.from([png]), dir)));
    // the first takes the only turn and the second waits, both before any of them has started
    const first = images.prepare(files[0]!, "image/png", dir);
    const second = images.prepare(files[1]!, "image/png", dir);
    await assert.rejects(images.prepare(files[2]!, "image/png", dir), ImagesBusyError);
    const done = await Promise.all([first, second]);
    assert.deepEqual(
      done.map((d) => [d?.width, d?.height, d?.thumbnail?.size !== undefined]),
      [
        [50, 50, true],
        [50, 50, true],
      ],
    );
    // a turn is free again
    assert.equal((await images.prepare(files[2]!, "image/png", dir))?.width, 50);
    await Promise.all(files.map((f) => f.dispose()));
    for (const d of done) await d?.thumbnail?.dispose();
  });

  test("a type that is not an image is left alone", async () => {
    const images = new ImageProcessor();
    const dir = join(tmpdir(), `twc-images-${process.pid}`);
    const file = await spool(Readable.from([Buffer.from("%PDF-1.7\n")]), dir);
    assert.equal(await images.prepare(file, "application/pdf", dir), null);
    await file.dispose();
  });
});
