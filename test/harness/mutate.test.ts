/**
 * The mutation check (scripts/mutate.ts): which changes it makes, that it leaves types and comments
 * alone, that it tells killed from surviving mutants, and that it always puts the file back.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { after, test } from "node:test";
import { promisify } from "node:util";
import { apply, mutantsOf } from "../../scripts/mutate.js";
import { ROOT, tempDir } from "../support/harness.js";

test("each condition and operator becomes its own mutant; types, strings and comments stay", () => {
  const source = [
    "type Check = (a: number) => boolean; // a === b in a comment",
    'const label = "a < b";',
    "export const adult = (age: number): boolean => age >= 18 && !banned(age);",
    "export const bounded = (n: number) => Math.max(1, n - 1);",
    "if (ready) go();",
  ].join("\n");
  assert.deepEqual(
    mutantsOf(source).map((m) => `${m.line}:${m.column} ${m.description}`),
    [
      "3:52 >= → >",
      "3:58 && → ||",
      "3:61 !banned(age) → banned(age)",
      "4:39 Math.max → Math.min",
      "4:53 - → +",
      "5:5 ready → true",
      "5:5 ready → false",
    ],
  );
});

test("applying a mutant changes only its span", () => {
  const source = "export const f = (a: number, b: number) => a === b;";
  const [flip] = mutantsOf(source);
  assert.ok(flip);
  assert.equal(apply(source, flip), "export const f = (a: number, b: number) => a !== b;");
});

test("a run reports killed and surviving mutants and puts the file back", async () => {
  const scratch = tempDir("twc-mutate-");
  after(() => scratch.remove());
  const module = join(scratch.dir, "age.ts");
  const original =
    "export const adult = (age: number): boolean => age >= 18;\nexport const unused = () => !true;\n";
  writeFileSync(module, original);
  const tests = join(scratch.dir, "age.test.ts");
  writeFileSync(
    tests,
    `import assert from "node:assert/strict";
     import { test } from "node:test";
     import { adult } from "./age.ts";
     test("18 is adult, 17 is not", () => {
       assert.equal(adult(18), true);
       assert.equal(adult(17), false);
     });`,
  );
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", join(ROOT, "scripts/mutate.ts"), module, tests],
    { cwd: ROOT, timeout: 120_000 },
  );
  assert.match(stdout, /killed {3}\S+age\.ts:1:52 {2}>= → > {2}\(\S+age\.test\.ts\)\n/);
  // nothing calls `unused`, so no test can notice its mutants
  assert.match(stdout, /SURVIVED \S+age\.ts:2:29 {2}!true → true\n/);
  assert.match(stdout, /SURVIVED \S+age\.ts:2:30 {2}true → false\n/);
  assert.match(stdout, /age\.ts: 1 of 3 mutants killed, 2 survived \(33%\)/);
  assert.equal(readFileSync(module, "utf8"), original, "the file is put back");
});

test("a run over several sources stops at the first failing test file and sums up", async () => {
  const scratch = tempDir("twc-mutate-");
  after(() => scratch.remove());
  const age = join(scratch.dir, "age.ts");
  const other = join(scratch.dir, "other.ts");
  writeFileSync(age, "export const adult = (age: number): boolean => age >= 18;\n");
  writeFileSync(other, "export const unused = () => !true;\n");
  const ageTest = join(scratch.dir, "age.test.ts");
  writeFileSync(
    ageTest,
    `import assert from "node:assert/strict";
     import { test } from "node:test";
     import { adult } from "./age.ts";
     test("17 is not adult", () => assert.equal(adult(17), false));
     test("18 is adult", () => assert.equal(adult(18), true));`,
  );
  // this file passes whatever changes, and leaves a line for each time it runs
  const runs = join(scratch.dir, "runs.log");
  const logTest = join(scratch.dir, "log.test.ts");
  writeFileSync(
    logTest,
    `import { appendFileSync } from "node:fs";
     import { test } from "node:test";
     test("leaves a line", () => appendFileSync(${JSON.stringify(runs)}, "ran\\n"));`,
  );
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", join(ROOT, "scripts/mutate.ts"), age, other, ageTest, logTest],
    { cwd: ROOT, timeout: 120_000 },
  );
  assert.match(stdout, / {2}1 killed {3}\S+age\.ts:1:52 {2}>= → > {2}\(\S+age\.test\.ts\)\n/);
  assert.match(stdout, / {2}2 SURVIVED \S+other\.ts:1:29 {2}!true → true\n/);
  assert.match(stdout, / {2}3 SURVIVED \S+other\.ts:1:30 {2}true → false\n/);
  assert.match(stdout, /age\.ts: 1 of 1 mutants killed, 0 survived \(100%\)\n/);
  assert.match(stdout, /other\.ts: 0 of 2 mutants killed, 2 survived \(0%\)\n/);
  assert.match(stdout, /\nall: 1 of 3 mutants killed, 2 survived \(33%\)\n/);
  // the baseline and the two survivors ran it; the killed mutant stopped at age.test.ts
  assert.equal(readFileSync(runs, "utf8"), "ran\nran\nran\n");
  assert.equal(readFileSync(age, "utf8"), "export const adult = (age: number): boolean => age >= 18;\n");
  assert.equal(readFileSync(other, "utf8"), "export const unused = () => !true;\n");

  // --only: just the mutants named, to check survivors again after a fix
  const only = await promisify(execFile)(
    process.execPath,
    [
      "--import",
      "tsx",
      join(ROOT, "scripts/mutate.ts"),
      age,
      other,
      ageTest,
      "--only",
      `${relative(ROOT, other)}:1:30`,
    ],
    { cwd: ROOT, timeout: 120_000 },
  );
  assert.match(only.stdout, / {2}1 SURVIVED \S+other\.ts:1:30 {2}true → false\n/);
  assert.match(only.stdout, /\nall: 0 of 1 mutants killed, 1 survived \(0%\)\n/);
});
