/**
 * Conversations on TimeWise records in the web UI: the link back to the record, and the chat
 * list's filter. The server only accepts http and https links, but the page checks again before
 * it makes an `href`: a link that ran script would run it on the chat's own origin.
 */
import type { Room } from "../src/sdk/index.js";

/** The record's address when it is a plain http or https link, else null (then no link is shown). */
export function safeRecordUrl(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** Which chats the list shows. */
export type ListFilter = "all" | "records" | "others";

/** Whether a room passes the list's filter (as `room:list`'s `record: true | false` would). */
export function passesFilter(room: Room, filter: ListFilter): boolean {
  if (filter === "all") return true;
  return (room.record != null) === (filter === "records");
}
