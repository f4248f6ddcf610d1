/**
 * How a room on a TimeWise record is kept, the same in both chat stores: it is a mirrored group
 * whose external key is `record/<kind>/<id>`, with the record's link in `rooms.record_url` and its
 * title as the room's name. The key's unique index makes one room per record, whoever asks and
 * however many nodes ask at once. Keys of the rooms API (`team:42`) can't hold a `/`, so a
 * mirrored team can never take a record's key, nor be mistaken for a record.
 */
import type { RoomRecord } from "../protocol/index.js";

const PREFIX = "record/";

/** The external key of a record's room. `kind` and `id` are already validated (no `/`). */
export function recordKey(kind: string, id: string): string {
  return `${PREFIX}${kind}/${id}`;
}

/**
 * The record of a stored room, or null when it is not a record's room. Only a record's sync writes
 * a link (the rooms API never does), so the link is what marks one; its key then always holds a
 * `/` after the kind, which can't hold one.
 */
export function recordOf(
  externalKey: string | null,
  name: string | null,
  url: string | null,
): RoomRecord | null {
  if (url === null || externalKey === null) return null;
  const rest = externalKey.slice(PREFIX.length);
  const slash = rest.indexOf("/");
  return { kind: rest.slice(0, slash), id: rest.slice(slash + 1), title: name ?? "", url };
}
