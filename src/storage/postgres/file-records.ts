/**
 * File records in PostgreSQL (the `files` table, see ../files.ts), with the same rules as the
 * SQLite store (../sqlite/file-records.ts). Nodes share the table, so the quota check takes a
 * lock on the uploader first: two uploads of one user, on any nodes, are counted one after the
 * other and can't pass the quota together. A removed record leaves its store key in
 * `file_deletions` until the bytes are gone (see ../files.ts).
 */
import type pg from "pg";
import { THUMBNAIL_SUFFIX } from "../../files/keys.js";
import type { FileRecord, NewFile } from "../files.js";
import { notAttachable, quotaExceeded } from "../files.js";
import { dbId } from "./ids.js";
import { type Queryable, read, statement, transaction } from "./pool.js";

const FILE_COLUMNS =
  "id, uploader_id, name, size, type, width, height, has_thumbnail, created_at, message_id, room_id, store_key";

interface FileRow {
  id: string;
  uploader_id: string;
  name: string;
  size: string;
  type: string;
  width: number | null;
  height: number | null;
  has_thumbnail: boolean;
  created_at: string;
  message_id: string | null;
  room_id: string | null;
  store_key: string;
}

function toFileRecord(row: FileRow): FileRecord {
  return {
    id: String(row.id),
    uploaderId: row.uploader_id,
    name: row.name,
    size: Number(row.size),
    type: row.type,
    width: row.width,
    height: row.height,
    hasThumbnail: row.has_thumbnail,
    createdAt: row.created_at,
    messageId: row.message_id === null ? null : String(row.message_id),
    roomId: row.room_id === null ? null : String(row.room_id),
    storeKey: row.store_key,
  };
}

const BYTES_OF = "SELECT COALESCE(SUM(size), 0)::text AS used FROM files WHERE uploader_id = $1";

export async function loadFile(db: Queryable, fileId: string): Promise<FileRecord | undefined> {
  const id = dbId(fileId);
  if (id === null) return undefined;
  const rows = await read<FileRow>(db, `SELECT ${FILE_COLUMNS} FROM files WHERE id = $1`, [id]);
  return rows[0] ? toFileRecord(rows[0]) : undefined;
}

export async function fileBytesOf(db: Queryable, userId: string): Promise<number> {
  const rows = await read<{ used: string }>(db, BYTES_OF, [userId]);
  return Number(rows[0]?.used ?? 0);
}

export function createFile(pool: pg.Pool, input: NewFile, quotaBytes: number): Promise<FileRecord> {
  return transaction(pool, async (db) => {
    // per uploader, so uploads of different users never wait for each other
    await db.query("SELECT pg_advisory_xact_lock(hashtext('timewise_chat:files:' || $1))", [
      input.uploaderId,
    ]);
    const used = Number((await db.query<{ used: string }>(BYTES_OF, [input.uploaderId])).rows[0]?.used ?? 0);
    if (used + input.size > quotaBytes) throw quotaExceeded(used, quotaBytes);
    const { rows } = await db.query<FileRow>(
      `INSERT INTO files (uploader_id, name, size, type, width, height, has_thumbnail, created_at, store_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${FILE_COLUMNS}`,
      [
        input.uploaderId,
        input.name,
        input.size,
        input.type,
        input.width,
        input.height,
        input.hasThumbnail,
        input.at,
        input.storeKey,
      ],
    );
    return { result: toFileRecord(rows[0]!) };
  });
}

/**
 * Deleting records keeps their store keys in `file_deletions` in the same statement, so bytes
 * are never left behind without a row that names them. `$1` picks the records; the rest is shared.
 */
function removing(which: string, at: string, suffix: string): string {
  return `WITH gone AS (DELETE FROM files WHERE ${which} RETURNING id, store_key, has_thumbnail, created_at),
    keys AS (
      SELECT id, created_at, 0 AS part, store_key AS key FROM gone
      UNION ALL SELECT id, created_at, 1, store_key || ${suffix} FROM gone WHERE has_thumbnail
    ),
    kept AS (INSERT INTO file_deletions (store_key, deleted_at) SELECT key, ${at} FROM keys ON CONFLICT DO NOTHING)
    SELECT key AS store_key FROM keys ORDER BY created_at, id, part`;
}

// the thumbnail's key is its file's key plus THUMBNAIL_SUFFIX (a parameter, so keys.ts stays the one place)
const REMOVE_ONE = removing("id = $1", "$2", "$3");
const REMOVE_OF_MESSAGE = removing("message_id = $1", "$2", "$3");
// oldest first; rows a send has locked to attach them are skipped (SKIP LOCKED), and the outer
// condition is checked again on the row as it is after any wait, so an attached file never goes
const REMOVE_UNATTACHED = removing(
  `id IN (SELECT id FROM files WHERE message_id IS NULL AND created_at <= $1
     ORDER BY created_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) AND message_id IS NULL`,
  "$2",
  "$4",
);

export async function deleteFile(pool: pg.Pool, fileId: string, at: string): Promise<void> {
  const id = dbId(fileId);
  if (id === null) return;
  await statement(pool, REMOVE_ONE, [id, at, THUMBNAIL_SUFFIX]);
}

/** Inside a message deletion's transaction: removes its files' records; returns their store keys. */
export async function removeFilesOf(db: pg.PoolClient, messageId: string, at: string): Promise<string[]> {
  const { rows } = await db.query<{ store_key: string }>(REMOVE_OF_MESSAGE, [
    messageId,
    at,
    THUMBNAIL_SUFFIX,
  ]);
  return rows.map((row) => row.store_key);
}

export async function removeUnattachedFiles(
  pool: pg.Pool,
  before: string,
  limit: number,
  at: string,
): Promise<string[]> {
  const rows = await statement<{ store_key: string }>(pool, REMOVE_UNATTACHED, [
    before,
    at,
    limit,
    THUMBNAIL_SUFFIX,
  ]);
  return rows.map((row) => row.store_key);
}

export async function pendingFileDeletions(db: Queryable, before: string, limit: number): Promise<string[]> {
  const rows = await read<{ store_key: string }>(
    db,
    "SELECT store_key FROM file_deletions WHERE deleted_at <= $1 ORDER BY deleted_at, store_key LIMIT $2",
    [before, limit],
  );
  return rows.map((row) => row.store_key);
}

export async function forgetFileDeletions(pool: pg.Pool, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await statement(pool, "DELETE FROM file_deletions WHERE store_key = ANY($1::text[])", [keys]);
}

/**
 * Inside a send's transaction: the records of `fileIds`, in that order, each the sender's own and
 * not attached yet, locked until the send commits (a send of the same file on another node waits,
 * then finds it attached); BAD_REQUEST naming the first that is not.
 */
export async function lockAttachable(
  db: pg.PoolClient,
  fileIds: readonly string[],
  senderId: string,
): Promise<FileRecord[]> {
  if (fileIds.length === 0) return [];
  const ids = fileIds.map((id) => dbId(id));
  const { rows } = await db.query<FileRow>(
    `SELECT ${FILE_COLUMNS} FROM files WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`,
    [ids.filter((id) => id !== null)],
  );
  const byId = new Map(rows.map((row) => [String(row.id), toFileRecord(row)]));
  return fileIds.map((id) => {
    const file = byId.get(id);
    if (!file || file.uploaderId !== senderId || file.messageId !== null) throw notAttachable(id);
    return file;
  });
}

/** Inside a send's transaction, after its message row is in: marks the files as that message's. */
export async function attachTo(
  db: pg.PoolClient,
  files: readonly FileRecord[],
  messageId: string,
  roomId: string,
): Promise<void> {
  if (files.length === 0) return;
  const { rowCount } = await db.query(
    "UPDATE files SET message_id = $1, room_id = $2 WHERE id = ANY($3::bigint[]) AND message_id IS NULL",
    [messageId, roomId, files.map((f) => f.id)],
  );
  // lockAttachable() holds these rows' locks, so a miss is a bug, not a race
  if (rowCount !== files.length) throw new Error("the files could not be attached");
}
