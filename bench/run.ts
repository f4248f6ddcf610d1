/**
 * `npm run bench`: runs every scenario against the chat server and, in the same invocation and
 * interleaved run by run, against a bare Socket.io relay; prints each figure beside the relay's as
 * a ratio (medians of the runs), writes JSON and Markdown to bench/results/ and the table into
 * docs/performance.md.
 *
 * Options: --quick (5 s scenarios, 2,000 idle connections, a 100,000-message database, 1 run),
 * --runs=N, --only=S1,S2,S3,capacity,storage, --targets=server (or relay), --workers=N, --no-docs.
 * BENCH_NODE_ARGS adds Node.js options to the targets (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { availableParallelism, cpus, totalmem } from "node:os";
import { join } from "node:path";
import { WorkerPool } from "./lib/pool.js";
import { type BenchReport, renderMarkdown, updateDocs } from "./lib/report.js";
import { runStorage, type StorageResult } from "./lib/storage.js";
import { BUILD_DIR, build, REPO_DIR, writeJson } from "./lib/targets.js";
import { runTraffic, type TrafficResult, trafficScenarios } from "./lib/traffic.js";

const USAGE =
  "usage: npm run bench -- [--quick] [--runs=3] [--only=S1,S2,S3,capacity,storage] [--targets=relay,server]" +
  " [--workers=3] [--no-docs]\n";
const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const unknown = args.find(
  (a) => !["--quick", "--no-docs"].includes(a) && !/^--(runs|only|targets|workers)=./.test(a),
);
if (unknown !== undefined) {
  process.stderr.write(`unknown option ${unknown}\n${USAGE}`);
  process.exit(2);
}
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];

const quick = flag("quick");
const runs = Number(option("runs") ?? (quick ? 1 : 3));
const only = option("only")?.split(",");
const cores = availableParallelism();
const workerCount = Number(option("workers") ?? 3);
const wanted = (name: string) => !only || only.includes(name);
const targets = (option("targets") ?? "relay,server").split(",");

process.stdout.write(`Building the server and the benchmark into ${BUILD_DIR} …\n`);
build();

const traffic: TrafficResult[] = [];
const storage: StorageResult[] = [];
const pool = new WorkerPool(workerCount);
const started = Date.now();
try {
  const scenarios = trafficScenarios(quick).filter((s) => wanted(s.name));
  for (let run = 1; run <= runs; run++) {
    for (const s of scenarios) {
      // interleaved, alternating which target goes first, so drifting machine load hits both alike
      const order = run % 2 === 1 ? (["relay", "server"] as const) : (["server", "relay"] as const);
      for (const kind of order.filter((k) => targets.includes(k))) {
        process.stdout.write(`run ${run}/${runs} ${s.name} ${kind} … `);
        const result = await runTraffic(s, kind, run, pool, cores);
        traffic.push(result);
        process.stdout.write(`${summarize(result)}\n`);
      }
    }
  }
  if (wanted("storage")) {
    storage.push(...(await runStorage({ quick, runs, log: (line) => process.stdout.write(`${line}\n`) })));
  }
} finally {
  pool.close();
}

function summarize(r: TrafficResult): string {
  const checks = `lost ${r.lost}, dup ${r.duplicated}, failed ${r.failedAcks}`;
  if (r.scenario === "capacity")
    return `${r.rssPerConnectionKb.toFixed(1)} KB/conn, ${r.connectPerS.toFixed(0)} conn/s, ${r.connectFailed} failed`;
  return `${r.acksPerS.toFixed(0)} acks/s, ${r.deliveriesPerS.toFixed(0)} deliveries/s, delivery p99 ${r.deliveryLatency.p99.toFixed(1)} ms, ${checks}, target ${r.targetCores.toFixed(2)} cores, generator ${r.generatorCores.toFixed(2)} → ${r.saturated}`;
}

const report: BenchReport = {
  date: new Date().toISOString(),
  quick,
  runs,
  machine: {
    cpus: cores,
    model: cpus()[0]?.model ?? "unknown",
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
  workers: workerCount,
  durationS: Math.round((Date.now() - started) / 1000),
  traffic,
  storage,
};
const markdown = renderMarkdown(report);
const stamp = report.date.replace(/[:.]/g, "-");
const resultsDir = join(REPO_DIR, "bench/results");
writeJson(join(resultsDir, `bench-${stamp}.json`), report);
writeJson(join(resultsDir, "latest.json"), report);
await import("node:fs").then((fs) => {
  fs.writeFileSync(join(resultsDir, `bench-${stamp}.md`), markdown);
  fs.writeFileSync(join(resultsDir, "latest.md"), markdown);
});
process.stdout.write(`\n${markdown}\n`);
if (!flag("no-docs") && !quick && !only) updateDocs(join(REPO_DIR, "docs/performance.md"), markdown);
process.exit(0);
