/**
 * `GET` and `HEAD` of `/api/files/:id` (the bytes) and `/api/files/:id/thumbnail`, with the
 * signed link's query (src/files/links.ts): no cookie or header is needed, so an `<img src>`
 * works. A link that is altered, expired, for an unknown file, or for a file its user can no longer
 * see gets the same 404. The bytes are streamed from the file store as they arrive (a disk read
 * stream, or S3's GetObject with the range), never held whole in memory.
 *
 * What keeps a download from ever running as a page: the type is the one sniffed at upload, with
 * `nosniff`; anything but PNG, JPEG, GIF and WebP is an attachment (saved, never shown); and a
 * `default-src 'none'; sandbox` policy stops scripts even if a browser showed it anyway.
 * One range per request is served (206); several ranges get the whole file (200).
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { visibleFile } from "../chat/files/access.js";
import { AppError } from "../errors.js";
import { thumbnailKey } from "../files/keys.js";
import type { FileLinks } from "../files/links.js";
import { type ByteRange, type FileStore, RangeNotSatisfiableError } from "../files/store.js";
import type { Logger } from "../logger.js";
import type { EventLimits } from "../realtime/limits.js";
import type { AsyncChatStore } from "../storage/async-chat-store.js";
import type { FileRecord } from "../storage/chat-store.js";
import { contentDisposition } from "./content-disposition.js";
import { parseRange } from "./ranges.js";
import { sendError } from "./respond.js";

export interface DownloadDeps {
  store: AsyncChatStore;
  files: FileStore;
  links: FileLinks;
  /** downloads count against the user's `reads` allowance */
  limits: EventLimits;
  logger: Logger;
  /** the app's clock, in ms */
  now: () => number;
}

const DOWNLOAD_PATH = /^\/api\/files\/([^/]+)(\/thumbnail)?$/;
const FILE_ID = /^[1-9]\d{0,17}$/;

/** Shown inline; every other type is an attachment. */
const INLINE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);

/** On every answer of these routes, the 404s included. */
const ALWAYS = {
  "x-content-type-options": "nosniff",
  "content-security-policy": "default-src 'none'; sandbox",
  "referrer-policy": "no-referrer",
} as const;

/** Returns `serve`: true when the request is a download, which it then answers. */
export function createDownloads(deps: DownloadDeps): {
  serve(req: IncomingMessage, res: ServerResponse): boolean;
} {
  return {
    serve(req, res) {
      if (req.method !== "GET" && req.method !== "HEAD") return false;
      const url = new URL(req.url ?? "/", "http://localhost");
      const match = DOWNLOAD_PATH.exec(url.pathname);
      if (!match) return false;
      void download(deps, req, res, match[1]!, match[2] !== undefined, url.searchParams);
      return true;
    },
  };
}

async function download(
  deps: DownloadDeps,
  req: IncomingMessage,
  res: ServerResponse,
  fileId: string,
  thumbnail: boolean,
  query: URLSearchParams,
): Promise<void> {
  for (const [name, value] of Object.entries(ALWAYS)) res.setHeader(name, value);
  try {
    const grant = FILE_ID.test(fileId) ? deps.links.verify(fileId, query) : null;
    if (!grant) return notFound(res);
    // only a valid link counts, so nobody can use up someone else's allowance with made-up links
    await deps.limits.take("reads", grant.userId);
    const file = await visibleFile(deps.store, fileId, grant.userId);
    if (!file || (thumbnail && !file.hasThumbnail)) return notFound(res);
    const cache = `private, max-age=${Math.max(0, grant.expiresAt - Math.floor(deps.now() / 1000))}`;
    if (thumbnail) await sendThumbnail(deps, req, res, file, cache);
    else await sendFile(deps, req, res, file, cache);
  } catch (error) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error instanceof AppError && error.code === "RATE_LIMITED") {
      return sendError(res, 429, "RATE_LIMITED", error.message, { retryAfterMs: error.retryAfterMs ?? 1000 });
    }
    deps.logger.error({ err: error, fileId }, "a download failed");
    sendError(res, 503, "UNAVAILABLE", "The file can't be read right now. Please try again in a moment.");
  }
}

function notFound(res: ServerResponse): void {
  sendError(res, 404, "NOT_FOUND", "This link is not valid any more. Open the chat again for a fresh one.");
}

async function sendFile(
  deps: DownloadDeps,
  req: IncomingMessage,
  res: ServerResponse,
  file: FileRecord,
  cache: string,
): Promise<void> {
  const etag = entityTag(file.storeKey);
  const headers: Record<string, string | number> = {
    "content-type": file.type,
    "content-disposition": contentDisposition(
      INLINE_TYPES.has(file.type) ? "inline" : "attachment",
      file.name,
    ),
    "cache-control": cache,
    "accept-ranges": "bytes",
    etag,
  };
  if (req.headers["if-none-match"] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  // If-Range: a client resuming a download of other bytes gets the whole file instead
  const ifRange = req.headers["if-range"];
  const rangeHeader = ifRange === undefined || ifRange === etag ? req.headers.range : undefined;
  const answer = parseRange(rangeHeader, file.size);
  if (answer.kind === "unsatisfiable") return rangeNotSatisfiable(res, file.size, cache);
  const range = answer.kind === "part" ? answer.range : undefined;
  if (req.method === "HEAD") {
    if (!(await deps.files.head(file.storeKey))) return notFound(res);
    writeHeaders(res, headers, file.size, range);
    res.end();
    return;
  }
  let read: Awaited<ReturnType<FileStore["get"]>>;
  try {
    read = await deps.files.get(file.storeKey, range);
  } catch (error) {
    if (error instanceof RangeNotSatisfiableError) return rangeNotSatisfiable(res, error.size, cache);
    throw error;
  }
  if (!read) return notFound(res);
  writeHeaders(
    res,
    headers,
    read.size,
    range && { start: range.start, end: Math.min(range.end, read.size - 1) },
  );
  await stream(read.body, res, deps.logger);
}

/**
 * A thumbnail is small and made by the server, so it is sent whole (no ranges), with the image
 * type its first bytes show.
 */
async function sendThumbnail(
  deps: DownloadDeps,
  req: IncomingMessage,
  res: ServerResponse,
  file: FileRecord,
  cache: string,
): Promise<void> {
  const key = thumbnailKey(file.storeKey);
  const read = await deps.files.get(key, req.method === "HEAD" ? { start: 0, end: 15 } : undefined);
  if (!read) return notFound(res);
  const first = await peek(read.body);
  const type = imageType(first);
  const headers = {
    "content-type": type,
    "content-disposition": contentDisposition(type === GENERIC ? "attachment" : "inline", file.name),
    "cache-control": cache,
    "accept-ranges": "none",
    etag: entityTag(key),
  };
  if (req.headers["if-none-match"] === headers.etag) {
    read.body.destroy();
    res.writeHead(304, headers);
    res.end();
    return;
  }
  writeHeaders(res, headers, read.size, undefined);
  if (req.method === "HEAD") {
    read.body.destroy();
    res.end();
    return;
  }
  await stream(read.body, res, deps.logger);
}

function writeHeaders(
  res: ServerResponse,
  headers: Record<string, string | number>,
  size: number,
  range: ByteRange | undefined,
): void {
  if (!range) {
    res.writeHead(200, { ...headers, "content-length": size });
    return;
  }
  res.writeHead(206, {
    ...headers,
    "content-length": range.end - range.start + 1,
    "content-range": `bytes ${range.start}-${range.end}/${size}`,
  });
}

function rangeNotSatisfiable(res: ServerResponse, size: number, cache: string): void {
  res.writeHead(416, { "content-range": `bytes */${size}`, "cache-control": cache, "content-length": 0 });
  res.end();
}

/** Streams the body out; a client that goes away mid-download stops the read from the store. */
async function stream(body: Readable, res: ServerResponse, logger: Logger): Promise<void> {
  try {
    await pipeline(body, res);
  } catch (err) {
    // the client closing early is normal (a seek, a cancelled download); a store failing is not
    if ((err as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE") {
      logger.warn({ err }, "a download stopped partway: the file store failed");
    }
    res.destroy();
  }
}

/** Files never change once stored (a new upload gets a new key), so the key names the content. */
function entityTag(storeKey: string): string {
  return `"${createHash("sha256").update(storeKey).digest("base64url").slice(0, 22)}"`;
}

const GENERIC = "application/octet-stream";

/** The image type of a thumbnail from its first bytes; anything else is a plain download. */
function imageType(first: Buffer): string {
  const ascii = (from: number, to: number) => first.subarray(from, to).toString("latin1");
  if (first.length >= 8 && first.readUInt32BE(0) === 0x89504e47 && first.readUInt32BE(4) === 0x0d0a1a0a)
    return "image/png";
  if (first.length >= 3 && first[0] === 0xff && first[1] === 0xd8 && first[2] === 0xff) return "image/jpeg";
  if (ascii(0, 6) === "GIF87a" || ascii(0, 6) === "GIF89a") return "image/gif";
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "image/webp";
  return GENERIC;
}

/** The first chunk of `body`, put back so the body still streams from its start. */
function peek(body: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (chunk: Buffer | null, error?: unknown) => {
      body.off("readable", onReadable);
      body.off("end", onEnd);
      body.off("error", onError);
      if (error) reject(error);
      else resolve(chunk ?? Buffer.alloc(0));
    };
    const onReadable = () => {
      const chunk = body.read() as Buffer | null;
      if (chunk === null) return; // not there yet: wait for the next one, or the end
      body.unshift(chunk);
      done(chunk);
    };
    const onEnd = () => done(null);
    const onError = (error: unknown) => done(null, error);
    body.on("readable", onReadable);
    body.once("end", onEnd);
    body.once("error", onError);
  });
}
