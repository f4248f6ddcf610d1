/**
 * Paging cursors for `room:list` and `room:members`. A cursor is opaque to clients (base64url of a
 * small JSON array) so its contents can change without breaking anyone; a cursor that does not
 * decode is the caller's mistake (BAD_REQUEST), never a crash.
 */
import { badRequest } from "../../errors.js";

/** Where a `room:list` page ended: the last room's activity time and id. */
export interface RoomCursor {
  at: string;
  id: string;
}

export function encodeRoomCursor(at: string, id: string): string {
  return encode([at, id]);
}

export function decodeRoomCursor(cursor: string): RoomCursor {
  const value = decode(cursor);
  if (
    Array.isArray(value) &&
    value.length === 2 &&
    typeof value[0] === "string" &&
    typeof value[1] === "string" &&
    /^[1-9][0-9]{0,15}$/.test(value[1])
  ) {
    return { at: value[0], id: value[1] };
  }
  throw invalid();
}

/** Where a `room:members` page ended: the last member's place in the join order. */
export function encodeMemberCursor(joinOrder: number): string {
  return encode(["m", joinOrder]);
}

export function decodeMemberCursor(cursor: string): number {
  const value = decode(cursor);
  if (Array.isArray(value) && value[0] === "m" && Number.isSafeInteger(value[1])) return value[1] as number;
  throw invalid();
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

function decode(cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
  } catch {
    throw invalid();
  }
}

const invalid = () => badRequest('Check "cursor": use the "next" value of the previous answer.');
