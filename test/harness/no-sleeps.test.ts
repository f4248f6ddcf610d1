/**
 * Tests never wait a fixed time (docs/testing.md): a pause is too short on a busy machine and too
 * long everywhere else, and a check after it passes whether or not the server did its part. They
 * poll with `until`, make a round trip, or move an injected clock. This finds a pause that slipped
 * back in: a timer whose only job is to resolve a promise, or a `sleep` helper.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";

const root = join(import.meta.dirname, "..", "..");

/**
 * `setTimeout(r, 50)` / `setTimeout(resolve, ms)`: a timer handed a bare resolve function is a
 * pause. A guard (`setTimeout(() => reject(…), 5000)`) passes an arrow function and is not matched.
 */
const PAUSES = [/setTimeout\(\s*(?:r|res|resolve|done|next)\s*,/, /\bsleep\s*\(/, /timers\/promises/];

/** the one place that may wait between polls */
const ALLOWED = new Set(["test/support/wait.ts"]);

test("no test or test helper pauses for a fixed time", () => {
  const files = readdirSync(join(root, "test"), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .filter((file) => !ALLOWED.has(file) && file !== "test/harness/no-sleeps.test.ts");
  assert.ok(files.length > 100, `the test files were found: ${files.length}`);
  const wrong: string[] = [];
  for (const file of files) {
    const lines = readFileSync(join(root, file), "utf8").split("\n");
    lines.forEach((line, i) => {
      if (PAUSES.some((pattern) => pattern.test(line))) wrong.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(wrong, []);
});

test("the check finds the pauses it is meant to find, and lets guards through", () => {
  const found = (line: string) => PAUSES.some((pattern) => pattern.test(line));
  assert.deepEqual(
    [
      "await new Promise((r) => setTimeout(r, 200));",
      "await new Promise((resolve) => setTimeout(resolve, ms));",
      "await sleep(250);",
      'import { setTimeout as wait } from "node:timers/promises";',
      'const timer = setTimeout(() => reject(new Error("no ack")), 5000);',
      "const slow = setTimeout(kill, 20_000);",
    ].map(found),
    [true, true, true, true, false, false],
  );
});
