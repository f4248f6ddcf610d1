/**
 * `Content-Disposition` for a download (RFC 6266), with the file's name as RFC 8187 (5987)
 * `filename*=UTF-8''…` and a plain ASCII `filename="…"` for old clients. The stored name was
 * already cleaned of folders and control characters (src/files/names.ts); both forms here are
 * made safe again anyway, so no name can end the header, add a parameter or name a folder.
 */

/** `attachment` (saved, never shown) or `inline` (shown by the browser: safe images only). */
export function contentDisposition(kind: "attachment" | "inline", name: string): string {
  // no folders, and never a name that is only dots (it would name one)
  const plain = name.replace(/[/\\]/g, "_").trim();
  const safe = plain === "" || /^\.+$/.test(plain) ? "file" : plain;
  return `${kind}; filename="${asciiFallback(safe)}"; filename*=UTF-8''${encodeRfc8187(safe)}`;
}

/** The name with everything but printable ASCII, and quotes, backslashes and `%`, replaced. */
function asciiFallback(name: string): string {
  return name.replace(/[^\x20-\x7e]|["\\%]/gu, "_");
}

/** Percent-encodes all but RFC 8187's attr-char (letters, digits and `!#$&+-.^_`|~`). */
function encodeRfc8187(name: string): string {
  return encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
