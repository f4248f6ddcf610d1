/**
 * Builds the file store FILES_STORE names. The AWS SDK is only loaded for `s3`, so a disk
 * installation never pays for it at start-up.
 */
import type { FileStoreConfig } from "../config/files.js";
import { DiskFileStore } from "./disk-store.js";
import type { FileStore } from "./store.js";

export async function createFileStore(config: FileStoreConfig): Promise<FileStore> {
  if (config.kind === "disk") return new DiskFileStore(config.dir);
  const { S3FileStore } = await import("./s3-store.js");
  return new S3FileStore(config);
}
