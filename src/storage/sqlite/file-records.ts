/**
 * File records in SQLite (the `files` table, see ../files.ts): keeping an upload's record within
 * its uploader's quota, reading records, and the checks a send makes before attaching files.
 * Writes run as writes of the store's queue; the quota sum runs inside the same write, so two
 * uploads at once can never pass the quota together. A removed record leaves its store key in
 * `file_deletions` until the bytes are gone (see ../files.ts).
 */
import { storeKeysOf } from "../../files/keys.js";
import type { FileRecord, NewFile } from "../files.js";
import { notAttachable, quotaExceeded } from "../files.js";
import type { SqliteDatabase } from "./open.js";
import type { WriteQueue } from "./write-queue.js";

const FILE_COLUMNS =
  "id, uploader_id, name, size, type, width, height, has_thumbnail, created_at, message_id, room_id, store_key";

interface FileRow {
  id: number;
  uploader_id: string;
  name: string;
  size: number;
  type: string;
  width: number | null;
  height: number | null;
  has_thumbnail: number;
  created_at: string;
  message_id: number | null;
  room_id: number | null;
  store_key: string;
}

function toFileRecord(row: FileRow): FileRecord {
  return {
    id: String(row.id),
    uploaderId: row.uploader_id,
    name: row.name,
    size: row.size,
    type: row.type,
    width: row.width,
    height: row.height,
    hasThumbnail: row.has_thumbnail === 1,
    createdAt: row.created_at,
    messageId: row.message_id === null ? null : String(row.message_id),
    roomId: row.room_id === null ? null : String(row.room_id),
    storeKey: row.store_key,
  };
}

interface RemovedRow {
  id: number;
  store_key: string;
  has_thumbnail: number;
  created_at: string;
}

/** The keys of removed rows, oldest first (RETURNING gives rows in no promised order). */
function oldestFirst(rows: RemovedRow[]): string[] {
  rows.sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id - b.id));
  return rows.flatMap((row) =>
    storeKeysOf({ storeKey: row.store_key, hasThumbnail: row.has_thumbnail === 1 }),
  );
}

export class FileRecords {
  private readonly byId;
  private readonly bytesOf;
  private readonly insert;
  private readonly remove;
  private readonly attach;
  private readonly removeOfMessage;
  private readonly removeUnattached;
  private readonly keepDeletion;
  private readonly pending;
  private readonly forget;

  constructor(
    db: SqliteDatabase,
    private readonly queue: WriteQueue,
  ) {
    this.byId = db.prepare(`SELECT ${FILE_COLUMNS} FROM files WHERE id = ?`);
    this.bytesOf = db.prepare("SELECT COALESCE(SUM(size), 0) FROM files WHERE uploader_id = ?").pluck();
    this.insert = db.prepare(
      `INSERT INTO files (uploader_id, name, size, type, width, height, has_thumbnail, created_at, store_key)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.remove = db.prepare(
      "DELETE FROM files WHERE id = ? RETURNING id, store_key, has_thumbnail, created_at",
    );
    this.attach = db.prepare(
      "UPDATE files SET message_id = ?, room_id = ? WHERE id = ? AND message_id IS NULL",
    );
    this.removeOfMessage = db.prepare(
      "DELETE FROM files WHERE message_id = ? RETURNING id, store_key, has_thumbnail, created_at",
    );
    // oldest first, so a clean-up that stops at its batch limit never skips the oldest ones
    this.removeUnattached = db.prepare(
      `DELETE FROM files WHERE id IN (
         SELECT id FROM files WHERE message_id IS NULL AND created_at <= ? ORDER BY created_at, id LIMIT ?
       ) RETURNING id, store_key, has_thumbnail, created_at`,
    );
    this.keepDeletion = db.prepare(
      "INSERT INTO file_deletions (store_key, deleted_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
    );
    this.pending = db
      .prepare(
        "SELECT store_key FROM file_deletions WHERE deleted_at <= ? ORDER BY deleted_at, store_key LIMIT ?",
      )
      .pluck();
    this.forget = db.prepare("DELETE FROM file_deletions WHERE store_key = ?");
  }

  file(fileId: string): FileRecord | undefined {
    const row = this.byId.get(Number(fileId)) as FileRow | undefined;
    return row ? toFileRecord(row) : undefined;
  }

  fileBytesOf(userId: string): number {
    return this.bytesOf.get(userId) as number;
  }

  createFile(input: NewFile, quotaBytes: number): Promise<FileRecord> {
    return this.queue.run(() => {
      const used = this.fileBytesOf(input.uploaderId);
      if (used + input.size > quotaBytes) throw quotaExceeded(used, quotaBytes);
      const info = this.insert.run(
        input.uploaderId,
        input.name,
        input.size,
        input.type,
        input.width,
        input.height,
        input.hasThumbnail ? 1 : 0,
        input.at,
        input.storeKey,
      );
      return { result: this.file(String(info.lastInsertRowid))! };
    });
  }

  deleteFile(fileId: string, at: string): Promise<void> {
    return this.queue.run(() => {
      this.keepDeletions(oldestFirst(this.remove.all(Number(fileId)) as RemovedRow[]), at);
      return { result: undefined };
    });
  }

  /**
   * Inside a message deletion's write: removes the records of the message's files, keeping their
   * store keys in `file_deletions` in the same transaction. Returns the keys, whose bytes the
   * caller removes once the write is durable.
   */
  removeFilesOf(messageId: string, at: string): string[] {
    const keys = oldestFirst(this.removeOfMessage.all(Number(messageId)) as RemovedRow[]);
    this.keepDeletions(keys, at);
    return keys;
  }

  /** Up to `limit` records never attached, made at or before `before`, removed as `removeFilesOf` does. */
  removeUnattachedFiles(before: string, limit: number, at: string): Promise<string[]> {
    return this.queue.run(() => {
      const keys = oldestFirst(this.removeUnattached.all(before, limit) as RemovedRow[]);
      this.keepDeletions(keys, at);
      return { result: keys };
    });
  }

  pendingFileDeletions(before: string, limit: number): string[] {
    return this.pending.all(before, limit) as string[];
  }

  forgetFileDeletions(keys: readonly string[]): Promise<void> {
    return this.queue.run(() => {
      for (const key of keys) this.forget.run(key);
      return { result: undefined };
    });
  }

  private keepDeletions(keys: readonly string[], at: string): void {
    for (const key of keys) this.keepDeletion.run(key, at);
  }

  /**
   * Inside a send's write: the records of `fileIds`, in that order, each the sender's own and not
   * attached yet; BAD_REQUEST naming the first that is not.
   */
  attachable(fileIds: readonly string[], senderId: string): FileRecord[] {
    return fileIds.map((id) => {
      const file = this.file(id);
      if (!file || file.uploaderId !== senderId || file.messageId !== null) throw notAttachable(id);
      return file;
    });
  }

  /** Inside a send's write, after its message row is in: marks the files as that message's. */
  attachTo(files: readonly FileRecord[], messageId: string, roomId: string): void {
    for (const file of files) {
      const changed = this.attach.run(Number(messageId), Number(roomId), Number(file.id)).changes;
      // attachable() checked this in the same transaction, so a miss is a bug, not a race
      if (changed !== 1) throw new Error(`file ${file.id} could not be attached`);
    }
  }
}
