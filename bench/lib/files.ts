/**
 * The files scenario: uploads into the chat server as production runs it (disk store).
 *
 * - **Thumbnails**: a 12-megapixel JPEG (4000 × 3000, about 3 MB, made here with sharp and cached),
 *   timed in-process through the server's own `ImageProcessor` (the same settings: one libvips
 *   thread), once without metadata (thumbnail only) and once with EXIF (re-encoded without it, then
 *   the thumbnail), and end to end as an upload (request to 201).
 * - **Sends during an image burst**: `message:send` ack latency at 20 sends/s, alone and while 8
 *   of those photos are uploaded at once, so the cost of image work to the chat shows.
 * - **Upload throughput** (first, before any image): 20 MiB files of random bytes streamed over HTTP one after another,
 *   in MB/s (10^6 bytes); the server's RSS is sampled every 20 ms, and its growth over the uploads
 *   (after one to warm up) must stay far below one file's size: proof that uploads stream.
 * - **Download throughput** (right after the uploads, still before any image): the same 20 MiB files
 *   fetched through their signed links (`GET /api/files/:id?u=…&e=…&s=…`, as an `<a href>` does)
 *   one after another, after one to warm up, in MB/s, every byte counted; the server's RSS is
 *   sampled as for the uploads and must stay as flat (the bytes are streamed from the store).
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import sharp from "sharp";
import { ImageProcessor } from "../../src/files/images.js";
import { spool } from "../../src/files/store.js";
import type { ChatFile } from "../../src/protocol/index.js";
import { connect, createRooms, prepareDatabase, signToken } from "./setup.js";
import { clockMs, latencySummary, median } from "./stats.js";
import { startServer, type Target, tempDir } from "./targets.js";

type Summary = ReturnType<typeof latencySummary>;

export interface FilesResult {
  run: number;
  photo: { megapixels: number; bytes: number };
  /** the server's RSS right after start-up, and after all the images (MiB) */
  rssIdleMb: number;
  rssAfterImagesMb: number;
  /** ms, medians: in-process without and with EXIF, and the upload's request to 201 */
  thumbnailMs: number;
  stripAndThumbnailMs: number;
  photoUploadMs: number;
  /** message:send ack latency (ms) at 20 sends/s, without and during 8 photo uploads at once */
  sendsAlone: Summary;
  sendsDuringImages: Summary;
  imageBurstMs: number;
  /** 20 MiB uploads */
  uploads: number;
  uploadMbPerS: number;
  /** the server's RSS after the warm-up upload, its highest while uploading, and after them (MiB) */
  rssStartMb: number;
  rssPeakMb: number;
  rssEndMb: number;
  /** 20 MiB downloads through signed links, one after another */
  downloads: number;
  downloadMbPerS: number;
  /** the server's RSS after the warm-up download, its highest while downloading, and after (MiB) */
  downloadRssStartMb: number;
  downloadRssPeakMb: number;
  downloadRssEndMb: number;
}

const UPLOAD_BYTES = 20 * 2 ** 20;
const BOUNDARY = "----twc-bench-boundary";

export async function runFiles(options: {
  quick: boolean;
  runs: number;
  log: (line: string) => void;
}): Promise<FilesResult[]> {
  const photos = await photo12mp(options.log);
  const results: FilesResult[] = [];
  for (let run = 1; run <= options.runs; run++) {
    const tmp = tempDir("twc-bench-files-");
    try {
      const inProcess = await inProcessTimes(photos, join(tmp.dir, "spool"), options.quick ? 2 : 5);
      const db = join(tmp.dir, "chat.db");
      const users = prepareDatabase(db, 2);
      const server = await startServer(db, { FILES_DIR: join(tmp.dir, "files") });
      try {
        const rssIdleMb = server.rssKb() / 1024;
        const token = await signToken(users[0]!);
        const tokens = new Map(await Promise.all(users.map(async (u) => [u, await signToken(u)] as const)));
        // before any image: image work leaves the allocator holding memory, which would hide
        // whether uploads stream
        const throughput = await uploadThroughput(server, token, options.quick ? 3 : 10);
        const downloads = await downloadThroughput(server, throughput.files);
        const photoUploads: number[] = [];
        for (let i = 0; i < (options.quick ? 2 : 5); i++) {
          const started = clockMs();
          await upload(server.url, token, "photo.jpg", Readable.from([photos.withExif]));
          photoUploads.push(clockMs() - started);
        }
        const [roomId] = await createRooms(server.url, tokens, [users]);
        const sends = await sendLatency(server.url, token, roomId!, photos.withExif);
        const rssAfterImagesMb = server.rssKb() / 1024;
        const result: FilesResult = {
          run,
          photo: { megapixels: 12, bytes: photos.withExif.length },
          rssIdleMb,
          rssAfterImagesMb,
          thumbnailMs: inProcess.thumbnailMs,
          stripAndThumbnailMs: inProcess.stripAndThumbnailMs,
          photoUploadMs: median(photoUploads),
          ...sends,
          ...throughput.figures,
          ...downloads,
        };
        results.push(result);
        options.log(
          `run ${run}/${options.runs} files: 12 MP JPEG thumbnail ${result.thumbnailMs.toFixed(0)} ms, with EXIF removed ${result.stripAndThumbnailMs.toFixed(0)} ms, upload to 201 ${result.photoUploadMs.toFixed(0)} ms; sends p99 ${result.sendsAlone.p99.toFixed(1)} ms alone, ${result.sendsDuringImages.p99.toFixed(1)} ms during 8 photo uploads (${result.imageBurstMs.toFixed(0)} ms); 20 MiB uploads ${result.uploadMbPerS.toFixed(0)} MB/s, RSS at start ${result.rssIdleMb.toFixed(0)} MiB, uploads ${result.rssStartMb.toFixed(0)} → peak ${result.rssPeakMb.toFixed(0)} → ${result.rssEndMb.toFixed(0)} MiB; 20 MiB downloads ${result.downloadMbPerS.toFixed(0)} MB/s, RSS ${result.downloadRssStartMb.toFixed(0)} → peak ${result.downloadRssPeakMb.toFixed(0)} → ${result.downloadRssEndMb.toFixed(0)} MiB; after images ${result.rssAfterImagesMb.toFixed(0)} MiB`,
        );
      } finally {
        await server.stop();
      }
    } finally {
      tmp.remove();
    }
  }
  return results;
}

interface Photos {
  plain: Buffer;
  withExif: Buffer;
}

/**
 * A 12-megapixel JPEG with a photo's texture (blurred noise compresses about as a photo does),
 * with and without EXIF with a GPS position; cached in the temp folder (making it takes a while).
 */
async function photo12mp(log: (line: string) => void): Promise<Photos> {
  const dir = join(tmpdir(), "twc-bench-photos-v1");
  const plainPath = join(dir, "plain.jpg");
  const exifPath = join(dir, "exif.jpg");
  if (existsSync(plainPath) && existsSync(exifPath)) {
    return { plain: readFileSync(plainPath), withExif: readFileSync(exifPath) };
  }
  log("Making a 12-megapixel test photo (cached in the temp folder) …");
  // the server's setting is one thread; making the photo may use them all
  sharp.concurrency(availableParallelism());
  try {
    const plain = await sharp({
      create: {
        width: 4000,
        height: 3000,
        channels: 3,
        background: "#808080",
        noise: { type: "gaussian", mean: 128, sigma: 60 },
      },
    })
      .blur(1.5)
      .jpeg({ quality: 90 })
      .toBuffer();
    const withExif = await sharp(plain)
      .withExif({
        IFD0: { Make: "TimeWise bench camera" },
        IFD3: { GPSLatitudeRef: "N", GPSLatitude: "52/1 31/1 12/1", GPSLongitudeRef: "E" },
      })
      .jpeg({ quality: 90 })
      .toBuffer();
    mkdirSync(dir, { recursive: true });
    writeFileSync(plainPath, plain);
    writeFileSync(exifPath, withExif);
    return { plain, withExif };
  } finally {
    sharp.concurrency(1);
  }
}

/** Medians of `times` runs of the server's image step, in this process. */
async function inProcessTimes(photos: Photos, dir: string, times: number) {
  const images = new ImageProcessor();
  const time = async (bytes: Buffer) => {
    const ms: number[] = [];
    for (let i = 0; i < times; i++) {
      const file = await spool(Readable.from([bytes]), dir);
      const started = clockMs();
      const done = await images.prepare(file, "image/jpeg", dir);
      ms.push(clockMs() - started);
      if (!done?.thumbnail) throw new Error("the test photo got no thumbnail");
      await Promise.all([file.dispose(), done.thumbnail.dispose(), done.served?.dispose()]);
    }
    return median(ms);
  };
  return { thumbnailMs: await time(photos.plain), stripAndThumbnailMs: await time(photos.withExif) };
}

/** Ack latency of sends at 20/s for 3 s alone, then while 8 photos are uploaded at once. */
async function sendLatency(url: string, token: string, roomId: string, photo: Buffer) {
  const socket = await connect(url, token);
  try {
    let counter = 0;
    const sendFor = async (untilDone: () => boolean): Promise<number[]> => {
      const latencies: number[] = [];
      const pending: Promise<void>[] = [];
      while (!untilDone()) {
        const sentAt = clockMs();
        pending.push(
          socket
            .timeout(30_000)
            .emitWithAck("message:send", { roomId, body: "bench", clientId: `bench-files-${counter++}` })
            .then((ack: { ok: boolean }) => {
              if (!ack.ok) throw new Error(`message:send failed: ${JSON.stringify(ack)}`);
              latencies.push(clockMs() - sentAt);
            }),
        );
        await new Promise((r) => setTimeout(r, 50));
      }
      await Promise.all(pending);
      return latencies;
    };
    const aloneUntil = clockMs() + 3000;
    const alone = await sendFor(() => clockMs() >= aloneUntil);
    let burstDone = false;
    const started = clockMs();
    const burst = Promise.all(
      Array.from({ length: 8 }, (_, i) => upload(url, token, `burst-${i}.jpg`, Readable.from([photo]))),
    ).finally(() => {
      burstDone = true;
    });
    const during = await sendFor(() => burstDone);
    await burst;
    return {
      sendsAlone: latencySummary(alone),
      sendsDuringImages: latencySummary(during),
      imageBurstMs: clockMs() - started,
    };
  } finally {
    socket.close();
  }
}

/** `count` uploads of 20 MiB one after another (after one to warm up), with the server's RSS. */
async function uploadThroughput(server: Target, token: string, count: number) {
  const block = randomBytes(2 ** 20);
  const body = () => Readable.from(Array.from({ length: UPLOAD_BYTES / block.length }, () => block));
  const files = [await upload(server.url, token, "warm-up.bin", body())];
  const rssStart = server.rssKb();
  let peak = rssStart;
  const sampler = setInterval(() => {
    peak = Math.max(peak, server.rssKb());
  }, 20);
  let ms = 0;
  try {
    for (let i = 0; i < count; i++) {
      const started = clockMs();
      files.push(await upload(server.url, token, `big-${i}.bin`, body()));
      ms += clockMs() - started;
    }
  } finally {
    clearInterval(sampler);
  }
  const rssEnd = server.rssKb();
  return {
    files,
    figures: {
      uploads: count,
      uploadMbPerS: (count * UPLOAD_BYTES) / 1e6 / (ms / 1000),
      rssStartMb: rssStart / 1024,
      rssPeakMb: Math.max(peak, rssEnd) / 1024,
      rssEndMb: rssEnd / 1024,
    },
  };
}

/**
 * Each of `files` but the first (which warms up) downloaded once through its signed link, one after
 * another, with the server's RSS sampled every 20 ms.
 */
async function downloadThroughput(server: Target, files: ChatFile[]) {
  const [warmUp, ...measured] = files;
  if (!warmUp || measured.length === 0) throw new Error("no uploaded files to download");
  await download(server.url, warmUp);
  const rssStart = server.rssKb();
  let peak = rssStart;
  const sampler = setInterval(() => {
    peak = Math.max(peak, server.rssKb());
  }, 20);
  let ms = 0;
  let bytes = 0;
  try {
    for (const file of measured) {
      const started = clockMs();
      bytes += await download(server.url, file);
      ms += clockMs() - started;
    }
  } finally {
    clearInterval(sampler);
  }
  const rssEnd = server.rssKb();
  return {
    downloads: measured.length,
    downloadMbPerS: bytes / 1e6 / (ms / 1000),
    downloadRssStartMb: rssStart / 1024,
    downloadRssPeakMb: Math.max(peak, rssEnd) / 1024,
    downloadRssEndMb: rssEnd / 1024,
  };
}

/**
 * GETs `file` through its signed link (no token: the link is the permission) and counts its bytes,
 * which go nowhere; fails unless it is a 200 with exactly the file's size.
 */
function download(url: string, file: ChatFile): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${file.url}`, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`download of ${file.id} answered ${res.statusCode}`));
      }
      let bytes = 0;
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on("error", reject);
      res.on("end", () => {
        if (bytes !== file.size)
          return reject(new Error(`download of ${file.id}: ${bytes} of ${file.size} bytes`));
        resolve(bytes);
      });
    });
    req.on("error", reject);
    req.end();
  });
}

/** Streams `body` as the `file` part of a multipart upload; resolves with the stored file. */
function upload(url: string, token: string, name: string, body: Readable): Promise<ChatFile> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api/files`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": `multipart/form-data; boundary=${BOUNDARY}`,
      },
    });
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        if (res.statusCode !== 201) return reject(new Error(`upload answered ${res.statusCode}: ${text}`));
        resolve((JSON.parse(text) as { file: ChatFile }).file);
      });
    });
    req.write(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    body.on("error", (error) => req.destroy(error));
    body.on("end", () => req.end(`\r\n--${BOUNDARY}--\r\n`));
    body.pipe(req, { end: false });
  });
}

/** The files section of docs/performance.md: medians over the runs. */
export function renderFiles(results: FilesResult[]): string {
  const m = (pick: (r: FilesResult) => number) => median(results.map(pick));
  const f = (v: number, digits = 0) =>
    v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const first = results[0];
  const growth = m((r) => r.rssEndMb - r.rssStartMb);
  const peakGrowth = m((r) => r.rssPeakMb - r.rssStartMb);
  const downloadGrowth = m((r) => r.downloadRssEndMb - r.downloadRssStartMb);
  const downloadPeakGrowth = m((r) => r.downloadRssPeakMb - r.downloadRssStartMb);
  return [
    "| figure | value |",
    "| --- | ---: |",
    `| 12 MP JPEG (${f((first?.photo.bytes ?? 0) / 1e6, 1)} MB): thumbnail, in-process (ms) | ${f(m((r) => r.thumbnailMs))} |`,
    `| the same with EXIF: re-encoded without it, then the thumbnail, in-process (ms) | ${f(m((r) => r.stripAndThumbnailMs))} |`,
    `| the same uploaded, request to 201 (ms) | ${f(m((r) => r.photoUploadMs))} |`,
    `| message:send ack p50 / p99 at 20/s, alone (ms) | ${f(
      m((r) => r.sendsAlone.p50),
      1,
    )} / ${f(
      m((r) => r.sendsAlone.p99),
      1,
    )} |`,
    `| the same while 8 of those photos are uploaded at once (ms) | ${f(
      m((r) => r.sendsDuringImages.p50),
      1,
    )} / ${f(
      m((r) => r.sendsDuringImages.p99),
      1,
    )} |`,
    `| the 8 photo uploads, first request to last 201 (ms) | ${f(m((r) => r.imageBurstMs))} |`,
    `| upload throughput, ${first?.uploads ?? 0} × 20 MiB one after another (MB/s) | ${f(m((r) => r.uploadMbPerS))} |`,
    `| server RSS right after start-up (MiB) | ${f(m((r) => r.rssIdleMb))} |`,
    `| server RSS after a first 20 MiB upload → highest while uploading → after (MiB) | ${f(m((r) => r.rssStartMb))} → ${f(m((r) => r.rssPeakMb))} → ${f(m((r) => r.rssEndMb))} |`,
    `| RSS growth over the uploads: at the end / at the highest (MiB; one file is 20 MiB) | ${f(growth, 1)} / ${f(peakGrowth, 1)} |`,
    `| server RSS after all the images (MiB; see "Memory after image work") | ${f(m((r) => r.rssAfterImagesMb))} |`,
    `| download throughput through signed links, ${first?.downloads ?? 0} × 20 MiB one after another (MB/s) | ${f(m((r) => r.downloadMbPerS))} |`,
    `| server RSS after a first 20 MiB download → highest while downloading → after (MiB) | ${f(m((r) => r.downloadRssStartMb))} → ${f(m((r) => r.downloadRssPeakMb))} → ${f(m((r) => r.downloadRssEndMb))} |`,
    `| RSS growth over the downloads: at the end / at the highest (MiB; one file is 20 MiB) | ${f(downloadGrowth, 1)} / ${f(downloadPeakGrowth, 1)} |`,
  ].join("\n");
}
