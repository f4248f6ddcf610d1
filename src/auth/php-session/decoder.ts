/**
 * Reads PHP session data without PHP: the `php_serialize` handler (the whole session is one
 * `serialize($_SESSION)`) and the default `php` handler (`name|<serialized value>` repeated).
 * Written against PHP's byte-exact format: string lengths count bytes, not characters.
 *
 * Only plain data is accepted. Objects (`O:`, `C:`, enums `E:`) and references (`r:`, `R:`) are
 * refused outright: nothing here ever instantiates anything, and a session holding them is not
 * one the chat needs to understand. Depth, size and element counts are capped so a hostile or
 * corrupted payload costs little.
 */

/** A PHP array: an ordered map. Integer keys are kept as their decimal strings, as PHP treats them alike. */
export type PhpArray = Map<string, PhpValue>;
/** A decoded PHP value; integers are bigints so 64-bit ids stay exact. */
export type PhpValue = null | boolean | bigint | number | string | PhpArray;

/** Why a payload could not be decoded. `refused` marks content refused on purpose (objects, limits). */
export class SessionDecodeError extends Error {
  constructor(
    message: string,
    readonly refused = false,
  ) {
    super(message);
    this.name = "SessionDecodeError";
  }
}

export interface DecodeLimits {
  /** the largest payload read at all */
  maxBytes: number;
  /** arrays nested deeper than this are refused */
  maxDepth: number;
  /** array elements in the whole payload */
  maxElements: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  maxBytes: 1024 * 1024,
  maxDepth: 32,
  maxElements: 100_000,
};

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INT = /^[+-]?[0-9]+$/;
const FLOAT = /^(?:[+-]?(?:[0-9]+|[0-9]*\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][+-]?[0-9]+)?|NAN|-?INF)$/;
const utf8 = new TextDecoder("utf-8");

const ch = (c: string) => c.charCodeAt(0);
const [QUOTE, SEMI, COLON, BRACE_OPEN, BRACE_CLOSE, BAR] = ['"', ";", ":", "{", "}", "|"].map(ch) as [
  number,
  number,
  number,
  number,
  number,
  number,
];

class Reader {
  pos = 0;
  private elements = 0;

  constructor(
    readonly buf: Uint8Array,
    private readonly limits: DecodeLimits,
  ) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  value(depth: number): PhpValue {
    const tag = String.fromCharCode(this.buf[this.pos] ?? 0);
    switch (tag) {
      case "N":
        this.pos += 1;
        this.expect(SEMI);
        return null;
      case "b": {
        const token = this.scalar();
        if (token !== "0" && token !== "1") throw malformed("a bool must be 0 or 1");
        return token === "1";
      }
      case "i":
        return this.int(this.scalar());
      case "d":
        return this.float(this.scalar());
      case "s":
        return this.string();
      case "a":
        return this.array(depth + 1);
      case "O":
      case "C":
      case "E":
      case "o":
        throw new SessionDecodeError("PHP objects are not accepted in a session", true);
      case "r":
      case "R":
        throw new SessionDecodeError("PHP references are not accepted in a session", true);
      default:
        throw malformed(`unexpected type at byte ${this.pos}`);
    }
  }

  /** `X:<token>;` → token (short ASCII scalars only). */
  private scalar(): string {
    this.pos += 1;
    this.expect(COLON);
    const end = this.buf.indexOf(SEMI, this.pos);
    if (end < 0 || end - this.pos > 400) throw malformed("an unterminated value");
    const token = String.fromCharCode(...this.buf.subarray(this.pos, end));
    this.pos = end + 1;
    return token;
  }

  private int(token: string): bigint {
    if (!INT.test(token)) throw malformed("a malformed integer");
    const value = BigInt(token);
    if (value < INT64_MIN || value > INT64_MAX) throw malformed("an integer out of range");
    return value;
  }

  private float(token: string): number {
    if (!FLOAT.test(token)) throw malformed("a malformed float");
    if (token === "NAN") return Number.NaN;
    if (token === "INF") return Number.POSITIVE_INFINITY;
    if (token === "-INF") return Number.NEGATIVE_INFINITY;
    return Number(token);
  }

  /** `<count>:` or `<length>:`: an unsigned decimal, as PHP writes it. */
  private length(): number {
    const start = this.pos;
    while (this.pos < this.buf.length && this.buf[this.pos]! >= 48 && this.buf[this.pos]! <= 57) this.pos++;
    if (this.pos === start || this.pos - start > 10) throw malformed("a malformed length");
    const n = Number(String.fromCharCode(...this.buf.subarray(start, this.pos)));
    this.expect(COLON);
    return n;
  }

  private string(): string {
    this.pos += 1;
    this.expect(COLON);
    const length = this.length();
    this.expect(QUOTE);
    // the length is in bytes: multibyte characters count for each of their bytes
    if (length > this.buf.length - this.pos - 2) throw malformed("a string longer than the payload");
    const bytes = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    this.expect(QUOTE);
    this.expect(SEMI);
    return utf8.decode(bytes);
  }

  private array(depth: number): PhpArray {
    if (depth > this.limits.maxDepth) throw new SessionDecodeError("the session is nested too deeply", true);
    this.pos += 1;
    this.expect(COLON);
    const count = this.length();
    this.expect(BRACE_OPEN);
    // every element takes at least 6 bytes (`i:0;N;`): a larger count is a lie, refused before looping
    if (count * 6 > this.buf.length - this.pos) throw malformed("an array count larger than the payload");
    this.count(count);
    const map: PhpArray = new Map();
    for (let i = 0; i < count; i++) {
      const keyTag = this.buf[this.pos];
      let key: string;
      if (keyTag === ch("i")) key = this.int(this.scalar()).toString();
      else if (keyTag === ch("s")) key = this.string();
      else throw malformed("an array key must be an integer or a string");
      if (map.has(key)) throw malformed("a repeated array key");
      map.set(key, this.value(depth));
    }
    this.expect(BRACE_CLOSE);
    return map;
  }

  /** Counts elements against the limit for the whole payload. */
  count(n: number): void {
    this.elements += n;
    if (this.elements > this.limits.maxElements) {
      throw new SessionDecodeError("the session has too many elements", true);
    }
  }

  expect(byte: number): void {
    if (this.buf[this.pos] !== byte)
      throw malformed(`expected "${String.fromCharCode(byte)}" at byte ${this.pos}`);
    this.pos += 1;
  }
}

function malformed(what: string): SessionDecodeError {
  return new SessionDecodeError(`malformed serialized data: ${what}`);
}

function checkSize(bytes: Uint8Array, limits: DecodeLimits): void {
  if (bytes.length > limits.maxBytes) throw new SessionDecodeError("the session is too large", true);
}

/** PHP's `unserialize()` for plain data: exactly one value that uses every byte. */
export function unserialize(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): PhpValue {
  checkSize(bytes, limits);
  const reader = new Reader(bytes, limits);
  const value = reader.value(0);
  if (!reader.done) throw malformed("data after the value");
  return value;
}

/** The `php` handler's format: `name|value` pairs, as `session_encode()` writes them by default. */
function decodePhpHandler(bytes: Uint8Array, limits: DecodeLimits): PhpArray {
  const reader = new Reader(bytes, limits);
  const data: PhpArray = new Map();
  while (!reader.done) {
    const bar = bytes.indexOf(BAR, reader.pos);
    if (bar < 0) throw malformed("a session variable without a value");
    const name = utf8.decode(bytes.subarray(reader.pos, bar));
    reader.pos = bar + 1;
    if (data.has(name)) throw malformed("a repeated session variable");
    reader.count(1);
    data.set(name, reader.value(0));
  }
  return data;
}

/**
 * Decodes a session payload of either handler, told apart automatically: a payload that is one
 * serialized array is `php_serialize`, anything else is read as `php`. Throws SessionDecodeError.
 */
export function decodeSession(
  bytes: Uint8Array,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): { format: "php" | "php_serialize"; data: PhpArray } {
  checkSize(bytes, limits);
  if (bytes[0] === ch("a") && bytes[1] === COLON) {
    try {
      const value = unserialize(bytes, limits);
      if (value instanceof Map) return { format: "php_serialize", data: value };
    } catch (error) {
      // content refused on purpose stays refused; only a parse failure may mean the other format
      if (error instanceof SessionDecodeError && error.refused) throw error;
    }
  }
  return { format: "php", data: decodePhpHandler(bytes, limits) };
}

/**
 * The value at `path` in session data: the exact key first (a key may contain dots), then the
 * dotted path (`auth.user.id` → `$_SESSION['auth']['user']['id']`).
 */
export function lookup(data: PhpArray, path: string): PhpValue | undefined {
  if (data.has(path)) return data.get(path);
  let current: PhpValue | undefined = data;
  for (const part of path.split(".")) {
    if (!(current instanceof Map)) return undefined;
    current = current.get(part);
  }
  return current;
}

/** A user id as PHP apps store it: a positive integer, or a string of one. Anything else is null. */
export function asUserId(value: PhpValue | undefined): string | null {
  if (typeof value === "bigint") return value > 0n ? value.toString() : null;
  if (typeof value === "string" && /^[1-9][0-9]{0,18}$/.test(value)) return value;
  return null;
}
