/**
 * Images made in the test, so every byte is known: noise (which compresses like a photo, so
 * sizes are realistic), a JPEG with a GPS position in its EXIF, and a PNG whose header declares
 * more pixels than any server should decode (a decompression bomb: a few hundred bytes on disk).
 */
import { deflateSync } from "node:zlib";
import sharp, { type SharpOptions } from "sharp";

/** A text only the GPS block of `jpegWithGps` holds, to look for in served bytes. */
export const GPS_MARK = "TWC-GPS-DATUM";

/** sharp input for a `width` × `height` picture of grey noise. */
export function noise(width: number, height: number): SharpOptions {
  return {
    create: {
      width,
      height,
      channels: 3,
      background: "#808080",
      noise: { type: "gaussian", mean: 128, sigma: 40 },
    },
  };
}

/** A JPEG whose EXIF has a GPS position (and GPS_MARK), stored with EXIF `orientation` (1: upright). */
export async function jpegWithGps(width: number, height: number, orientation: number): Promise<Buffer> {
  const image = sharp(noise(width, height)).withExif({
    IFD0: { Make: "TimeWise test camera" },
    IFD3: { GPSLatitudeRef: "N", GPSLatitude: "52/1 31/1 12/1", GPSMapDatum: GPS_MARK },
  });
  const oriented = orientation === 1 ? image : image.withMetadata({ orientation });
  return oriented.jpeg({ quality: 85 }).toBuffer();
}

/** A valid PNG file whose header says `width` × `height` pixels, with one row of image data. */
export function bombPng(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per sample
  header[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    pngChunk("IDAT", deflateSync(Buffer.alloc(1 + 3 * Math.min(width, 4096)))),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * A valid lossless WebP of 16,383 × 16,383 grey pixels (the largest WebP there is) in 38 bytes:
 * cheap to send, but decoding it takes libwebp about two seconds on a shared 2-core machine (it
 * decodes the whole picture at once), so it is a genuinely slow image for the processing timeout.
 * Made once with sharp's `webp({ lossless: true, effort: 0 })`, which takes half a minute.
 */
export const SLOW_WEBP = Buffer.from("UklGRh4AAABXRUJQVlA4TBEAAAAv/r//DwdQwAIWsP+BiOh/AAA=", "base64");
/** The side of SLOW_WEBP, in pixels. */
export const SLOW_WEBP_SIDE = 16_383;
