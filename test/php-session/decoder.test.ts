/**
 * The session decoders against real PHP: a generated corpus of values (multibyte strings, nested
 * arrays, ints, floats, bools, nulls) is serialized by PHP's `serialize()` and `session_encode()`
 * with both handlers, and every decode must equal what PHP put in. Objects, references and
 * over-deep or oversized input are refused; random garbage only ever raises SessionDecodeError.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import {
  asUserId,
  decodeSession,
  lookup,
  type PhpValue,
  SessionDecodeError,
  unserialize,
} from "../../src/auth/php-session/decoder.js";
import { requireService } from "../support/harness.js";
import { php } from "../support/php.js";

const skip = await requireService("php");

/** PHP's values written as tagged JSON, so types survive the trip (ints as strings, bytes as base64). */
const TAG_PHP = `
function tag($v) {
  if (is_null($v)) return ["n"];
  if (is_bool($v)) return ["b", $v];
  if (is_int($v)) return ["i", (string) $v];
  if (is_float($v)) return ["d", is_nan($v) ? "NAN" : (is_infinite($v) ? ($v > 0 ? "INF" : "-INF") : sprintf("%.17g", $v))];
  if (is_string($v)) return ["s", base64_encode($v)];
  $out = [];
  foreach ($v as $k => $x) $out[] = [(string) $k, tag($x)];
  return ["a", $out];
}`;

/** A deterministic corpus: PHP's mt_rand builds nested values from a fixed seed. */
const CORPUS_PHP = `${TAG_PHP}
mt_srand((int) $argv[1]);
$words = ["", "a", "héllo", "日本語テキスト", "emoji 👍🏽 and ✓", "quote \\" semi ; bar | colon : brace {}", "line\\nbreak", "nul\\0byte", "Ünïcödé ß", "😀😃😄"];
function val($depth) {
  global $words;
  $kind = mt_rand(0, $depth > 3 ? 5 : 7);
  switch ($kind) {
    case 0: return null;
    case 1: return (bool) mt_rand(0, 1);
    case 2: return [0, 1, -1, 42, PHP_INT_MAX, PHP_INT_MIN, mt_rand(), -mt_rand()][mt_rand(0, 7)];
    case 3: return [0.1, -0.0, 1.5e-7, 1e100, -2.5, 3.0, 1/3, INF, -INF, 123456789.125][mt_rand(0, 9)];
    case 4: case 5: return $words[mt_rand(0, count($words) - 1)] . (mt_rand(0, 1) ? str_repeat("é", mt_rand(0, 5)) : "");
    default:
      $a = [];
      $n = mt_rand(0, 5);
      for ($i = 0; $i < $n; $i++) {
        if (mt_rand(0, 1)) $a[] = val($depth + 1);
        else $a[$words[mt_rand(1, count($words) - 1)] . mt_rand(0, 99)] = val($depth + 1);
      }
      return $a;
  }
}
$cases = [];
for ($i = 0; $i < 300; $i++) { $v = val(0); $cases[] = ["ser" => base64_encode(serialize($v)), "tag" => tag($v)]; }
echo json_encode($cases);`;

/** Session data of random variables, encoded by session_encode() under both handlers. */
const SESSIONS_PHP = `${TAG_PHP}
mt_srand((int) $argv[1]);
ini_set("session.use_cookies", "0");
ini_set("session.save_path", $argv[2]);
$names = ["user_id", "login_web_59ba36addc2b2f9401580f014c7f58ea4e30989d", "cart", "flash", "名前", "auth"];
$out = [];
for ($i = 0; $i < 60; $i++) {
  $data = [];
  foreach ($names as $n) if (mt_rand(0, 2)) $data[$n] = mt_rand(0, 1)
    ? ["id" => mt_rand(1, 99999), "name" => "Zoë " . mt_rand(), "roles" => ["a", "b"], "score" => mt_rand() / 7]
    : [mt_rand(1, 10000), "ü", null, true, 2.5];
  $data["user_id"] = mt_rand(1, 1000000);
  $row = ["tag" => tag($data)];
  foreach (["php", "php_serialize"] as $handler) {
    ini_set("session.serialize_handler", $handler);
    session_start();
    $_SESSION = $data;
    $row[$handler] = base64_encode(session_encode());
    session_abort();
  }
  $out[] = $row;
}
echo json_encode($out);`;

type Tag = [string, ...unknown[]];

/** Our decoded value in the same tagged shape as PHP's. */
function tag(value: PhpValue): Tag {
  if (value === null) return ["n"];
  if (typeof value === "boolean") return ["b", value];
  if (typeof value === "bigint") return ["i", value.toString()];
  if (typeof value === "number") return ["d", value];
  if (typeof value === "string") return ["s", Buffer.from(value, "utf8").toString("base64")];
  return ["a", [...value].map(([k, v]) => [k, tag(v)])];
}

/** PHP's tags with floats turned into numbers, to compare with ours (and -0 kept apart from 0). */
function normalize(t: Tag): Tag {
  if (t[0] === "d") {
    const s = t[1] as string;
    const n = s === "NAN" ? Number.NaN : s === "INF" ? Infinity : s === "-INF" ? -Infinity : Number(s);
    return ["d", n];
  }
  if (t[0] === "a") return ["a", (t[1] as [string, Tag][]).map(([k, v]) => [k, normalize(v)])];
  return t;
}

function sameTags(ours: Tag, theirs: Tag, where = "value"): void {
  if (ours[0] === "d" && theirs[0] === "d") {
    assert.ok(Object.is(ours[1], theirs[1]), `${where}: float ${String(ours[1])} != ${String(theirs[1])}`);
    return;
  }
  if (ours[0] === "a" && theirs[0] === "a") {
    const a = ours[1] as [string, Tag][];
    const b = theirs[1] as [string, Tag][];
    assert.equal(a.length, b.length, `${where}: array sizes`);
    a.forEach(([k, v], i) => {
      assert.equal(k, b[i]![0], `${where}: key ${i}`);
      sameTags(v, b[i]![1], `${where}[${k}]`);
    });
    return;
  }
  assert.deepEqual(ours, theirs, where);
}

const bytes = (b64: string) => Buffer.from(b64, "base64");
const refused = (fn: () => unknown, what: string) =>
  assert.throws(fn, (e: unknown) => e instanceof SessionDecodeError && e.refused, `${what} must be refused`);

describe("PHP session decoders against real PHP", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "twc-sess-corpus-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("unserialize agrees with PHP's serialize() on 600 generated values", async () => {
    for (const seed of ["7", "1234"]) {
      const cases = JSON.parse(await php(CORPUS_PHP, [seed])) as { ser: string; tag: Tag }[];
      assert.equal(cases.length, 300);
      for (const [i, c] of cases.entries()) {
        sameTags(tag(unserialize(bytes(c.ser))), normalize(c.tag), `seed ${seed} case ${i}`);
      }
    }
  });

  test("decodeSession reads session_encode() of both handlers alike and finds the user id", async () => {
    const rows = JSON.parse(await php(SESSIONS_PHP, ["99", dir])) as {
      tag: Tag;
      php: string;
      php_serialize: string;
    }[];
    assert.equal(rows.length, 60);
    for (const [i, row] of rows.entries()) {
      const expected = normalize(row.tag);
      for (const handler of ["php", "php_serialize"] as const) {
        const { format, data } = decodeSession(bytes(row[handler]));
        assert.equal(format, handler, `row ${i}: told ${handler} apart`);
        sameTags(tag(data), expected, `row ${i} ${handler}`);
        const expectedId = (expected[1] as [string, Tag][]).find(([k]) => k === "user_id")![1][1] as string;
        assert.equal(asUserId(lookup(data, "user_id")), expectedId);
      }
    }
  });

  test("string lengths are bytes: multibyte text and non-UTF-8 bytes are read exactly", async () => {
    const out = JSON.parse(
      await php(
        `echo json_encode([base64_encode(serialize(["k" => "日本👍", "bin" => "\\xff\\xfe\\x00", "after" => 5]))]);`,
      ),
    ) as string[];
    const value = unserialize(bytes(out[0]!)) as Map<string, PhpValue>;
    assert.equal(value.get("k"), "日本👍");
    assert.equal((value.get("bin") as string).length, 3);
    assert.equal(value.get("after"), 5n);
    // the character count in place of the byte count is malformed, not silently accepted
    assert.throws(() => unserialize(Buffer.from('s:3:"日本👍";')), SessionDecodeError);
  });

  test("a dotted PHP_SESSION_USER_KEY reads nested arrays, and only positive integer ids count", async () => {
    const encoded = await php(
      `ini_set("session.use_cookies", "0"); ini_set("session.save_path", $argv[1]); session_start();
       $_SESSION["auth"] = ["user" => ["id" => 42]]; $_SESSION["s"] = "77"; $_SESSION["neg"] = -3; $_SESSION["f"] = 4.0;
       echo base64_encode(session_encode()); session_abort();`,
      [dir],
    );
    const { data } = decodeSession(bytes(encoded));
    assert.equal(asUserId(lookup(data, "auth.user.id")), "42");
    assert.equal(asUserId(lookup(data, "s")), "77");
    assert.equal(asUserId(lookup(data, "neg")), null);
    assert.equal(asUserId(lookup(data, "f")), null);
    assert.equal(asUserId(lookup(data, "auth.user")), null);
    assert.equal(lookup(data, "missing.path"), undefined);
  });

  test("PHP objects, enums and references are refused, in values and in sessions", async () => {
    const out = JSON.parse(
      await php(
        `enum Suit { case Hearts; }
         class Plain { public $id = 1; }
         $o = new Plain(); $ref = [1]; $ref[1] = &$ref[0];
         ini_set("session.use_cookies", "0"); ini_set("session.save_path", $argv[1]); session_start();
         $_SESSION["user_id"] = 5; $_SESSION["obj"] = new ArrayObject([1]);
         $sess = session_encode(); session_abort();
         ini_set("session.serialize_handler", "php_serialize"); session_start();
         $_SESSION["user_id"] = 5; $_SESSION["o"] = $o; $sess2 = session_encode(); session_abort();
         echo json_encode(array_map("base64_encode", [serialize($o), serialize(new stdClass), serialize(Suit::Hearts),
           serialize($ref), serialize([$o, $o]), $sess, $sess2]));`,
        [dir],
      ),
    ) as string[];
    const [object, std, enumCase, reference, objectRef, session, session2] = out.map(bytes);
    refused(() => unserialize(object!), "O: (a class)");
    refused(() => unserialize(std!), "O: (stdClass)");
    refused(() => unserialize(enumCase!), "E: (an enum)");
    refused(() => unserialize(reference!), "R: (a reference)");
    refused(() => unserialize(objectRef!), "objects referenced twice");
    refused(() => decodeSession(session!), "a php-handler session holding an object");
    refused(() => decodeSession(session2!), "a php_serialize session holding an object");
    refused(
      () => unserialize(Buffer.from('C:11:"ArrayObject":21:{x:i:0;a:0:{};m:a:0:{}}')),
      "C: (Serializable)",
    );
    refused(() => unserialize(Buffer.from("a:1:{i:0;r:1;}")), "r: (an object reference)");
  });

  test("over-deep and oversized sessions are refused", async () => {
    const deep = await php(
      `$v = 1; for ($i = 0; $i < 40; $i++) $v = [$v]; echo base64_encode(serialize(["user_id" => 1, "d" => $v]));`,
    );
    refused(() => decodeSession(bytes(deep)), "40 nested arrays");
    // written to a file: more than a child's stdout buffer holds
    await php(
      `file_put_contents($argv[1], serialize(["user_id" => 1, "blob" => str_repeat("x", 1100000)]));`,
      [join(dir, "big.ser")],
    );
    const big = readFileSync(join(dir, "big.ser"));
    refused(() => decodeSession(big), "a 1.1 MB session");
    await php(
      `file_put_contents($argv[1], serialize(["user_id" => 1, "n" => array_fill(0, 101, array_fill(0, 1000, null))]));`,
      [join(dir, "many.ser")],
    );
    refused(() => decodeSession(readFileSync(join(dir, "many.ser"))), "more than 100,000 elements");
    // a count the payload cannot hold is malformed before any looping
    assert.throws(() => unserialize(Buffer.from("a:200000000:{i:0;N;}")), SessionDecodeError);
  });
});

describe("PHP session decoders on hostile input", () => {
  const malformed = [
    "",
    "x",
    "i:5",
    "i:5;;",
    "i:99999999999999999999;",
    's:5:"abc";',
    's:-1:"";',
    's:1:"ab";',
    "a:1:{i:0;}",
    "a:1:{d:0.5;i:1;}",
    "a:2:{i:0;i:1;i:0;i:2;}",
    "b:2;",
    "d:1.2.3;",
    "N",
    "user_id|",
    "user_id|i:5;junk",
    "user_id|i:5;user_id|i:6;",
  ];
  for (const input of malformed) {
    test(`${JSON.stringify(input)} is malformed, never a crash`, () => {
      assert.throws(() => {
        const v = decodeSession(Buffer.from(input));
        // an empty session decodes to no data: no user, which the handshake refuses
        if (v.data.size === 0) throw new SessionDecodeError("empty");
      }, SessionDecodeError);
    });
  }

  test("random bytes and mutated sessions only ever raise SessionDecodeError", () => {
    const valid = Buffer.from('user_id|i:42;cart|a:2:{i:0;s:3:"äb";s:1:"k";d:0.5;}flag|b:1;');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
            const copy = Buffer.from(valid);
            copy[i] = b;
            return copy;
          }),
          fc.nat(valid.length).map((n) => valid.subarray(0, n)),
        ),
        (input) => {
          try {
            decodeSession(input);
          } catch (error) {
            assert.ok(error instanceof SessionDecodeError, `unexpected ${String(error)}`);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
