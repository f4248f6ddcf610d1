/**
 * Password hashes as PHP's `password_hash` writes them: bcrypt (`$2y$`, also `$2a$`/`$2b$`) and
 * argon2id/argon2i. Both libraries are native and hash on libuv's thread pool, so a sign-in never
 * blocks the event loop (a cost-12 bcrypt takes about 250 ms of CPU). Verification never throws:
 * a hash we cannot read simply does not match.
 */
import { hash as hashArgon2, parseOptions as parseArgon2, verify as verifyArgon2 } from "@node-rs/argon2";
import { hash as hashBcrypt, parseOptions as parseBcrypt, verify as verifyBcrypt } from "@node-rs/bcrypt";

/** Longer passwords are refused without hashing: nobody types them, and they would cost CPU. */
export const MAX_PASSWORD_BYTES = 4096;
/** PHP 8.4's and Laravel's default cost; the built-in directory uses it too. */
export const BCRYPT_COST = 12;

const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;
const ARGON2 = /^\$argon2(id|i)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

/** What a hash costs to check: its algorithm and parameters, without the salt or the digest. */
export type HashShape =
  | { kind: "bcrypt"; cost: number }
  | { kind: "argon2"; variant: "id" | "i"; memoryCost: number; timeCost: number; parallelism: number };

/** The shape of a hash we can verify, or null for anything else (null, plain text, other formats). */
export function shapeOf(hash: string | null): HashShape | null {
  if (hash === null) return null;
  try {
    if (BCRYPT.test(hash)) return { kind: "bcrypt", cost: parseBcrypt(hash).cost };
    if (ARGON2.test(hash)) {
      const o = parseArgon2(hash);
      const variant = hash.startsWith("$argon2id$") ? "id" : "i";
      return {
        kind: "argon2",
        variant,
        memoryCost: o.memoryCost,
        timeCost: o.timeCost,
        parallelism: o.parallelism,
      };
    }
  } catch {
    // a damaged hash has no shape: it is treated like an unknown format
  }
  return null;
}

/** Whether `password` matches a PHP `password_hash` result. Unknown formats and null never match. */
export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  if (hash === null || Buffer.byteLength(password) > MAX_PASSWORD_BYTES) return false;
  try {
    if (BCRYPT.test(hash)) return await verifyBcrypt(password, hash);
    if (ARGON2.test(hash)) return await verifyArgon2(hash, password);
  } catch {
    // A damaged hash is a non-match, not a server error.
    return false;
  }
  return false;
}

/** Hashes a password the way PHP's `password_hash($p, PASSWORD_BCRYPT, ['cost' => 12])` would. */
export function hashPassword(password: string): Promise<string> {
  return hashWithShape(password, { kind: "bcrypt", cost: BCRYPT_COST });
}

/** A hash of `password` costing what `shape` costs. */
async function hashWithShape(password: string, shape: HashShape): Promise<string> {
  if (shape.kind === "bcrypt") return hashBcrypt(password, { cost: shape.cost, version: "2y" });
  return hashArgon2(password, {
    // the numeric values of @node-rs/argon2's Algorithm enum (Argon2i = 1, Argon2id = 2)
    algorithm: shape.variant === "id" ? 2 : 1,
    memoryCost: shape.memoryCost,
    timeCost: shape.timeCost,
    parallelism: shape.parallelism,
  });
}

function sameShape(a: HashShape, b: HashShape): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * A hash nobody knows the password of, checked for unknown users (and users without a usable hash)
 * so their sign-in takes as long as a wrong password. It follows the directory: it starts as a
 * cost-12 bcrypt (the PHP app's default) and, once a real hash of another algorithm or cost has been
 * read, is remade with those parameters, so the two answers cost the same.
 */
export class DummyHash {
  private shape: HashShape;
  private current: Promise<string>;
  private next: Promise<string> | null = null;

  constructor(initial: HashShape = { kind: "bcrypt", cost: BCRYPT_COST }) {
    this.shape = initial;
    this.current = hashWithShape(crypto.randomUUID(), initial);
  }

  /** Resolves once the dummy hash exists (so the first unknown-user sign-in is not faster). */
  async ready(): Promise<void> {
    await this.current;
  }

  /** The shape the dummy has, or is being remade to. */
  get following(): HashShape {
    return this.shape;
  }

  /** Notes a real hash the directory returned; a new shape remakes the dummy in the background. */
  follow(realHash: string | null): void {
    const shape = shapeOf(realHash);
    if (!shape || sameShape(shape, this.shape)) return;
    this.shape = shape;
    const next = hashWithShape(crypto.randomUUID(), shape);
    this.next = next;
    // the old dummy stays in use until the new one exists; a failure keeps the old one
    next.then(
      () => {
        if (this.next === next) this.current = next;
      },
      () => {},
    );
  }

  /** Does the work of one real check, and always answers "no match". */
  async verify(password: string): Promise<false> {
    await verifyPassword(await this.current, password);
    return false;
  }
}
