/**
 * A stock Laravel app (6 and later) encrypts every cookie, its session cookie included, with APP_KEY
 * (Illuminate's Encrypter behind the EncryptCookies middleware). This opens such a cookie exactly
 * the way Laravel does and gives back the session id inside:
 *
 *   cookie = rawurlencode(base64(JSON { iv, value, mac, tag }))
 *   value  = base64(AES-CBC(key, iv, hex(HMAC-SHA1(key, cookieName + "v2")) + "|" + session id))
 *   mac    = hex(HMAC-SHA256(key, iv + value))   (over the two base64 texts, as Laravel hashes them)
 *
 * With the GCM ciphers the tag authenticates instead of the MAC. Anything that is not a cookie
 * Laravel made for this cookie name with one of the configured keys opens to null, never to a guess.
 */
import { type CipherGCMTypes, createDecipheriv, createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { LaravelCipher, LaravelCookieConfig } from "../../config/laravel.js";

/** Laravel's ciphers (`config/app.php` `cipher`): key and IV sizes, and whether a tag replaces the MAC. */
export const LARAVEL_CIPHERS: Record<LaravelCipher, { keyBytes: number; ivBytes: number; aead: boolean }> = {
  "AES-128-CBC": { keyBytes: 16, ivBytes: 16, aead: false },
  "AES-256-CBC": { keyBytes: 32, ivBytes: 16, aead: false },
  "AES-128-GCM": { keyBytes: 16, ivBytes: 12, aead: true },
  "AES-256-GCM": { keyBytes: 32, ivBytes: 12, aead: true },
};

/** Browsers keep cookies to about 4 KB; anything longer is not Laravel's and is not worth decoding. */
const MAX_COOKIE_CHARS = 8192;
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAC_HEX = /^[0-9a-f]{64}$/;
const GCM_TAG_BYTES = 16;

/** The JSON inside the cookie, as Laravel's `Encrypter::validPayload` accepts it. */
const payloadSchema = z.object({
  iv: z.string(),
  value: z.string(),
  mac: z.string(),
  tag: z.string().nullish(),
});

/** Opens one cookie name's Laravel cookies with the configured keys; built once at start-up. */
export class LaravelCookies {
  private readonly spec: (typeof LARAVEL_CIPHERS)[LaravelCipher];
  private readonly algorithm: "aes-128-cbc" | "aes-256-cbc" | "aes-128-gcm" | "aes-256-gcm";
  /** Each key with the cookie-value prefix it gives this cookie name, worked out once. */
  private readonly keys: { key: Buffer; prefix: string }[];

  constructor(config: LaravelCookieConfig, cookieName: string) {
    this.spec = LARAVEL_CIPHERS[config.cipher];
    this.algorithm = config.cipher.toLowerCase() as typeof this.algorithm;
    this.keys = config.keys.map((k) => {
      const key = Buffer.from(k);
      // Laravel's CookieValuePrefix::create($cookieName, $key)
      const prefix = `${createHmac("sha1", key).update(`${cookieName}v2`).digest("hex")}|`;
      return { key, prefix };
    });
  }

  /** The session id in a Laravel cookie value as the browser sent it, or null. */
  open(cookieValue: string): string | null {
    const payload = this.payload(cookieValue);
    if (!payload) return null;
    for (const { key, prefix } of this.keys) {
      // the current key first, then the older ones (Laravel's APP_PREVIOUS_KEYS)
      if (!this.spec.aead && !macMatches(key, payload.ivText, payload.valueText, payload.mac)) continue;
      const plain = this.decrypt(key, payload.iv, payload.ciphertext, payload.tag);
      if (plain === null || !plain.startsWith(prefix)) continue;
      return plain.slice(prefix.length);
    }
    return null;
  }

  /** The cookie's parts, checked for shape and sizes before any key is tried. */
  private payload(cookieValue: string) {
    if (cookieValue.length > MAX_COOKIE_CHARS) return null;
    let outer: string;
    try {
      outer = decodeURIComponent(cookieValue);
    } catch {
      return null;
    }
    if (!STRICT_BASE64.test(outer)) return null;
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(outer, "base64").toString("utf8"));
    } catch {
      return null;
    }
    const parsed = payloadSchema.safeParse(json);
    if (!parsed.success) return null;
    const { iv: ivText, value: valueText, mac, tag: tagText } = parsed.data;
    const iv = strictBase64(ivText);
    const ciphertext = strictBase64(valueText);
    if (!iv || iv.length !== this.spec.ivBytes || !ciphertext || ciphertext.length === 0) return null;
    let tag: Buffer | null = null;
    if (this.spec.aead) {
      tag = strictBase64(tagText ?? "");
      if (!tag || tag.length !== GCM_TAG_BYTES) return null;
    } else if (!MAC_HEX.test(mac)) return null;
    return { ivText, valueText, mac, iv, ciphertext, tag };
  }

  /** The plaintext, or null when this key does not open it (bad padding, bad tag). */
  private decrypt(key: Buffer, iv: Buffer, ciphertext: Buffer, tag: Buffer | null): string | null {
    try {
      const decipher = tag
        ? createDecipheriv(this.algorithm as CipherGCMTypes, key, iv, {
            authTagLength: GCM_TAG_BYTES,
          }).setAuthTag(tag)
        : createDecipheriv(this.algorithm, key, iv);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("latin1");
    } catch {
      return null;
    }
  }
}

/** Laravel's `Encrypter::validMacForKey`, compared in constant time like its `hash_equals`. */
function macMatches(key: Buffer, ivText: string, valueText: string, mac: string): boolean {
  const expected = createHmac("sha256", key)
    .update(ivText + valueText)
    .digest();
  return timingSafeEqual(expected, Buffer.from(mac, "hex"));
}

/** base64 that decodes exactly (Laravel decodes the IV strictly); null otherwise. */
function strictBase64(text: string): Buffer | null {
  return STRICT_BASE64.test(text) ? Buffer.from(text, "base64") : null;
}
