/**
 * The image processing timeout (imageLimits.timeoutS) with a genuinely slow image: a 38-byte
 * WebP that declares, and really holds, 16,383 × 16,383 pixels, so decoding it for the thumbnail
 * takes libvips about two seconds. With `timeoutS: 1` the upload is a plain file (no size, no
 * thumbnail) and the server goes on: the next image gets its thumbnail. The same image on a server
 * with the default 10 s gets its size and thumbnail, so it is the timeout, not the image, that
 * made it plain. No waiting in the test: the time is libvips' own work.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import sharp from "sharp";
import type { ChatFile } from "../../src/protocol/index.js";
import { postFile } from "../support/files.js";
import { startServer, type TestServer } from "../support/harness.js";
import { noise, SLOW_WEBP, SLOW_WEBP_SIDE } from "../support/images.js";
import { person } from "../support/rooms.js";

// the slow image has 268 million pixels: past the default 50 MP cap, which is not what is tested
const maxPixels = SLOW_WEBP_SIDE * SLOW_WEBP_SIDE;

describe("the image processing timeout", () => {
  let hurried: TestServer;
  let patient: TestServer;
  before(async () => {
    hurried = await startServer({ app: { imageLimits: { timeoutS: 1, maxPixels } } });
    patient = await startServer({ app: { imageLimits: { maxPixels } } });
  });
  after(async () => {
    await hurried?.close();
    await patient?.close();
  });

  const upload = async (server: TestServer, bytes: Buffer, name: string): Promise<ChatFile> => {
    const who = await person(server);
    const answer = await postFile(server.url, `Bearer ${await server.token(who.id)}`, bytes, { name });
    assert.equal(answer.status, 201, JSON.stringify(answer.error));
    return answer.file!;
  };

  test("an image slower than timeoutS becomes a plain file, and the server goes on", async () => {
    const file = await upload(hurried, SLOW_WEBP, "huge.webp");
    assert.deepEqual(
      [file.type, file.width, file.height, file.thumbnailUrl],
      ["image/webp", null, null, null],
    );
    assert.equal(file.size, SLOW_WEBP.length, "kept as sent");
    const record = await hurried.app.store.file(file.id);
    assert.equal(record?.hasThumbnail, false);
    const next = await upload(hurried, await sharp(noise(40, 30)).png().toBuffer(), "small.png");
    assert.deepEqual([next.width, next.height], [40, 30]);
    assert.ok(next.thumbnailUrl, "the next image still gets a thumbnail");
  });

  test("the same image within the default timeout gets its size and thumbnail", async () => {
    const file = await upload(patient, SLOW_WEBP, "huge.webp");
    assert.deepEqual([file.width, file.height], [SLOW_WEBP_SIDE, SLOW_WEBP_SIDE]);
    assert.ok(file.thumbnailUrl);
  });
});
