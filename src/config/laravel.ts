/**
 * LARAVEL_APP_KEY, LARAVEL_PREVIOUS_KEYS and LARAVEL_CIPHER: the keys that open a stock Laravel
 * app's encrypted session cookie, read the way Laravel reads APP_KEY and APP_PREVIOUS_KEYS.
 * Keys are secrets: a problem line names the variable and what is wrong, never the value.
 */

/** Laravel's `config/app.php` ciphers. */
export const LARAVEL_CIPHER_NAMES = ["AES-256-CBC", "AES-128-CBC", "AES-256-GCM", "AES-128-GCM"] as const;
export type LaravelCipher = (typeof LARAVEL_CIPHER_NAMES)[number];

/** How Laravel session cookies are opened: the current key first, then the older ones. */
export interface LaravelCookieConfig {
  cipher: LaravelCipher;
  keys: Uint8Array[];
}

const KEY_BYTES: Record<LaravelCipher, number> = {
  "AES-256-CBC": 32,
  "AES-128-CBC": 16,
  "AES-256-GCM": 32,
  "AES-128-GCM": 16,
};
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The LARAVEL_* settings as read, and PHP_SESSION_STORE (where the sessions are). */
export interface LaravelSettings {
  appKey: string | undefined;
  previousKeys: string | undefined;
  cipher: LaravelCipher;
  store: "files" | "mysql" | "redis" | undefined;
}

/**
 * The Laravel cookie keys, or null when LARAVEL_APP_KEY is unset. Pushes one line per bad
 * variable onto `problems`.
 */
export function parseLaravelKeys(settings: LaravelSettings, problems: string[]): LaravelCookieConfig | null {
  const { appKey, previousKeys, cipher, store } = settings;
  if (appKey === undefined) {
    if (previousKeys !== undefined)
      problems.push("LARAVEL_PREVIOUS_KEYS: needs LARAVEL_APP_KEY (the current key)");
    return null;
  }
  const size = KEY_BYTES[cipher];
  const hint = `${size} bytes for ${cipher}: copy APP_KEY from Laravel's .env, with its base64: prefix`;
  const current = parseKey(appKey, size);
  if (!current) problems.push(`LARAVEL_APP_KEY: must be ${hint} (got a hidden value)`);
  // Laravel's APP_PREVIOUS_KEYS: comma-separated, empty entries skipped
  const older = (previousKeys ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
  const parsed = older.map((k) => parseKey(k, size));
  const bad = parsed.flatMap((k, i) => (k ? [] : [i + 1]));
  if (bad.length > 0) {
    problems.push(`LARAVEL_PREVIOUS_KEYS: key ${bad.join(", ")} of ${older.length} must be ${hint}`);
  }
  if (!current || bad.length > 0) return null;
  if (!store) {
    problems.push(
      "LARAVEL_APP_KEY: needs PHP_SESSION_STORE (mysql for Laravel's database driver, files for its file driver)",
    );
    return null;
  }
  if (store === "redis") {
    // Laravel's redis driver keeps sessions through its cache, in a shape phpredis never writes
    problems.push(
      "LARAVEL_APP_KEY: Laravel's redis session driver is not read; use PHP_SESSION_STORE=mysql or files",
    );
    return null;
  }
  return { cipher, keys: [current, ...(parsed as Uint8Array[])] };
}

/** Laravel's `parseKey`: `base64:` then base64, else the text itself; it must fit the cipher. */
function parseKey(text: string, size: number): Uint8Array | null {
  let key: Buffer;
  if (text.startsWith("base64:")) {
    const encoded = text.slice("base64:".length);
    if (!BASE64.test(encoded)) return null;
    key = Buffer.from(encoded, "base64");
  } else key = Buffer.from(text, "utf8");
  return key.length === size ? new Uint8Array(key) : null;
}
