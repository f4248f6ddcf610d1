/**
 * Download links. A message keeps plain paths (`/api/files/42`); every time the server hands a
 * message to someone, each file's `url` and `thumbnailUrl` become links signed for that user:
 * `/api/files/42?u=7&e=1765000000&s=…`, where `u` is the user, `e` the expiry (Unix seconds) and
 * `s` an HMAC-SHA256 of file, user and expiry with a secret of this installation, cut to 128 bits.
 * Such a link works without a cookie or header (an `<img src>`), and only for `FILES_URL_TTL_S`.
 * Whether the user may still see the file is checked again on every download (file-download.ts),
 * so a link never outlives a membership.
 *
 * Expiry times are rounded down to a step (a minute for the default hour), so one user gets the
 * same link for a file for that minute: the browser's cache serves an image shown again, and a
 * link is never valid for longer than FILES_URL_TTL_S.
 */
import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from "node:crypto";
import type { ChatFile, Message } from "../protocol/index.js";

/** The name of the link secret in the chat database's server secrets. */
export const FILE_LINK_SECRET_NAME = "file-links";

/** Bytes of the HMAC a link keeps: 128 bits, as much as guessing can never reach. */
const SIGNATURE_BYTES = 16;
const SIGNATURE = /^[A-Za-z0-9_-]{22}$/;
const EXPIRY = /^\d{1,12}$/;

/** `GET` path of a file's bytes. */
export function filePath(fileId: string): string {
  return `/api/files/${fileId}`;
}

/** `GET` path of an image's thumbnail. */
export function thumbnailPath(fileId: string): string {
  return `/api/files/${fileId}/thumbnail`;
}

/** What a valid link says. */
export interface LinkGrant {
  userId: string;
  /** Unix seconds */
  expiresAt: number;
}

export class FileLinks {
  private readonly key: KeyObject;
  private readonly stepS: number;

  constructor(
    secret: string,
    /** FILES_URL_TTL_S */
    private readonly ttlS: number,
    /** the app's clock, in ms */
    private readonly now: () => number,
  ) {
    // a key of its own for links, derived once: 32 bytes, so no HMAC has to hash its key again
    this.key = createSecretKey(createHmac("sha256", secret).update("timewise-chat file links").digest());
    // at most a tenth of the lifetime, at most a minute: links stay stable, never long-lived
    this.stepS = Math.max(1, Math.min(60, Math.floor(ttlS / 10)));
  }

  /** The message as `userId` gets it: the same object when it has no files (nothing to sign). */
  message(message: Message, userId: string): Message {
    if (message.files.length === 0) return message;
    const query = this.query(userId);
    return { ...message, files: message.files.map((f) => withLinks(f, query)) };
  }

  messages(messages: readonly Message[], userId: string): Message[] {
    return messages.map((m) => this.message(m, userId));
  }

  /** A room (or any view with `lastMessage`) as `userId` gets it. */
  room<R extends { lastMessage: Message | null }>(room: R, userId: string): R {
    const last = room.lastMessage;
    if (!last || last.files.length === 0) return room;
    return { ...room, lastMessage: this.message(last, userId) };
  }

  /** One file as `userId` gets it (the answer to an upload). */
  file(file: ChatFile, userId: string): ChatFile {
    return withLinks(file, this.query(userId));
  }

  /**
   * The grant in a link's query, when it is signed for `fileId`, unaltered and not expired;
   * else null (never saying which).
   */
  verify(fileId: string, query: URLSearchParams): LinkGrant | null {
    const userId = query.get("u");
    const expiry = query.get("e");
    const signature = query.get("s");
    if (!userId || !expiry || !signature || !EXPIRY.test(expiry) || !SIGNATURE.test(signature)) return null;
    const expiresAt = Number(expiry);
    if (expiresAt * 1000 <= this.now()) return null;
    const expected = this.sign(fileId, userId, expiresAt);
    const given = Buffer.from(signature, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    return { userId, expiresAt };
  }

  /** `?u=…&e=…&s=…` for one user and one file; the same for every file of one answer. */
  private query(userId: string): (fileId: string) => string {
    const expiresAt = Math.floor((this.now() / 1000 + this.ttlS) / this.stepS) * this.stepS;
    const u = encodeURIComponent(userId);
    return (fileId) =>
      `?u=${u}&e=${expiresAt}&s=${this.sign(fileId, userId, expiresAt).toString("base64url")}`;
  }

  private sign(fileId: string, userId: string, expiresAt: number): Buffer {
    // file ids and expiries are digits, so the text splits back into one triple only
    return createHmac("sha256", this.key)
      .update(`${fileId}\n${userId}\n${expiresAt}`)
      .digest()
      .subarray(0, SIGNATURE_BYTES);
  }
}

/** The file with signed links; the thumbnail shares the file's signature (it shows the same thing). */
function withLinks(file: ChatFile, query: (fileId: string) => string): ChatFile {
  const q = query(file.id);
  return {
    ...file,
    url: filePath(file.id) + q,
    thumbnailUrl: file.thumbnailUrl === null ? null : thumbnailPath(file.id) + q,
  };
}
