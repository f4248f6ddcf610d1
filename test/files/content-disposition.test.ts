/**
 * The Content-Disposition and Range rules of downloads on their own, for names and headers an
 * upload through a browser can't even produce (browsers escape quotes in multipart file names).
 * The same rules through a real server: test/files/downloads.test.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { contentDisposition } from "../../src/http/content-disposition.js";
import { parseRange } from "../../src/http/ranges.js";

test("a name can never end the header, add a parameter or name a folder", () => {
  const cases: [string, string][] = [
    [`a"b.txt`, `attachment; filename="a_b.txt"; filename*=UTF-8''a%22b.txt`],
    [`a\\b.txt`, `attachment; filename="a_b.txt"; filename*=UTF-8''a_b.txt`],
    [
      `x"; filename="evil.html`,
      `attachment; filename="x_; filename=_evil.html"; filename*=UTF-8''x%22%3B%20filename%3D%22evil.html`,
    ],
    ["..", `attachment; filename="file"; filename*=UTF-8''file`],
    ["../x", `attachment; filename=".._x"; filename*=UTF-8''.._x`],
    ["日本語.pdf", `attachment; filename="___.pdf"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.pdf`],
    ["a*b'c(d).txt", `attachment; filename="a*b'c(d).txt"; filename*=UTF-8''a%2Ab%27c%28d%29.txt`],
  ];
  for (const [name, header] of cases) assert.equal(contentDisposition("attachment", name), header, name);
  assert.equal(contentDisposition("inline", "p.png"), `inline; filename="p.png"; filename*=UTF-8''p.png`);
});

test("one byte range is served; anything else is the whole file or 416", () => {
  const size = 100;
  const cases: [string | undefined, ReturnType<typeof parseRange>][] = [
    [undefined, { kind: "whole" }],
    ["bytes=0-0", { kind: "part", range: { start: 0, end: 0 } }],
    ["bytes=0-", { kind: "part", range: { start: 0, end: 99 } }],
    ["bytes=90-200", { kind: "part", range: { start: 90, end: 99 } }],
    ["bytes=-10", { kind: "part", range: { start: 90, end: 99 } }],
    ["bytes=-500", { kind: "part", range: { start: 0, end: 99 } }],
    ["bytes=100-", { kind: "unsatisfiable" }],
    ["bytes=-0", { kind: "unsatisfiable" }],
    ["bytes=5-1", { kind: "whole" }],
    ["bytes=0-1,5-6", { kind: "whole" }],
    ["bytes=-", { kind: "whole" }],
    ["bytes=a-b", { kind: "whole" }],
    ["pages=1-2", { kind: "whole" }],
  ];
  for (const [header, answer] of cases) assert.deepEqual(parseRange(header, size), answer, header);
  assert.deepEqual(
    parseRange("bytes=0-", 0),
    { kind: "unsatisfiable" },
    "an empty file has no bytes to range over",
  );
});
