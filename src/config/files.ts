/**
 * FILES_* and S3_*: where uploads are kept and how large they may be. The S3 settings are only
 * checked when FILES_STORE=s3, so a disk installation never has to think about them.
 */
import { dirname, join, resolve } from "node:path";
import type { Env } from "./schema.js";

/** Where the bytes of uploaded files live. */
export type FileStoreConfig =
  | {
      kind: "disk";
      /** an absolute folder path */
      dir: string;
    }
  | {
      kind: "s3";
      bucket: string;
      region: string;
      /** null: Amazon S3 itself */
      endpoint: string | null;
      /** null: the AWS SDK's own credential chain */
      credentials: { accessKeyId: string; secretAccessKey: string } | null;
      forcePathStyle: boolean;
    };

export interface FilesConfig {
  store: FileStoreConfig;
  /** FILES_MAX_BYTES: the largest upload */
  maxBytes: number;
  /** FILES_QUOTA_BYTES: what one user may keep in all */
  quotaBytes: number;
  /** FILES_URL_TTL_S: the lifetime of a signed download link */
  urlTtlS: number;
}

/** The files settings; pushes one line per bad variable onto `problems`. */
export function parseFilesConfig(e: Env, problems: string[], warnings: string[]): FilesConfig {
  const limits = { maxBytes: e.FILES_MAX_BYTES, quotaBytes: e.FILES_QUOTA_BYTES, urlTtlS: e.FILES_URL_TTL_S };
  if (e.FILES_STORE === "disk") {
    if (e.CHAT_DATABASE_URL) {
      // nodes on several machines each see their own folder, so a file uploaded on one is missing on the others
      warnings.push(
        "FILES_STORE is disk while the chat data is in PostgreSQL: nodes on other machines cannot read files uploaded here. Set FILES_STORE=s3, or point FILES_DIR at a folder every node shares.",
      );
    }
    // beside the chat database by default, so one data folder holds everything a backup needs
    const dir = resolve(e.FILES_DIR ?? join(dirname(e.SQLITE_PATH), "files"));
    return { store: { kind: "disk", dir }, ...limits };
  }
  if (e.FILES_DIR !== undefined) problems.push("FILES_DIR: only used with FILES_STORE=disk; remove it");
  if (!e.S3_BUCKET) problems.push("S3_BUCKET: required when FILES_STORE=s3");
  const keyId = e.S3_ACCESS_KEY_ID;
  const secret = e.S3_SECRET_ACCESS_KEY;
  if ((keyId === undefined) !== (secret === undefined)) {
    const missing = keyId === undefined ? "S3_ACCESS_KEY_ID" : "S3_SECRET_ACCESS_KEY";
    problems.push(`${missing}: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY together, or neither`);
  }
  return {
    store: {
      kind: "s3",
      bucket: e.S3_BUCKET ?? "",
      region: e.S3_REGION,
      endpoint: e.S3_ENDPOINT ?? null,
      credentials:
        keyId !== undefined && secret !== undefined ? { accessKeyId: keyId, secretAccessKey: secret } : null,
      forcePathStyle: e.S3_FORCE_PATH_STYLE === "true",
    },
    ...limits,
  };
}
