/**
 * The name a file is kept and shown under. The client's name is only a label: folders are cut
 * off (`../../etc/passwd` is `passwd`), control and direction-changing characters go (they could
 * make `gpj.exe` look like `exe.jpg`), and it is kept to 255 characters with its extension.
 */

const MAX_NAME = 255;
/** Controls (C0, DEL, C1), and the bidirectional marks, overrides and isolates. */
const UNSAFE = /[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

export function cleanFileName(raw: string | undefined): string {
  const base = (raw ?? "").split(/[/\\]/).pop() ?? "";
  const cleaned = base.normalize("NFC").replace(UNSAFE, "").trim();
  // "." and ".." name folders, not files
  if (cleaned === "" || /^\.+$/.test(cleaned)) return "file";
  const chars = [...cleaned];
  if (chars.length <= MAX_NAME) return cleaned;
  const dot = cleaned.lastIndexOf(".");
  const extension = dot > 0 ? [...cleaned.slice(dot)] : [];
  if (extension.length > 16) return chars.slice(0, MAX_NAME).join("");
  return chars.slice(0, MAX_NAME - extension.length).join("") + extension.join("");
}
