/**
 * Uploads for tests that need a file on the server, not the upload route's own edge cases
 * (those are in test/files/upload.test.ts): one multipart POST with a part named `file`, and where
 * the bytes of a stored file are for each file store.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { FileStoreConfig } from "../../src/config/files.js";
import { S3FileStore } from "../../src/files/s3-store.js";
import type { ChatFile, HttpErrorBody } from "../../src/protocol/index.js";

export interface UploadAnswer {
  status: number;
  file: ChatFile | null;
  error: HttpErrorBody["error"] | null;
}

/** POSTs `bytes` as the part `file` named `name` to `path` (default the users' `/api/files`). */
export async function uploadFile(
  url: string,
  authorization: string,
  bytes: Uint8Array,
  options: { name?: string; path?: string } = {},
): Promise<UploadAnswer> {
  const form = new FormData();
  form.append("file", new Blob([bytes]), options.name ?? "notes.txt");
  const res = await fetch(`${url}${options.path ?? "/api/files"}`, {
    method: "POST",
    headers: { authorization },
    body: form,
  });
  const body = (await res.json()) as { file?: ChatFile } & Partial<HttpErrorBody>;
  return { status: res.status, file: body.file ?? null, error: body.error ?? null };
}

/** Whether the file store holds bytes under `key`. */
export async function hasBytes(store: FileStoreConfig, key: string): Promise<boolean> {
  if (store.kind === "disk") return existsSync(join(store.dir, key));
  const s3 = new S3FileStore(store);
  try {
    return (await s3.head(key)) !== null;
  } finally {
    await s3.close();
  }
}
