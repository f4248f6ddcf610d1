/**
 * The addresses of a file and its thumbnail, as a message carries them. They are plain paths
 * here; a link handed to a client is made from them for that client.
 */

/** `GET` path of a file's bytes. */
export function filePath(fileId: string): string {
  return `/api/files/${fileId}`;
}

/** `GET` path of an image's thumbnail. */
export function thumbnailPath(fileId: string): string {
  return `/api/files/${fileId}/thumbnail`;
}
