/**
 * File records as both chat stores keep them. The `files` table is the record of every upload
 * (who, how large, attached to which message): quotas, access checks and clean-ups read it. A
 * message row also keeps a copy of what its files show (as JSON, like its reactions), written in
 * the same transaction that attaches them, so every read of a message has its files without a
 * join; the copy never goes stale, as an attached file does not change.
 */
import { AppError, badRequest } from "../errors.js";
import { filePath, thumbnailPath } from "../files/links.js";
import type { ChatFile } from "../protocol/index.js";

/** One upload. */
export interface FileRecord {
  id: string;
  uploaderId: string;
  name: string;
  size: number;
  /** sniffed from the bytes */
  type: string;
  width: number | null;
  height: number | null;
  hasThumbnail: boolean;
  createdAt: string;
  /** null until a message carries it */
  messageId: string | null;
  roomId: string | null;
  /**
   * Where its bytes are in the file store: random, never reused. Row ids can come back after a
   * delete (SQLite reuses the largest), and a late delete of the old bytes must never hit new ones.
   */
  storeKey: string;
}

export type NewFile = Omit<FileRecord, "id" | "createdAt" | "messageId" | "roomId"> & { at: string };

/** What a message row keeps of each of its files. */
interface AttachedFile {
  id: string;
  name: string;
  size: number;
  type: string;
  width: number | null;
  height: number | null;
  thumbnail: boolean;
}

/** The JSON a message row keeps of `files`, in their order. */
export function attachedFilesJson(files: readonly FileRecord[]): string {
  const attached: AttachedFile[] = files.map((f) => ({
    id: f.id,
    name: f.name,
    size: f.size,
    type: f.type,
    width: f.width,
    height: f.height,
    thumbnail: f.hasThumbnail,
  }));
  return JSON.stringify(attached);
}

/** A message row's files as the contract shows them. */
export function parseAttachedFiles(json: string): ChatFile[] {
  return (JSON.parse(json) as AttachedFile[]).map((f) => ({
    id: f.id,
    name: f.name,
    size: f.size,
    type: f.type,
    width: f.width,
    height: f.height,
    url: filePath(f.id),
    thumbnailUrl: f.thumbnail ? thumbnailPath(f.id) : null,
  }));
}

/** The answer when `fileIds` names a file that can't be attached; it never says which rule failed. */
export function notAttachable(fileId: string): Error {
  return badRequest("fileIds: each file must be one you uploaded and have not attached to a message yet.", {
    fileId,
  });
}

/** The answer when an upload would take its uploader past their quota. */
export function quotaExceeded(usedBytes: number, quotaBytes: number): AppError {
  return new AppError(
    "QUOTA_EXCEEDED",
    "You have no room left for this file: remove older files, or ask for a larger quota.",
    { usedBytes, quotaBytes },
  );
}
