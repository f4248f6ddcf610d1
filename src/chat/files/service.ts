/**
 * Uploads: an upload is streamed to a spooled file (never held in memory), refused past
 * FILES_MAX_BYTES or the uploader's quota as soon as it gets there, typed from its bytes, then
 * prepared if it is an image (size, thumbnail, metadata removed: src/files/images.ts), then
 * recorded and put in the file store. The record comes first, so a crash between the two leaves
 * an unattached record (removed by the clean-up of unattached uploads, cleanup.ts), never bytes no
 * record names. Removing goes the other way round: record first, bytes after (bytes.ts).
 */
import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import type { FilesConfig } from "../../config/files.js";
import { AppError, badRequest, unavailable } from "../../errors.js";
import { ImageProcessor, ImagesBusyError, type PreparedImage } from "../../files/images.js";
import { storeKeysOf, thumbnailKey } from "../../files/keys.js";
import { filePath, thumbnailPath } from "../../files/links.js";
import { cleanFileName } from "../../files/names.js";
import { sniffType } from "../../files/sniff.js";
import { type FileStore, FileTooLargeError, type SpooledFile, spool } from "../../files/store.js";
import type { ChatFile } from "../../protocol/index.js";
import type { Actor } from "../../shared/actor.js";
import type { FileRecord } from "../../storage/chat-store.js";
import { quotaExceeded } from "../../storage/files.js";
import type { ChatDeps } from "../context.js";
import type { FileBytes } from "./bytes.js";

export interface UploadInput {
  /** the name the client gave; cleaned before it is kept */
  name: string | undefined;
  body: Readable;
}

export class FileService {
  constructor(
    private readonly deps: ChatDeps,
    private readonly files: FileStore,
    private readonly limits: Pick<FilesConfig, "maxBytes" | "quotaBytes">,
    /** a file store that failed: logged, while the client gets UNAVAILABLE */
    private readonly reportProblem: (error: unknown) => void,
    /** removes the bytes of records deleted here */
    private readonly bytes: FileBytes,
    /** sizes, thumbnails and metadata removal for images */
    private readonly images: ImageProcessor = new ImageProcessor(),
  ) {}

  async upload(actor: Actor, input: UploadInput): Promise<ChatFile> {
    const { maxBytes, quotaBytes } = this.limits;
    const used = await this.deps.store.fileBytesOf(actor.id);
    const room = Math.max(0, quotaBytes - used);
    // stop reading at whichever limit comes first, and say which one it was
    const limit = Math.min(maxBytes, room);
    let spooled: SpooledFile;
    try {
      spooled = await spool(input.body, this.files.spoolDir, { maxBytes: limit });
    } catch (error) {
      if (error instanceof FileTooLargeError) {
        if (limit < maxBytes) throw quotaExceeded(used, quotaBytes);
        throw tooLarge(maxBytes);
      }
      throw error;
    }
    const made: SpooledFile[] = [];
    try {
      if (spooled.size === 0) throw badRequest("The file is empty.");
      const type = await sniffType(spooled.path);
      const image = await this.prepareImage(spooled, type);
      // what is served (and counted) is the image without its metadata, when it had any
      const served = image?.served ?? spooled;
      if (image?.served) made.push(image.served);
      if (image?.thumbnail) made.push(image.thumbnail);
      const record = await this.deps.store.createFile(
        {
          uploaderId: actor.id,
          name: cleanFileName(input.name),
          size: served.size,
          type,
          width: image?.width ?? null,
          height: image?.height ?? null,
          hasThumbnail: image?.thumbnail != null,
          // the first two characters make a folder level, so no folder of the disk store grows huge
          storeKey: storeKeyFor(randomUUID()),
          at: this.deps.now(),
        },
        quotaBytes,
      );
      try {
        await this.files.putSpooled(record.storeKey, served);
        if (image?.thumbnail) await this.files.putSpooled(thumbnailKey(record.storeKey), image.thumbnail);
      } catch (error) {
        await this.deps.store.deleteFile(record.id, this.deps.now());
        // a failed PUT may still have left part of the bytes (a disk store, a network cut)
        await this.bytes.remove(storeKeysOf(record), "discarded");
        this.reportProblem(error);
        throw unavailable("The file could not be stored right now. Please try again in a moment.");
      }
      // the uploader can show it at once (a preview before sending), with their own link
      return this.deps.links.file(toChatFile(record), actor.id);
    } finally {
      await Promise.all([spooled, ...made].map((file) => file.dispose()));
    }
  }

  /** Size, thumbnail and served bytes of an image; null for other types. */
  private async prepareImage(spooled: SpooledFile, type: string): Promise<PreparedImage | null> {
    try {
      return await this.images.prepare(spooled, type, this.files.spoolDir);
    } catch (error) {
      if (error instanceof ImagesBusyError) {
        throw unavailable("Too many images are being uploaded right now. Please try again in a moment.");
      }
      throw error;
    }
  }

  /** Removes an upload that its request did not finish well (its record and bytes). */
  async discard(file: ChatFile): Promise<void> {
    const record = await this.deps.store.file(file.id);
    if (!record) return;
    await this.deps.store.deleteFile(record.id, this.deps.now());
    await this.bytes.remove(storeKeysOf(record), "discarded");
  }
}

function storeKeyFor(uuid: string): string {
  return `${uuid.slice(0, 2)}/${uuid}`;
}

export function tooLarge(maxBytes: number): AppError {
  return new AppError("PAYLOAD_TOO_LARGE", `A file can be at most ${formatBytes(maxBytes)}.`, { maxBytes });
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  return `${bytes} bytes`;
}

/** A record as the contract shows it. */
export function toChatFile(record: FileRecord): ChatFile {
  return {
    id: record.id,
    name: record.name,
    size: record.size,
    type: record.type,
    width: record.width,
    height: record.height,
    url: filePath(record.id),
    thumbnailUrl: record.hasThumbnail ? thumbnailPath(record.id) : null,
  };
}
