/**
 * Runs the real `php` command line, for things only PHP should make in a test: `password_hash`
 * results, serialized sessions, tokens minted the PHP way. Nothing here imitates PHP.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);
const PHP = process.env.TEST_PHP ?? "php";

/**
 * Runs `php -r code` with `args` as `$argv[1]`, `$argv[2]`… and resolves with what it printed.
 * Arguments never pass through a shell.
 */
export async function php(code: string, args: readonly string[] = []): Promise<string> {
  const { stdout } = await run(PHP, ["-r", code, "--", ...args], { timeout: 30_000 });
  return stdout;
}

/** Why PHP cannot be used for the tests (not installed, or built without argon2), or null. */
export async function phpProblem(): Promise<string | null> {
  try {
    const out = await php('echo defined("PASSWORD_ARGON2ID") ? "ok" : "no-argon2";');
    if (out === "ok") return null;
    return "php is installed without argon2 support (PASSWORD_ARGON2ID is not defined)";
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return `php is not available (${reason}); install it with: apt-get install -y php-cli`;
  }
}

/**
 * `password_hash($password, $algo, $options)` by real PHP; `algo` is a PHP constant name and
 * `options` PHP's integer options (`{ cost: 12 }`, `{ memory_cost: 65536 }`).
 */
export async function phpPasswordHash(
  password: string,
  algo: "PASSWORD_BCRYPT" | "PASSWORD_ARGON2ID" | "PASSWORD_ARGON2I" = "PASSWORD_BCRYPT",
  options: Record<string, number> = {},
): Promise<string> {
  return php(`echo password_hash($argv[1], ${algo}, json_decode($argv[2], true));`, [
    password,
    JSON.stringify(options),
  ]);
}

/** `password_verify` by real PHP. */
export async function phpPasswordVerify(password: string, hash: string): Promise<boolean> {
  return (await php('echo password_verify($argv[1], $argv[2]) ? "yes" : "no";', [password, hash])) === "yes";
}
