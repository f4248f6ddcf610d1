/**
 * Password hashes as PHP's `password_hash` writes them: bcrypt (`$2y$`, also `$2a$`/`$2b$`) and
 * argon2id/argon2i. Verification never throws: a hash we cannot read simply does not match.
 */
import { verify as verifyArgon2 } from "@node-rs/argon2";
import bcrypt from "bcryptjs";

/** Longer passwords are refused without hashing: nobody types them, and they would cost CPU. */
export const MAX_PASSWORD_BYTES = 4096;
/** PHP's default cost; the built-in directory and the dummy check use it too. */
const BCRYPT_COST = 10;

const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;
const ARGON2 = /^\$argon2(id|i)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

/** Whether `password` matches a PHP `password_hash` result. Unknown formats and null never match. */
export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  if (hash === null || Buffer.byteLength(password) > MAX_PASSWORD_BYTES) return false;
  try {
    if (BCRYPT.test(hash)) return await bcrypt.compare(password, hash);
    if (ARGON2.test(hash)) return await verifyArgon2(hash, password);
  } catch {
    // A damaged hash is a non-match, not a server error.
    return false;
  }
  return false;
}

/** Hashes a password the way PHP's `password_hash($p, PASSWORD_BCRYPT)` would (`$2y$`, cost 10). */
export async function hashPassword(password: string): Promise<string> {
  const hash = await bcrypt.hash(password, BCRYPT_COST);
  // $2b$ and $2y$ are the same algorithm; $2y$ is what PHP writes and reads everywhere.
  return hash.replace(/^\$2[ab]\$/, "$2y$");
}

let dummyHash: Promise<string> | undefined;

/** Makes the dummy hash ahead of the first sign-in, so that one is not slower than the rest. */
export function prepareDummyHash(): Promise<string> {
  dummyHash ??= hashPassword(crypto.randomUUID());
  return dummyHash;
}

/**
 * Does the work of one real check against a hash nobody knows the password of, so a sign-in for an
 * unknown user takes about as long as one with a wrong password. The hash is made on first use.
 */
export async function dummyVerify(password: string): Promise<void> {
  await verifyPassword(await prepareDummyHash(), password);
}
