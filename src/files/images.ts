/**
 * What an uploaded image becomes (PNG, JPEG, GIF, WebP): its size, a thumbnail, and the bytes that
 * are served. sharp (libvips) does the work on libuv's thread pool, so the event loop keeps
 * answering sends while an image is read; a few images at a time per node, each given one libvips
 * thread, so a burst of uploads waits in line instead of taking every core and every pool thread.
 *
 * An image with metadata (EXIF, with the camera's GPS position, XMP, IPTC) is re-encoded with its
 * orientation applied and no metadata; one without is served byte for byte. An image sharp cannot
 * read in time (too many pixels, cut off, not what its magic bytes say) is a plain file: no size,
 * no thumbnail, and its metadata removed from the bytes as far as that works without decoding.
 */
import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Sharp } from "sharp";
import type { SpooledFile } from "./store.js";
import { stripMetadataBytes } from "./strip-metadata.js";

/** The types that get a size and a thumbnail (what browsers show inline). */
export const IMAGE_TYPES: ReadonlySet<string> = new Set([
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
]);

/** The longest side of a thumbnail, in pixels. */
export const THUMBNAIL_SIZE = 360;

export interface ImageLimits {
  /**
   * Images declaring more pixels (all frames together) are not decoded: a small file can declare
   * 100,000 × 100,000 and would need 40 GB. 50 MP still takes a 48-megapixel phone photo.
   */
  maxPixels: number;
  /** How long libvips may work on one step (re-encoding, the thumbnail) before it is stopped. */
  timeoutS: number;
  /** Images worked on at once by this node. */
  concurrency: number;
  /** Images that may wait for a turn; more at once are refused as busy. */
  maxWaiting: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = {
  maxPixels: 50_000_000,
  timeoutS: 10,
  concurrency: Math.max(1, Math.floor(availableParallelism() / 2)),
  maxWaiting: 32,
};

/** What an upload of an image type turned out to be. */
export interface PreparedImage {
  /** null (with `height`) when it could not be read as an image */
  width: number | null;
  height: number | null;
  /** the bytes to serve instead of the upload, in the same folder; null: serve the upload as it is */
  served: SpooledFile | null;
  /** the thumbnail (WebP); null when it could not be read as an image */
  thumbnail: SpooledFile | null;
}

/** Too many images are waiting already; the upload is refused, and may be sent again. */
export class ImagesBusyError extends Error {
  constructor() {
    super("too many images are being processed");
    this.name = "ImagesBusyError";
  }
}

type SharpFunction = typeof import("sharp").default;
let loading: Promise<SharpFunction> | null = null;

/**
 * sharp, loaded with the first image: libvips adds about 30 MiB and half a second to a start-up
 * that may never see an image. A platform without its binary fails here, and every image becomes
 * a plain file (logged) instead of the server failing to start.
 */
function loadSharp(): Promise<SharpFunction> {
  loading ??= import("sharp").then(({ default: sharp }) => {
    // the inputs are all different, so libvips' operation cache would only hold memory and open files
    sharp.cache(false);
    // one libvips thread per image: the line of images below decides how many cores they use
    sharp.concurrency(1);
    return sharp;
  });
  return loading;
}

export class ImageProcessor {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
    /** an image that became a plain file, and why (for the log) */
    private readonly onUnreadable: (type: string, error: unknown) => void = () => {},
  ) {}

  /**
   * The image's size, thumbnail and served bytes; null for a type that is not an image. New
   * files go into `dir` (the store's spool folder, so storing them is a rename). Rejects only with
   * ImagesBusyError or a disk error: an image that cannot be read resolves as a plain file.
   */
  async prepare(file: SpooledFile, type: string, dir: string): Promise<PreparedImage | null> {
    if (!IMAGE_TYPES.has(type)) return null;
    await this.turn();
    try {
      return await this.read(file, type, dir);
    } finally {
      this.done();
    }
  }

  private async read(file: SpooledFile, type: string, dir: string): Promise<PreparedImage> {
    const made: SpooledFile[] = [];
    try {
      const sharp = await loadSharp();
      const input = { limitInputPixels: this.limits.maxPixels, failOn: "error" as const, autoOrient: true };
      // the first frame's header, upright: what a viewer shows first
      const meta = await sharp(file.path, input).metadata();
      if (meta.format !== FORMATS[type]) throw new Error(`the bytes read as ${meta.format}, not ${type}`);
      const hasMetadata =
        meta.exif !== undefined ||
        meta.xmp !== undefined ||
        meta.iptc !== undefined ||
        (meta.orientation ?? 1) > 1;
      let served: SpooledFile | null = null;
      if (hasMetadata) {
        // every frame, turned upright; sharp writes no metadata unless asked to, and the ICC
        // profile is only colour
        const pipeline = sharp(file.path, { ...input, pages: -1 }).keepIccProfile();
        served = await this.write(made, dir, reencode(pipeline, type));
      }
      // the thumbnail decodes the whole picture, so a cut-off file fails here at the latest
      const thumbnail = await this.write(
        made,
        dir,
        sharp((served ?? file).path, input)
          .resize({ width: THUMBNAIL_SIZE, height: THUMBNAIL_SIZE, fit: "inside", withoutEnlargement: true })
          .webp({ quality: 75 }),
      );
      return { width: meta.autoOrient.width, height: meta.autoOrient.height, served, thumbnail };
    } catch (error) {
      await Promise.all(made.map((f) => f.dispose()));
      this.onUnreadable(type, error);
      return {
        width: null,
        height: null,
        served: await stripMetadataBytes(file, type, dir),
        thumbnail: null,
      };
    }
  }

  /** Runs `image` into a new file in `dir`, time-boxed; the file is remembered in `made` for clean-up. */
  private async write(made: SpooledFile[], dir: string, image: Sharp): Promise<SpooledFile> {
    const path = join(dir, `${randomUUID()}.part`);
    const file = { path, size: 0, sha256: "", dispose: () => rm(path, { force: true }) };
    made.push(file);
    await image.timeout({ seconds: this.limits.timeoutS }).toFile(path);
    file.size = (await stat(path)).size;
    file.sha256 = await sha256Of(path);
    return file;
  }

  private turn(): Promise<void> {
    if (this.running < this.limits.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.limits.maxWaiting) return Promise.reject(new ImagesBusyError());
    // the finishing job hands its place straight on, so `running` does not change
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private done(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}

/** sharp's name for each image type. */
const FORMATS: Record<string, string> = {
  "image/png": "png",
  "image/jpeg": "jpeg",
  "image/gif": "gif",
  "image/webp": "webp",
};

/** The same format again: lossless stays lossless, and JPEG and WebP at a quality close to a camera's. */
function reencode(image: Sharp, type: string): Sharp {
  if (type === "image/jpeg") return image.jpeg({ quality: 90 });
  if (type === "image/webp") return image.webp({ quality: 90 });
  if (type === "image/gif") return image.gif();
  return image.png();
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}
