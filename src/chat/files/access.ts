/**
 * Who may download a file: its uploader, and the members of the room it is attached in, asked of
 * the chat store at the moment of the download (so a member who was removed loses access at
 * once, on every node). Links for the PHP back end are signed for the TimeWise system user (the
 * server API's answers and webhooks): it may read any attached file, as it may read every room.
 */
import type { AsyncChatStore } from "../../storage/async-chat-store.js";
import type { FileRecord } from "../../storage/chat-store.js";
import { SYSTEM_SENDER } from "../messages/system.js";

/** The file's record when `userId` may download it; null when not, or when there is no such file. */
export async function visibleFile(
  store: AsyncChatStore,
  fileId: string,
  userId: string,
): Promise<FileRecord | null> {
  const file = await store.file(fileId);
  if (!file) return null;
  if (file.uploaderId === userId) return file;
  if (file.roomId === null) return null;
  if (userId === SYSTEM_SENDER.id) return file;
  return (await store.membership(file.roomId, userId)) === undefined ? null : file;
}
