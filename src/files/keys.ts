/**
 * The file store keys of one upload: its bytes, and its thumbnail beside them. Whatever removes
 * an upload's bytes removes every key `storeKeysOf` names, so no thumbnail outlives its file.
 */

/** What a served thumbnail is: every thumbnail is made as WebP (it keeps transparency, and is small). */
export const THUMBNAIL_TYPE = "image/webp";

/** What a thumbnail's key adds to its file's key; the stores' SQL adds it too when they queue deletions. */
export const THUMBNAIL_SUFFIX = ".thumb";

/** The key of an image's thumbnail: next to its file (`ab/ab12….thumb`). */
export function thumbnailKey(storeKey: string): string {
  return `${storeKey}${THUMBNAIL_SUFFIX}`;
}

/** Every key an upload has in the file store. */
export function storeKeysOf(file: { storeKey: string; hasThumbnail: boolean }): string[] {
  return file.hasThumbnail ? [file.storeKey, thumbnailKey(file.storeKey)] : [file.storeKey];
}
