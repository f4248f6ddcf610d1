/**
 * PHP sessions made by real PHP, the way a TimeWise page makes them: `session_start()` with the
 * files handler, phpredis, or a PDO database handler (plain table, or Laravel's `sessions` shape),
 * then `$_SESSION[...] = ...`. Also logs out and destroys them the PHP way. Nothing here imitates PHP.
 */
import { php } from "./php.js";

/** The sha1 of Laravel's SessionGuard class: Laravel keeps the user id under login_web_<this>. */
export const LARAVEL_USER_KEY = "login_web_59ba36addc2b2f9401580f014c7f58ea4e30989d";

/** How PHP should store the session (ini settings, and optionally a handler class declared first). */
export interface PhpSessionSetup {
  /** ini settings applied before session_start() */
  ini: Record<string, string>;
  /** PHP code run before session_start() (e.g. session_set_save_handler) */
  prelude?: string;
}

/** PHP code that applies a setup; $argv[1] is a JSON object of settings the helpers pass. */
function preamble(setup: PhpSessionSetup): string {
  const ini = Object.entries(setup.ini)
    .map(([k, v]) => `ini_set(${JSON.stringify(k)}, ${JSON.stringify(v)});`)
    .join("\n");
  return `ini_set("session.use_cookies", "0");\nini_set("session.use_strict_mode", "0");\n${ini}\n${setup.prelude ?? ""}`;
}

/** Starts a new session holding `data` (JSON values) and returns its id, as PHP chose or as given. */
export async function phpStartSession(
  setup: PhpSessionSetup,
  data: Record<string, unknown>,
  id?: string,
): Promise<string> {
  return php(
    `${preamble(setup)}
     if ($argv[2] !== "") session_id($argv[2]);
     if (!session_start()) { fwrite(STDERR, "session_start failed"); exit(1); }
     foreach (json_decode($argv[1], true) as $k => $v) $_SESSION[$k] = $v;
     echo session_id();
     session_write_close();`,
    [JSON.stringify(data), id ?? ""],
  );
}

/** Opens session `id` and unsets a key (a PHP logout that keeps the session). */
export async function phpUnsetKey(setup: PhpSessionSetup, id: string, key: string): Promise<void> {
  await php(
    `${preamble(setup)} session_id($argv[1]); session_start(); unset($_SESSION[$argv[2]]); session_write_close();`,
    [id, key],
  );
}

/** session_destroy() of session `id`. */
export async function phpDestroySession(setup: PhpSessionSetup, id: string): Promise<void> {
  await php(`${preamble(setup)} session_id($argv[1]); session_start(); session_destroy();`, [id]);
}

/** The files handler in `dir`, with the given serialize handler. */
export function filesSetup(dir: string, handler: "php" | "php_serialize" = "php"): PhpSessionSetup {
  return {
    ini: { "session.save_handler": "files", "session.save_path": dir, "session.serialize_handler": handler },
  };
}

/** phpredis on the test Redis, under `prefix` (phpredis's own default when omitted). */
export function redisSetup(prefix?: string, lifetimeS = 1440): PhpSessionSetup {
  const query = prefix === undefined ? "" : `?prefix=${encodeURIComponent(prefix)}`;
  return {
    ini: {
      "session.save_handler": "redis",
      "session.save_path": `tcp://127.0.0.1:6379${query}`,
      "session.gc_maxlifetime": String(lifetimeS),
    },
  };
}

/**
 * A PDO session handler, as PHP apps write them: `table` with id, data and time columns. `base64`
 * stores the payload base64-encoded (as Laravel does); `time` is "unix" (last activity, an INT)
 * or "expires" (a DATETIME when the session expires).
 */
export function pdoSetup(options: {
  dsn: string;
  user: string;
  password: string;
  table: string;
  idColumn: string;
  dataColumn: string;
  timeColumn: string;
  base64: boolean;
  time: "unix" | "expires";
  handler: "php" | "php_serialize";
  lifetimeS?: number;
}): PhpSessionSetup {
  const o = options;
  const encode = o.base64 ? "base64_encode($data)" : "$data";
  const decode = o.base64 ? "base64_decode($row[0])" : "$row[0]";
  const time = o.time === "unix" ? "?" : `FROM_UNIXTIME(?)`;
  const timeValue = o.time === "unix" ? "time()" : `time() + ${o.lifetimeS ?? 1440}`;
  return {
    ini: { "session.serialize_handler": o.handler },
    prelude: `
      final class PdoSessions implements SessionHandlerInterface {
        private PDO $db;
        public function open($path, $name): bool {
          $this->db = new PDO(${JSON.stringify(o.dsn)}, ${JSON.stringify(o.user)}, ${JSON.stringify(o.password)}, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
          return true;
        }
        public function close(): bool { return true; }
        public function read($id): string|false {
          $q = $this->db->prepare("SELECT \`${o.dataColumn}\` FROM \`${o.table}\` WHERE \`${o.idColumn}\` = ?");
          $q->execute([$id]);
          $row = $q->fetch(PDO::FETCH_NUM);
          return $row ? ${decode} : "";
        }
        public function write($id, $data): bool {
          $q = $this->db->prepare("REPLACE INTO \`${o.table}\` (\`${o.idColumn}\`, \`${o.dataColumn}\`, \`${o.timeColumn}\`) VALUES (?, ?, ${time})");
          return $q->execute([$id, ${encode}, ${timeValue}]);
        }
        public function destroy($id): bool {
          return $this->db->prepare("DELETE FROM \`${o.table}\` WHERE \`${o.idColumn}\` = ?")->execute([$id]);
        }
        public function gc($max): int|false { return 0; }
      }
      session_set_save_handler(new PdoSessions(), true);`,
  };
}
