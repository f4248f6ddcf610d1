/**
 * A small mutation check: it changes one condition or operator of a source file at a time (a
 * "mutant"), runs the tests that cover that file, and reports whether they noticed. A mutant the
 * tests fail on is "killed"; one they still pass on "survived", which points at a rule no test
 * pins down (or at a change that makes no difference, which happens too).
 *
 *   npm run mutate -- src/http/origins.ts test/integration/origins.test.ts
 *   npm run mutate -- src/realtime/limits.ts test/integration/rate-limits.test.ts --max 20
 *   npm run mutate -- src/chat/reads/service.ts src/storage/sqlite/read-writes.ts \
 *     test/integration/read.test.ts test/integration/server-api.test.ts --jobs 2
 *
 * Names ending in .test.ts are the tests, the others the sources. Each test file runs in its own
 * process and the run stops at the first that fails, so a killed mutant costs one file, not all.
 * The files are changed in place and always put back, also on Ctrl-C. Run it on a clean checkout:
 * it refuses to start if the tests already fail on the unchanged files.
 */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import ts from "typescript";

/** One change to the source: replace [start, end) with `replacement`. */
export interface Mutant {
  start: number;
  end: number;
  replacement: string;
  /** 1-based line and column of the change */
  line: number;
  column: number;
  /** what changed, for the report: `=== → !==` */
  description: string;
}

/** Operators and what each becomes: the opposite test, the other boundary, the other connective. */
const OPERATOR_SWAPS: ReadonlyMap<ts.SyntaxKind, string> = new Map([
  [ts.SyntaxKind.EqualsEqualsEqualsToken, "!=="],
  [ts.SyntaxKind.ExclamationEqualsEqualsToken, "==="],
  [ts.SyntaxKind.EqualsEqualsToken, "!="],
  [ts.SyntaxKind.ExclamationEqualsToken, "=="],
  [ts.SyntaxKind.LessThanToken, "<="],
  [ts.SyntaxKind.LessThanEqualsToken, "<"],
  [ts.SyntaxKind.GreaterThanToken, ">="],
  [ts.SyntaxKind.GreaterThanEqualsToken, ">"],
  [ts.SyntaxKind.AmpersandAmpersandToken, "||"],
  [ts.SyntaxKind.BarBarToken, "&&"],
  [ts.SyntaxKind.PlusToken, "-"],
  [ts.SyntaxKind.MinusToken, "+"],
  [ts.SyntaxKind.AsteriskToken, "/"],
  [ts.SyntaxKind.SlashToken, "*"],
]);

/** Calls whose twin gives a different answer near a boundary: `Math.max(1, x)` against `Math.min`. */
const CALL_SWAPS: ReadonlyMap<string, string> = new Map([
  ["Math.max", "Math.min"],
  ["Math.min", "Math.max"],
  ["Math.ceil", "Math.floor"],
  ["Math.floor", "Math.ceil"],
]);

/** Every mutant of a TypeScript source, in source order. Types and comments are never touched. */
export function mutantsOf(source: string, fileName = "module.ts"): Mutant[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const mutants: Mutant[] = [];
  /** `shownFrom`/`shownTo`: a wider span for the report than the one replaced */
  const add = (start: number, end: number, replacement: string, shownFrom = start, shownTo = end) => {
    const { line, character } = file.getLineAndCharacterOfPosition(start);
    const span = (from: number, to: number) => source.slice(from, to).replace(/\s+/g, " ");
    const original = span(shownFrom, shownTo);
    const changed = span(shownFrom, start) + replacement + span(end, shownTo);
    const shown = (text: string) => (text.length > 40 ? `${text.slice(0, 37)}...` : text);
    mutants.push({
      start,
      end,
      replacement,
      line: line + 1,
      column: character + 1,
      description: `${shown(original)} → ${shown(changed)}`,
    });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isBinaryExpression(node)) {
      const swap = OPERATOR_SWAPS.get(node.operatorToken.kind);
      // `a + b` with a string on either side is text, not arithmetic: "-" there only makes NaN
      const isText = [node.left, node.right].some(
        (side) => ts.isStringLiteral(side) || ts.isTemplateExpression(side),
      );
      if (swap && !(isText && node.operatorToken.kind === ts.SyntaxKind.PlusToken)) {
        add(node.operatorToken.getStart(file), node.operatorToken.end, swap);
      }
    } else if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.ExclamationToken) {
      // `!x` becomes `x`
      add(node.getStart(file), node.operand.getStart(file), "", node.getStart(file), node.end);
    } else if (ts.isCallExpression(node) && CALL_SWAPS.has(node.expression.getText(file))) {
      add(
        node.expression.getStart(file),
        node.expression.end,
        CALL_SWAPS.get(node.expression.getText(file))!,
      );
    } else if (node.kind === ts.SyntaxKind.TrueKeyword) {
      add(node.getStart(file), node.end, "false");
    } else if (node.kind === ts.SyntaxKind.FalseKeyword) {
      add(node.getStart(file), node.end, "true");
    }
    if (ts.isIfStatement(node) || ts.isConditionalExpression(node)) {
      // the whole condition always true, then always false
      const condition = ts.isIfStatement(node) ? node.expression : node.condition;
      add(condition.getStart(file), condition.end, "true");
      add(condition.getStart(file), condition.end, "false");
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  // a condition that is itself `true`/`false` gets two equal mutants; keep one of each change
  const seen = new Set<string>();
  return mutants
    .filter((m) => {
      const key = `${m.start}:${m.end}:${m.replacement}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.start - b.start || a.end - b.end);
}

/** The source with one mutant applied. */
export function apply(source: string, mutant: Mutant): string {
  return source.slice(0, mutant.start) + mutant.replacement + source.slice(mutant.end);
}

/** The test runs in progress, so Ctrl-C can stop them too. */
const running = new Set<number>();

/** Stops a test run and every process it started (they share its process group). */
function stop(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

type Outcome = "passed" | "failed" | "timed out";

/** Runs one test file; resolves with how it ended, and how long it took. */
function runTestFile(test: string, timeoutMs: number): Promise<{ outcome: Outcome; ms: number }> {
  const started = Date.now();
  return new Promise((resolvePromise) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--test", "--test-concurrency=1", "--test-reporter=dot", test],
      // a run started from inside a test (NODE_TEST_CONTEXT set) would report to that test's
      // runner instead of through its exit code, so the variable is not passed on
      { stdio: "ignore", detached: true, env: { ...process.env, NODE_TEST_CONTEXT: undefined } },
    );
    const pid = child.pid;
    if (pid !== undefined) running.add(pid);
    let timedOut = false;
    // a mutant can make a test hang (a loop that never ends): that counts as noticed
    const timer = setTimeout(() => {
      timedOut = true;
      stop(pid);
    }, timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (pid !== undefined) running.delete(pid);
      const outcome = timedOut ? "timed out" : code === 0 ? "passed" : "failed";
      resolvePromise({ outcome, ms: Date.now() - started });
    });
  });
}

/**
 * Runs the test files, `jobs` at a time, and stops at the first one that fails: one failure is
 * enough to kill a mutant, and most mutants die in the first file tried. Answers how the run
 * ended, which file noticed, and how long each file took.
 */
async function runTests(
  tests: readonly string[],
  jobs: number,
  timeoutOf: (test: string) => number,
): Promise<{ outcome: Outcome; killer?: string; ms: Map<string, number> }> {
  const queue = [...tests];
  const ms = new Map<string, number>();
  let failure: { outcome: Outcome; killer: string } | undefined;
  const worker = async (): Promise<void> => {
    for (let test = queue.shift(); test !== undefined && !failure; test = queue.shift()) {
      const run = await runTestFile(test, timeoutOf(test));
      ms.set(test, run.ms);
      if (run.outcome !== "passed" && !failure) {
        failure = { outcome: run.outcome, killer: test };
        // the other file still running can only add a second "noticed": stop it
        for (const pid of running) stop(pid);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
  return failure ? { ...failure, ms } : { outcome: "passed", ms };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      max: { type: "string" },
      jobs: { type: "string" },
      only: { type: "string", multiple: true },
      "timeout-ms": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  // test files end in .test.ts; everything else named is a source file to change
  const tests = positionals.filter((name) => name.endsWith(".test.ts"));
  const targets = positionals.filter((name) => !name.endsWith(".test.ts"));
  if (values.help || targets.length === 0 || tests.length === 0) {
    process.stdout.write(
      "usage: npm run mutate -- <source file>... <test file>... [--max N] [--jobs N] [--only L] [--timeout-ms N]\n" +
        "  changes one condition or operator of the sources at a time, runs the tests, and\n" +
        "  reports which changes the tests noticed (killed) and which they did not (survived);\n" +
        "  --max N: N mutants per source file, spread over it; --jobs N: test files run at once;\n" +
        "  --only file:line:column (repeatable): just the mutants there, to check survivors again\n",
    );
    process.exitCode = positionals.length > 0 ? 1 : values.help ? 0 : 1;
    return;
  }
  const jobs = values.jobs === undefined ? 1 : Number(values.jobs);
  const max = values.max === undefined ? Number.POSITIVE_INFINITY : Number(values.max);
  const sources = targets.map((target) => {
    const path = resolve(target);
    const original = readFileSync(path, "utf8");
    const all = mutantsOf(original, path);
    const count = Math.min(max, all.length);
    // with --max, an even spread over the file rather than its first lines
    const step = all.length / count;
    const spread = Array.from({ length: count }, (_, i) => all[Math.floor(i * step)]!);
    const name = relative(process.cwd(), path);
    const only = values.only;
    const mutants = only ? spread.filter((m) => only.includes(`${name}:${m.line}:${m.column}`)) : spread;
    return { path, name, original, all, mutants };
  });

  const restore = () => {
    for (const source of sources) writeFileSync(source.path, source.original);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      for (const pid of running) stop(pid);
      restore();
      process.exit(130);
    });
  }

  for (const { name, all, mutants } of sources) {
    process.stdout.write(`${name}: ${all.length} mutants, running ${mutants.length}\n`);
  }
  const baseline = await runTests(tests, jobs, () => 600_000);
  if (baseline.outcome !== "passed") {
    process.stdout.write(`the tests fail on the unchanged files (${baseline.killer}): fix them first\n`);
    process.exitCode = 2;
    return;
  }
  const total = [...baseline.ms.values()].reduce((sum, ms) => sum + ms, 0);
  const timeoutOf = (test: string) =>
    values["timeout-ms"] ? Number(values["timeout-ms"]) : (baseline.ms.get(test) ?? 0) * 3 + 10_000;
  process.stdout.write(`baseline: the tests pass in ${(total / 1000).toFixed(1)} s\n`);

  // the file that noticed the last mutant goes first: mutants near each other die in the same file
  const order = [...tests];
  const results: { name: string; killed: number; survived: number }[] = [];
  let index = 0;
  try {
    for (const source of sources) {
      let survived = 0;
      for (const mutant of source.mutants) {
        index += 1;
        writeFileSync(source.path, apply(source.original, mutant));
        const { outcome, killer } = await runTests(order, jobs, timeoutOf);
        writeFileSync(source.path, source.original);
        if (outcome === "passed") survived += 1;
        if (killer) order.splice(0, order.length, killer, ...order.filter((test) => test !== killer));
        const verdict = { passed: "SURVIVED", failed: "killed  ", "timed out": "killed (timeout)" }[outcome];
        const where = `${source.name}:${mutant.line}:${mutant.column}`;
        // which file noticed: a surprising kill is worth a look (a flaky test, a slow machine)
        const by = killer ? `  (${relative(process.cwd(), resolve(killer))})` : "";
        process.stdout.write(
          `${String(index).padStart(3)} ${verdict} ${where}  ${mutant.description}${by}\n`,
        );
      }
      results.push({ name: source.name, killed: source.mutants.length - survived, survived });
    }
  } finally {
    restore();
  }
  const line = (name: string, killed: number, survived: number) => {
    const count = killed + survived;
    const score = count === 0 ? 100 : (100 * killed) / count;
    return `${name}: ${killed} of ${count} mutants killed, ${survived} survived (${score.toFixed(0)}%)\n`;
  };
  process.stdout.write("\n");
  for (const { name, killed, survived } of results) process.stdout.write(line(name, killed, survived));
  if (results.length > 1) {
    const killed = results.reduce((sum, r) => sum + r.killed, 0);
    const survived = results.reduce((sum, r) => sum + r.survived, 0);
    process.stdout.write(line("all", killed, survived));
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
