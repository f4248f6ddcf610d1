/**
 * PHP's default `files` session handler: one `sess_<id>` file per session in `session.save_path`
 * (Laravel's file driver: one `<id>` file in `storage/framework/sessions`).
 * The id is validated by the caller before it gets here, so the path cannot leave the folder;
 * the file is opened with O_NOFOLLOW (a symlink planted as `sess_<id>` is not followed) and
 * O_NONBLOCK (a FIFO cannot hang the read), and must be a regular file. Expiry is the file's age,
 * as PHP's own garbage collector judges it (mtime, which PHP refreshes on every request).
 */
import { constants, type promises as fsp } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { type SessionStore, SessionStoreUnavailableError, type StoredSession } from "./types.js";

/** Errors that simply mean "no usable session file here". */
const ABSENT = new Set(["ENOENT", "ENOTDIR", "ELOOP", "EISDIR", "ENXIO", "ENAMETOOLONG"]);
const FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

export class FileSessionStore implements SessionStore {
  readonly tornReads = true;

  constructor(
    private readonly dir: string,
    private readonly lifetimeS: number,
    /** reading stops one byte past this; the decoder refuses what is too large */
    private readonly maxBytes: number,
    /** `sess_` for PHP's handler, empty for Laravel's */
    private readonly fileNamePrefix = "sess_",
    private readonly now: () => number = Date.now,
  ) {}

  async load(id: string): Promise<StoredSession | null> {
    let handle: fsp.FileHandle;
    try {
      handle = await open(join(this.dir, `${this.fileNamePrefix}${id}`), FLAGS);
    } catch (error) {
      const code = (error as { code?: string }).code ?? "";
      if (ABSENT.has(code)) return null;
      // EACCES and the like: the chat server may not read PHP's session folder. Not the user's fault.
      throw new SessionStoreUnavailableError(`cannot read the PHP session folder (${code || "error"})`);
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) return null;
      // room for a little growth: PHP may be writing right now (a torn read is retried by the caller)
      const buffer = Buffer.alloc(Math.min(Math.max(stat.size, 8192), this.maxBytes) + 1);
      let length = 0;
      while (length < buffer.length) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
        if (bytesRead === 0) break;
        length += bytesRead;
      }
      return {
        data: buffer.subarray(0, length),
        expired: this.now() - stat.mtimeMs > this.lifetimeS * 1000,
      };
    } catch (error) {
      const code = (error as { code?: string }).code ?? "error";
      throw new SessionStoreUnavailableError(`cannot read a PHP session file (${code})`);
    } finally {
      await handle.close();
    }
  }

  async close(): Promise<void> {}
}
