/**
 * What a file is, read from its bytes (file-type's signatures), never from the name or the type
 * the client sent: a PNG renamed `.exe` is a PNG, and an `.exe` called `photo.png` is not an image.
 * Bytes no signature matches are `text/plain` when they read as UTF-8 text, else
 * `application/octet-stream`; both are always downloaded as attachments, never shown inline.
 */
import { open } from "node:fs/promises";
import { fileTypeFromFile } from "file-type";

/** How much of a file without a signature is read to tell text from binary. */
const TEXT_PROBE_BYTES = 8192;

export async function sniffType(path: string): Promise<string> {
  const found = await fileTypeFromFile(path);
  if (found) return found.mime;
  return (await looksLikeText(path)) ? "text/plain" : "application/octet-stream";
}

async function looksLikeText(path: string): Promise<boolean> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(TEXT_PROBE_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, TEXT_PROBE_BYTES, 0);
    if (bytesRead === 0) return false;
    let probe = buffer.subarray(0, bytesRead);
    // the probe may end inside a character: drop up to 3 bytes of a cut-off UTF-8 sequence
    for (let i = 0; i < 3 && probe.length > 0 && (probe.at(-1)! & 0xc0) === 0x80; i++)
      probe = probe.subarray(0, -1);
    if (probe.length > 0 && probe.at(-1)! >= 0xc0) probe = probe.subarray(0, -1);
    if (probe.includes(0)) return false;
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(probe);
      return true;
    } catch {
      return false;
    }
  } finally {
    await handle.close();
  }
}
