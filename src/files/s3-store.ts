/**
 * The S3 file store (FILES_STORE=s3): one object per key in S3_BUCKET, on Amazon S3 or any
 * S3-compatible service (MinIO, Ceph, R2, …). Every node reaches the same bucket, so this is the
 * store for several nodes. Uploads are spooled to a local temporary file first, so each object is
 * one plain PUT with a known length, and a cut-off upload never reaches the bucket.
 */
import { createReadStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import type { FileStoreConfig } from "../config/files.js";
import {
  type ByteRange,
  checkKey,
  type FileRead,
  type FileStore,
  RangeNotSatisfiableError,
  type SpooledFile,
  type SpoolOptions,
  type StoredFile,
  spoolAndPut,
} from "./store.js";

export type S3StoreConfig = Extract<FileStoreConfig, { kind: "s3" }>;

export class S3FileStore implements FileStore {
  readonly kind = "s3";
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(
    config: S3StoreConfig,
    readonly spoolDir = join(tmpdir(), "timewise-chat-uploads"),
  ) {
    this.bucket = config.bucket;
    this.client = new S3Client({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      ...(config.credentials ? { credentials: config.credentials } : {}),
      forcePathStyle: config.forcePathStyle,
      // newer SDKs add CRC checksums (and chunked bodies) to every request by default, which many
      // S3-compatible services refuse; send and check them only where S3 requires them
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  put(key: string, body: Readable, options?: SpoolOptions): Promise<StoredFile> {
    return spoolAndPut(this, key, body, this.spoolDir, options);
  }

  async putSpooled(key: string, file: SpooledFile): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: checkKey(key),
        Body: createReadStream(file.path),
        ContentLength: file.size,
        // the server serves each file with the type it sniffed, never with what the bucket says
        ContentType: "application/octet-stream",
      }),
    );
  }

  async get(key: string, range?: ByteRange): Promise<FileRead | null> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: checkKey(key),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      if (!(out.Body instanceof Readable)) throw new Error("the S3 client gave no stream for the object");
      const sent = sentRange(out.ContentRange, out.ContentLength);
      if (!sent) {
        out.Body.destroy();
        throw new Error("the S3 service did not say how large the object is");
      }
      if (!range) return { body: out.Body, size: sent.size };
      // some S3-compatible services send more than asked (a whole object for `bytes=0-0`), so
      // the bytes outside the asked range are dropped here rather than trusted to the service
      const end = Math.min(range.end, sent.size - 1);
      const body =
        sent.start === range.start && sent.end === end
          ? out.Body
          : slice(out.Body, range.start - sent.start, end - range.start + 1);
      return { body, size: sent.size };
    } catch (error) {
      if (isStatus(error, 404)) return null;
      if (isStatus(error, 416)) {
        const head = await this.head(key);
        if (!head) return null;
        throw new RangeNotSatisfiableError(head.size);
      }
      throw error;
    }
  }

  async head(key: string): Promise<{ size: number } | null> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: checkKey(key) }));
      return { size: out.ContentLength ?? 0 };
    } catch (error) {
      if (isStatus(error, 404)) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    // S3 answers a delete of a missing object with success, so a retried delete is harmless
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: checkKey(key) }));
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

/**
 * The part of the object a GET answered with: `Content-Range: bytes 0-9/1234`, or without that
 * header the whole object (a service that ignored the range). Null when the size is not known.
 */
function sentRange(
  contentRange: string | undefined,
  contentLength: number | undefined,
): { start: number; end: number; size: number } | null {
  if (contentRange === undefined) {
    if (contentLength === undefined) return null;
    return { start: 0, end: contentLength - 1, size: contentLength };
  }
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(contentRange);
  if (!match) return null;
  return { start: Number(match[1]), end: Number(match[2]), size: Number(match[3]) };
}

/** `take` bytes of `body` after skipping `skip`; the source is closed once they have passed. */
function slice(body: Readable, skip: number, take: number): Readable {
  if (skip < 0) {
    body.destroy();
    throw new Error("the S3 service sent a range that starts after the one asked for");
  }
  let offset = 0;
  let left = take;
  const out = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const from = Math.max(0, skip - offset);
      offset += chunk.length;
      if (left > 0 && from < chunk.length) {
        const part = chunk.subarray(from, from + left);
        left -= part.length;
        this.push(part);
      }
      if (left === 0) {
        this.push(null);
        body.destroy();
      }
      done();
    },
  });
  // errors travel forward, and a reader that stops (a closed download) stops the source too
  body.on("error", (error) => out.destroy(error));
  out.on("close", () => body.destroy());
  return body.pipe(out);
}

function isStatus(error: unknown, status: number): boolean {
  return error instanceof S3ServiceException && error.$metadata.httpStatusCode === status;
}
