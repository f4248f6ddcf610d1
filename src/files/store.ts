/**
 * Where the bytes of uploaded files live: the `FileStore` interface, and the spooling that every
 * store shares. An upload is first streamed to a temporary file while its bytes are counted and
 * hashed, so a too-large upload is cut off before anything is kept, its type can be read from the
 * bytes, and the store gets a file of known size (S3 wants the length before the first byte).
 */
import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";

/** An upload on local disk, waiting to go into a store. */
export interface SpooledFile {
  /** the temporary file */
  path: string;
  size: number;
  /** SHA-256 of the bytes, hex */
  sha256: string;
  /** Removes the temporary file (nothing happens if a store already moved it away). */
  dispose(): Promise<void>;
}

/** Part of a file, as in an HTTP range: `start` and `end` are both included. */
export interface ByteRange {
  start: number;
  end: number;
}

/** A file being read from a store. */
export interface FileRead {
  body: Readable;
  /** the size of the whole file, whatever part is read */
  size: number;
}

export interface FileStore {
  readonly kind: "disk" | "s3";
  /** where uploads for this store are spooled (`spool`), so `putSpooled` can move rather than copy */
  readonly spoolDir: string;
  /** Streams `body` into the store under `key` (spooled first, see `spool`); rejects as `spool` does. */
  put(key: string, body: Readable, options?: SpoolOptions): Promise<StoredFile>;
  /** Stores an already spooled file under `key`; the spooled file may be moved away. */
  putSpooled(key: string, file: SpooledFile): Promise<void>;
  /**
   * The file, or the part of it in `range` (an `end` past the file is cut to its last byte); null
   * when there is no such file. A `start` past the end rejects with RangeNotSatisfiableError.
   */
  get(key: string, range?: ByteRange): Promise<FileRead | null>;
  /** The file's size, or null when there is no such file. */
  head(key: string): Promise<{ size: number } | null>;
  /** Removes the file; removing a missing file is not an error (deletes are retried). */
  delete(key: string): Promise<void>;
  /** Resolves when the store answers (for `/ready`). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface StoredFile {
  size: number;
  sha256: string;
}

export interface SpoolOptions {
  /** more bytes than this rejects with FileTooLargeError and keeps nothing */
  maxBytes?: number;
}

/** The upload had more bytes than allowed; the spooled part was removed. */
export class FileTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the file is larger than ${maxBytes} bytes`);
    this.name = "FileTooLargeError";
  }
}

/** The range starts at or past the end of the file. */
export class RangeNotSatisfiableError extends Error {
  constructor(readonly size: number) {
    super(`the range is outside the file (${size} bytes)`);
    this.name = "RangeNotSatisfiableError";
  }
}

/**
 * Keys are made by the server, but a store turns them into paths and URLs, so anything that could
 * climb out of its folder or bucket prefix is refused here once for every store.
 */
const KEY = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

export function checkKey(key: string): string {
  if (!KEY.test(key) || key.length > 512) throw new Error(`not a file store key: ${JSON.stringify(key)}`);
  return key;
}

/**
 * Streams `body` into a new file in `dir`, counting and hashing as it goes. Past `maxBytes` it
 * stops reading, removes the partial file and rejects with FileTooLargeError; a body that fails
 * (a cut-off upload) rejects with its error and also leaves nothing behind.
 */
export async function spool(body: Readable, dir: string, options: SpoolOptions = {}): Promise<SpooledFile> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${randomUUID()}.part`);
  const hash = createHash("sha256");
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > maxBytes) return done(new FileTooLargeError(maxBytes));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const dispose = () => rm(path, { force: true });
  try {
    await pipeline(body, counter, createWriteStream(path, { flags: "wx", mode: 0o600 }));
  } catch (error) {
    await dispose();
    throw error;
  }
  return { path, size, sha256: hash.digest("hex"), dispose };
}

/** `FileStore.put` for every store: spool, hand the file over, and always clean up the spooled copy. */
export async function spoolAndPut(
  store: Pick<FileStore, "putSpooled">,
  key: string,
  body: Readable,
  spoolDir: string,
  options?: SpoolOptions,
): Promise<StoredFile> {
  const file = await spool(body, spoolDir, options);
  try {
    await store.putSpooled(key, file);
    return { size: file.size, sha256: file.sha256 };
  } finally {
    await file.dispose();
  }
}
