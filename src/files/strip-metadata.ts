/**
 * Removes metadata from an image's bytes without decoding it, for the images that sharp cannot
 * read (cut off, or a declared size past the pixel limit) and so cannot re-encode. Such a file is
 * kept as a plain file, but it may still carry the camera's GPS position, so it is not served as
 * it was sent: JPEG loses its APP1 (EXIF, XMP) and APP13 (IPTC) segments, PNG its eXIf and text
 * chunks (XMP rides in iTXt). Everything else is copied byte for byte, broken parts included.
 * GIF and WebP are served as sent: neither carries EXIF in a form that survives being unreadable.
 */
import { open } from "node:fs/promises";
import { Readable } from "node:stream";
import { type SpooledFile, spool } from "./store.js";

/** A part of the source file to copy: `start` included, `end` excluded. */
type Span = [start: number, end: number];

const CHUNK = 64 * 1024;
/** a header with more segments than this is not a photo; what is left is copied as it is */
const MAX_SEGMENTS = 4096;

/**
 * The file without its metadata, spooled into `dir`; null when there was nothing to remove (or
 * the type is not one this reads), so the upload is served as it is.
 */
export async function stripMetadataBytes(
  file: SpooledFile,
  type: string,
  dir: string,
): Promise<SpooledFile | null> {
  const handle = await open(file.path, "r");
  try {
    const read = async (position: number, length: number): Promise<Buffer> => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, position);
      return buffer.subarray(0, bytesRead);
    };
    const kept =
      type === "image/jpeg"
        ? await jpegSpans(read, file.size)
        : type === "image/png"
          ? await pngSpans(read, file.size)
          : null;
    if (kept === null) return null;
    const total = kept.reduce((sum, [start, end]) => sum + end - start, 0);
    if (total === file.size) return null;
    return await spool(Readable.from(copySpans(read, kept)), dir);
  } finally {
    await handle.close();
  }
}

type Reader = (position: number, length: number) => Promise<Buffer>;

async function* copySpans(read: Reader, spans: Span[]): AsyncGenerator<Buffer> {
  for (const [start, end] of spans) {
    for (let at = start; at < end; at += CHUNK) {
      const part = await read(at, Math.min(CHUNK, end - at));
      if (part.length === 0) return;
      yield part;
    }
  }
}

/** JPEG: the segments before the image data, then the rest as it is. */
async function jpegSpans(read: Reader, size: number): Promise<Span[] | null> {
  const soi = await read(0, 2);
  if (soi[0] !== 0xff || soi[1] !== 0xd8) return null;
  const spans: Span[] = [[0, 2]];
  let at = 2;
  for (let n = 0; n < MAX_SEGMENTS && at < size; n++) {
    const head = await read(at, 4);
    if (head.length < 2 || head[0] !== 0xff) break;
    const marker = head[1]!;
    if (marker === 0xff) {
      // a fill byte before a marker
      spans.push([at, at + 1]);
      at += 1;
      continue;
    }
    // start of scan or end of image: the image data follows, copied as it is
    if (marker === 0xda || marker === 0xd9) break;
    const standalone = marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);
    const length = standalone ? 2 : head.length < 4 ? size - at : 2 + head.readUInt16BE(2);
    const end = Math.min(size, at + length);
    // APP1 is EXIF (with the GPS block) or XMP, APP13 is IPTC; nothing needed to show the picture
    if (marker !== 0xe1 && marker !== 0xed) spans.push([at, end]);
    at = end;
  }
  if (at < size) spans.push([at, size]);
  return spans;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** the chunks that can carry where and when a picture was taken */
const PNG_METADATA = new Set(["eXIf", "tEXt", "zTXt", "iTXt"]);

/** PNG: every chunk but the metadata ones; from a chunk that doesn't parse on, the rest as it is. */
async function pngSpans(read: Reader, size: number): Promise<Span[] | null> {
  if (!(await read(0, 8)).equals(PNG_SIGNATURE)) return null;
  const spans: Span[] = [[0, 8]];
  let at = 8;
  for (let n = 0; n < MAX_SEGMENTS && at < size; n++) {
    const head = await read(at, 8);
    if (head.length < 8) break;
    const type = head.subarray(4, 8).toString("latin1");
    // length, type, data, CRC; a chunk cut off by the end of the file ends there
    const end = Math.min(size, at + 12 + head.readUInt32BE(0));
    if (!PNG_METADATA.has(type)) spans.push([at, end]);
    at = end;
  }
  if (at < size) spans.push([at, size]);
  return spans;
}
