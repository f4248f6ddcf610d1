/**
 * Files as people read them: a size in KB or MB, a type in plain words with an icon, and what to
 * say when the server refuses an upload.
 */
import type { ChatFile } from "../src/sdk/index.js";

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;

/** "812 bytes", "4.2 KB", "25 MB": 1024-based, as file managers show it. */
export function formatSize(bytes: number): string {
  if (bytes < KIB) return `${bytes} ${bytes === 1 ? "byte" : "bytes"}`;
  const [value, unit] =
    bytes < MIB ? [bytes / KIB, "KB"] : bytes < GIB ? [bytes / MIB, "MB"] : [bytes / GIB, "GB"];
  // one decimal below 10 ("4.2 MB"), none above ("25 MB"), and never a trailing ".0"
  const rounded = value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
  return `${rounded} ${unit}`;
}

/** What kind of file it is, for its card: an icon and a word. */
export function fileKind(type: string): { icon: string; label: string } {
  if (type.startsWith("image/")) return { icon: "🖼️", label: "Image" };
  if (type === "application/pdf") return { icon: "📕", label: "PDF" };
  if (type.startsWith("audio/")) return { icon: "🎵", label: "Audio" };
  if (type.startsWith("video/")) return { icon: "🎬", label: "Video" };
  if (/spreadsheet|excel|text\/csv/.test(type)) return { icon: "📊", label: "Spreadsheet" };
  if (/presentation|powerpoint/.test(type)) return { icon: "📽️", label: "Slides" };
  if (/wordprocessing|msword|opendocument\.text|rtf/.test(type)) return { icon: "📄", label: "Document" };
  if (/zip|compressed|x-tar|gzip|x-7z|x-rar|x-bzip/.test(type)) return { icon: "🗜️", label: "Archive" };
  if (type.startsWith("text/")) return { icon: "📝", label: "Text" };
  return { icon: "📎", label: "File" };
}

/** Images the server made a preview of are shown as pictures; every other file as a card. */
export function hasPreview(file: ChatFile): file is ChatFile & { thumbnailUrl: string } {
  return file.thumbnailUrl !== null;
}

/** The preview's size in CSS pixels (longest side 360, as the server makes it), to keep the layout still. */
export function previewSize(file: ChatFile): { width: number; height: number } | null {
  if (!file.width || !file.height) return null;
  const scale = Math.min(1, 360 / Math.max(file.width, file.height));
  return { width: Math.round(file.width * scale), height: Math.round(file.height * scale) };
}

/** A number from an error's details, if the server gave one. */
function detail(error: unknown, key: string): number | undefined {
  const details = (error as { details?: unknown } | null)?.details;
  const value = (details as Record<string, unknown> | null | undefined)?.[key];
  return typeof value === "number" ? value : undefined;
}

/** Why `name` was not uploaded, in everyday words. */
export function uploadErrorText(error: unknown, name: string): string {
  const code = (error as { code?: unknown } | null)?.code;
  const kind = error instanceof Error ? error.name : "";
  if (kind === "ChatAuthError")
    return "Your sign-in has expired. Reload the page and sign in again to send files.";
  switch (code) {
    case "PAYLOAD_TOO_LARGE": {
      const max = detail(error, "maxBytes");
      return max === undefined
        ? `“${name}” is too large to send.`
        : `“${name}” is too large to send. Files can be at most ${formatSize(max)}.`;
    }
    case "QUOTA_EXCEEDED": {
      const quota = detail(error, "quotaBytes");
      const space = quota === undefined ? "" : ` (${formatSize(quota)})`;
      return `There is no room left for “${name}”: your files use all the space you have${space}. Delete some messages with files, or ask your TimeWise administrator for more space.`;
    }
    case "FORBIDDEN":
      return `You are not allowed to send “${name}” here.`;
    case "RATE_LIMITED":
      return "You are sending files too quickly. Wait a moment, then try again.";
    case "UNAVAILABLE":
      return `“${name}” could not be uploaded right now. Check your connection and try again.`;
    case "BAD_REQUEST":
      return `“${name}” could not be sent: ${error instanceof Error ? error.message : "the server refused it."}`;
    default:
      return `“${name}” could not be uploaded. Please try again.`;
  }
}
