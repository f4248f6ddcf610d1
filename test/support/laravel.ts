/**
 * A stock Laravel app's session, made by real PHP doing what Laravel does: the file driver's
 * `serialize()`d session file named by a 40-character id, or the database driver's row in the
 * `sessions` table (base64 of the same, `last_activity`), and the session cookie as the
 * EncryptCookies middleware sets it (Illuminate\Encryption\Encrypter::encrypt without serializing,
 * of CookieValuePrefix::create($name, $key) . $id, then rawurlencode as Symfony's Cookie does).
 */
import { php } from "./php.js";
import { LARAVEL_USER_KEY } from "./php-session.js";

/** A key as `php artisan key:generate` writes it into .env, made by PHP. */
export async function laravelKey(bytes = 32): Promise<string> {
  return php('echo "base64:" . base64_encode(random_bytes((int) $argv[1]));', [String(bytes)]);
}

/** Laravel's session file for `userId` in `dir`; resolves with the session id (Str::random(40)). */
export async function laravelFileSession(dir: string, userId: string): Promise<string> {
  return php(
    `$id = substr(str_replace(["/", "+", "="], "", base64_encode(random_bytes(60))), 0, 40);
     $session = ["_token" => bin2hex(random_bytes(20)), "_previous" => ["url" => "https://timewise.test/home"],
                 "_flash" => ["old" => [], "new" => []], $argv[2] => (int) $argv[3]];
     file_put_contents($argv[1] . "/" . $id, serialize($session), LOCK_EX);
     echo $id;`,
    [dir, LARAVEL_USER_KEY, userId],
  );
}

/** PDO connection settings for `laravelDatabaseSession`. */
export interface PdoTarget {
  dsn: string;
  user: string;
  password: string;
}

/** Laravel's database driver row in `sessions` for `userId`; resolves with the session id. */
export async function laravelDatabaseSession(db: PdoTarget, userId: string): Promise<string> {
  return php(
    `$pdo = new PDO($argv[1], $argv[2], $argv[3], [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
     $id = substr(str_replace(["/", "+", "="], "", base64_encode(random_bytes(60))), 0, 40);
     $session = ["_token" => bin2hex(random_bytes(20)), $argv[4] => (int) $argv[5]];
     $pdo->prepare("INSERT INTO sessions (id, user_id, ip_address, user_agent, payload, last_activity) VALUES (?, ?, ?, ?, ?, ?)")
       ->execute([$id, (int) $argv[5], "127.0.0.1", "Chromium", base64_encode(serialize($session)), time()]);
     echo $id;`,
    [db.dsn, db.user, db.password, LARAVEL_USER_KEY, userId],
  );
}

/** Laravel's encrypted cookie value for `value` under cookie `name`, as the browser sends it back. */
export async function laravelCookie(
  appKey: string,
  name: string,
  value: string,
  cipher = "AES-256-CBC",
): Promise<string> {
  return php(
    `$key = str_starts_with($argv[1], "base64:") ? base64_decode(substr($argv[1], 7)) : $argv[1];
     $cipher = strtolower($argv[4]);
     $aead = str_ends_with($cipher, "-gcm");
     $plain = hash_hmac("sha1", $argv[2] . "v2", $key) . "|" . $argv[3];
     $iv = random_bytes(openssl_cipher_iv_length($cipher));
     $tag = "";
     $value = $aead ? openssl_encrypt($plain, $cipher, $key, 0, $iv, $tag) : openssl_encrypt($plain, $cipher, $key, 0, $iv);
     if ($value === false) { fwrite(STDERR, "openssl_encrypt failed"); exit(1); }
     $iv = base64_encode($iv);
     $tag = base64_encode($tag ?? "");
     $mac = $aead ? "" : hash_hmac("sha256", $iv . $value, $key);
     echo rawurlencode(base64_encode(json_encode(compact("iv", "value", "mac", "tag"), JSON_UNESCAPED_SLASHES)));`,
    [appKey, name, value, cipher],
  );
}

/** Opens a cookie made by `laravelCookie` and hands the JSON to `change` before closing it again. */
export function tamperLaravelCookie(
  cookie: string,
  change: (payload: { iv: string; value: string; mac: string; tag: string }) => void,
): string {
  const payload = JSON.parse(Buffer.from(decodeURIComponent(cookie), "base64").toString("utf8"));
  change(payload);
  return encodeURIComponent(Buffer.from(JSON.stringify(payload)).toString("base64"));
}
