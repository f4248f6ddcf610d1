/**
 * The disk file store (FILES_STORE=disk): one file per key under FILES_DIR. Uploads are spooled
 * into `FILES_DIR/.incoming`, on the same file system, so storing one is a rename: a reader
 * never sees half a file, and a crash leaves at most a stray `.part` file in `.incoming`.
 */
import { constants } from "node:fs";
import { access, mkdir, open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
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

export class DiskFileStore implements FileStore {
  readonly kind = "disk";
  readonly spoolDir: string;

  constructor(private readonly dir: string) {
    // a leading dot can never be a key (checkKey), so spooled files never meet stored ones
    this.spoolDir = join(dir, ".incoming");
  }

  put(key: string, body: Readable, options?: SpoolOptions): Promise<StoredFile> {
    return spoolAndPut(this, key, body, this.spoolDir, options);
  }

  async putSpooled(key: string, file: SpooledFile): Promise<void> {
    const target = this.path(key);
    // the bytes reach the disk before the name points at them, so a crash never leaves a short file
    const handle = await open(file.path, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await mkdir(dirname(target), { recursive: true });
    await rename(file.path, target);
  }

  async get(key: string, range?: ByteRange): Promise<FileRead | null> {
    const handle = await open(this.path(key), "r").catch(missingAsNull);
    if (!handle) return null;
    try {
      const { size } = await handle.stat();
      if (range && range.start >= size) throw new RangeNotSatisfiableError(size);
      const part = range ? { start: range.start, end: Math.min(range.end, size - 1) } : {};
      // the open handle keeps reading the same file even if it is deleted meanwhile
      return { body: handle.createReadStream({ ...part, autoClose: true }), size };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async head(key: string): Promise<{ size: number } | null> {
    const handle = await open(this.path(key), "r").catch(missingAsNull);
    if (!handle) return null;
    try {
      return { size: (await handle.stat()).size };
    } finally {
      await handle.close();
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async ping(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await access(this.dir, constants.W_OK);
  }

  async close(): Promise<void> {}

  private path(key: string): string {
    return join(this.dir, checkKey(key));
  }
}

function missingAsNull(error: NodeJS.ErrnoException): null {
  if (error.code === "ENOENT") return null;
  throw error;
}
