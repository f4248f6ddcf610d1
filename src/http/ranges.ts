/**
 * The `Range` header of a download (RFC 9110 §14). One range is served: `bytes=0-99`, `bytes=100-`
 * or `bytes=-100` (the last 100). A header that is not one byte range (several ranges, other units,
 * broken syntax) is ignored, as the RFC allows, and the whole file is sent with 200.
 */
import type { ByteRange } from "../files/store.js";

/** What to send for a file of `size` bytes. */
export type RangeAnswer =
  | { kind: "whole" }
  | { kind: "part"; range: ByteRange }
  /** 416: the range starts past the end of the file */
  | { kind: "unsatisfiable" };

const SINGLE = /^bytes=(\d{0,15})-(\d{0,15})$/;

export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return { kind: "whole" };
  const match = SINGLE.exec(header.trim());
  if (!match) return { kind: "whole" };
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return { kind: "whole" };
  if (first === "") {
    // a suffix: the last N bytes (all of them when N is larger than the file)
    const length = Number(last);
    if (length === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "part", range: { start: Math.max(0, size - length), end: size - 1 } };
  }
  const start = Number(first);
  const end = last === "" ? Number.POSITIVE_INFINITY : Number(last);
  if (end < start) return { kind: "whole" }; // not a valid range: ignored
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "part", range: { start, end: Math.min(end, size - 1) } };
}
