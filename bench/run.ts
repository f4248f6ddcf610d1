/**
 * `npm run bench`: runs every scenario against the chat server and, in the same invocation and
 * interleaved run by run, against a bare Socket.io relay; prints each figure beside the relay's as
 * a ratio (medians of the runs), writes JSON and Markdown to bench/results/ and the table into
 * docs/performance.md.
 *
 * Options: --quick (5 s scenarios, 2,000 idle connections, a 100,000-message database, 1 run),
 * --runs=N, --only=S1,S1m,S1i,S2,S3,capacity,storage,nodes,catchup,files, --targets=server (or relay, postgres),
 * --workers=N, --no-docs.
 * How cost grows (only when named in --only, see docs/performance.md): S3-250 and S3-2000 (S3 at
 * 250 and 2,000 messages/s), capacity-big (--connections=N idle connections, 30,000 by default),
 * storage-5m (the storage scenario on 5,000,000 messages). With any of them the curves' table is
 * printed, and written into the docs unless --quick or --no-docs. retention (only when named too):
 * the daily retention run over the storage database while S3 runs, its p99 beside S3's idle one.
 * The PostgreSQL section (S1 and S3 on a node with the PostgreSQL store, two nodes against one on
 * PostgreSQL and Redis, catch-up after a node's death) runs too, unless --no-pg; it is skipped,
 * saying why, when PostgreSQL (--pg=URL of a database to run CREATE DATABASE in) or Redis
 * (--redis=URL) does not answer.
 * BENCH_NODE_ARGS adds Node.js options to the targets (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { availableParallelism, cpus, totalmem } from "node:os";
import { join } from "node:path";
import { type CatchupResult, runCatchup } from "./lib/catchup.js";
import { type FilesResult, renderFiles, runFiles } from "./lib/files.js";
import { WorkerPool } from "./lib/pool.js";
import { DEFAULT_SERVICES, type Services, unreachable } from "./lib/postgres.js";
import { type BenchReport, renderMarkdown, updateDocs } from "./lib/report.js";
import { renderCurves } from "./lib/report-curves.js";
import { renderPostgres } from "./lib/report-postgres.js";
import { type RetentionResult, runRetentionBench } from "./lib/retention.js";
import { runStorage, type StorageResult } from "./lib/storage.js";
import { BUILD_DIR, build, REPO_DIR, writeJson } from "./lib/targets.js";
import { runTraffic, type TargetKind, type TrafficResult, trafficScenarios } from "./lib/traffic.js";

const USAGE =
  "usage: npm run bench -- [--quick] [--runs=3] [--only=S1,S1m,S1i,S2,S3,capacity,storage,nodes,catchup,files,S3-250,S3-2000,capacity-big,storage-5m,retention] [--connections=30000]" +
  " [--targets=relay,server,postgres] [--workers=3] [--no-docs] [--no-pg] [--pg=postgres://…] [--redis=redis://…]\n";
const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const unknown = args.find(
  (a) =>
    !["--quick", "--no-docs", "--no-pg"].includes(a) &&
    !/^--(runs|only|targets|workers|pg|redis|connections)=./.test(a),
);
if (unknown !== undefined) {
  process.stderr.write(`unknown option ${unknown}\n${USAGE}`);
  process.exit(2);
}
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string) => {
  const found = args.find((a) => a.startsWith(`--${name}=`));
  return found === undefined ? undefined : found.slice(name.length + 3);
};

const quick = flag("quick");
const runs = Number(option("runs") ?? (quick ? 1 : 3));
const only = option("only")?.split(",");
const cores = availableParallelism();
const workerCount = Number(option("workers") ?? 3);
/** the curves' scenarios run only when named: a full run stays as long as it was */
const CURVES = ["S3-250", "S3-2000", "capacity-big", "storage-5m"];
/** scenarios that run only when named, and print their own lines */
const ON_DEMAND = [...CURVES, "retention"];
const wanted = (name: string) => (!only && !ON_DEMAND.includes(name)) || (only?.includes(name) ?? false);
const bigConnections = Number(option("connections") ?? 30_000);
const targets = (option("targets") ?? "relay,server,postgres").split(",");
const services: Services = {
  pgAdminUrl: option("pg") ?? DEFAULT_SERVICES.pgAdminUrl,
  redisUrl: option("redis") ?? DEFAULT_SERVICES.redisUrl,
};
/** the scenarios the PostgreSQL store runs beside SQLite and the relay */
const PG_SCENARIOS = new Set(["S1", "S1m", "S1i", "S3"]);

process.stdout.write(`Building the server and the benchmark into ${BUILD_DIR} …\n`);
build();

// the PostgreSQL section: skipped, saying why, when its services are not there
const pgWanted =
  !flag("no-pg") &&
  ((targets.includes("postgres") && [...PG_SCENARIOS].some(wanted)) || wanted("nodes") || wanted("catchup"));
let pgSkipped: string | null = flag("no-pg") ? "--no-pg was given" : pgWanted ? null : "not asked for";
if (pgWanted) {
  const why = await unreachable(services);
  if (why !== null) {
    pgSkipped = why;
    process.stdout.write(`Skipping the PostgreSQL section: ${why}.\n`);
  }
}
const pgOn = pgSkipped === null;

const traffic: TrafficResult[] = [];
const storage: StorageResult[] = [];
const catchup: CatchupResult[] = [];
const files: FilesResult[] = [];
const retention: RetentionResult[] = [];
const pool = new WorkerPool(workerCount);
const started = Date.now();
try {
  const scenarios = trafficScenarios(quick, bigConnections).filter((s) => wanted(s.name));
  for (let run = 1; run <= runs; run++) {
    for (const s of scenarios) {
      // interleaved, alternating which target goes first, so drifting machine load hits both alike
      // S1m and S1i are measured against S1 on the same store: the relay has no mentions or files
      const kinds: TargetKind[] = s.name === "S1m" || s.name === "S1i" ? ["server"] : ["relay", "server"];
      if (pgOn && PG_SCENARIOS.has(s.name)) kinds.push("postgres");
      const order = run % 2 === 1 ? kinds : [...kinds].reverse();
      for (const kind of order.filter((k) => targets.includes(k))) {
        process.stdout.write(`run ${run}/${runs} ${s.name} ${kind} … `);
        const result = await runTraffic(s, kind, run, pool, cores, services);
        traffic.push(result);
        process.stdout.write(`${summarize(result)}\n`);
      }
    }
  }
  if (pgOn && wanted("nodes")) {
    // S1's load (every client sending, 8 in flight) on PostgreSQL and Redis: one node, then two
    const s1 = trafficScenarios(quick).find((s) => s.name === "S1")!;
    for (let run = 1; run <= runs; run++) {
      const order: TargetKind[] = run % 2 === 1 ? ["pg-1node", "pg-2nodes"] : ["pg-2nodes", "pg-1node"];
      for (const kind of order) {
        process.stdout.write(`run ${run}/${runs} S1 ${kind} … `);
        const result = await runTraffic(s1, kind, run, pool, cores, services);
        traffic.push(result);
        process.stdout.write(`${summarize(result)}\n`);
      }
    }
  }
  if (pgOn && wanted("catchup")) {
    for (let run = 1; run <= runs; run++) {
      process.stdout.write(`run ${run}/${runs} catch-up after a node's death … `);
      const result = await runCatchup({ quick, run, workers: workerCount, services });
      catchup.push(result);
      process.stdout.write(
        `${result.cutOff} of ${result.clients} clients cut off, back in ${result.reconnect.max.toFixed(0)} ms (max), every client holding every message it missed after ${result.caughtUp.max.toFixed(0)} ms; acked ${result.acked}, lost ${result.lost}, dup ${result.duplicated}, never caught up ${result.notCaughtUp}, failed ${result.failed}, unacked ${result.unacked}${result.firstFailure ? ` (${result.firstFailure})` : ""}; attempts to reconnect p50 ${result.attempts.p50}, max ${result.attempts.max}${result.firstReconnectError ? ` (first failure: ${result.firstReconnectError})` : ""}\n`,
      );
    }
  }
  if (wanted("storage")) {
    storage.push(...(await runStorage({ quick, runs, log: (line) => process.stdout.write(`${line}\n`) })));
  }
  if (wanted("storage-5m")) {
    const log = (line: string) => process.stdout.write(`${line}\n`);
    storage.push(...(await runStorage({ quick, runs, log, messages: 5_000_000 })));
  }
  if (wanted("retention")) {
    const log = (line: string) => process.stdout.write(`${line}\n`);
    retention.push(...(await runRetentionBench({ quick, runs, pool, cores, log })));
  }
  if (wanted("files")) {
    files.push(...(await runFiles({ quick, runs, log: (line) => process.stdout.write(`${line}\n`) })));
  }
} finally {
  pool.close();
}

function summarize(r: TrafficResult): string {
  const retries = r.busyRetries ? `, ${r.busyRetries} uploads refused as busy and sent again` : "";
  const checks = `lost ${r.lost}, dup ${r.duplicated}, failed ${r.failedAcks}${r.firstFailure ? ` (${r.firstFailure})` : ""}${retries}`;
  if (r.scenario.startsWith("capacity"))
    return `${r.connections} connections, ${r.rssPerConnectionKb.toFixed(1)} KB/conn, ${r.connectPerS.toFixed(0)} conn/s, ${r.connectCpuSPer1000.toFixed(2)} CPU s per 1,000 connections, ${r.idleCores.toFixed(3)} cores idle, ${r.connectFailed} failed`;
  const nodes = r.nodeCores.length > 1 ? ` (${r.nodeCores.map((c) => c.toFixed(2)).join(" + ")})` : "";
  const pg = r.pgActivity
    ? `; database connections: ${Object.entries(r.pgActivity)
        .slice(0, 3)
        .map(([state, share]) => `${state} ${(100 * share).toFixed(0)} %`)
        .join(", ")}`
    : "";
  return `${r.acksPerS.toFixed(0)} acks/s, ${r.deliveriesPerS.toFixed(0)} deliveries/s, delivery p99 ${r.deliveryLatency.p99.toFixed(1)} ms, ${checks}, target ${r.targetCores.toFixed(2)} cores${nodes}, generator ${r.generatorCores.toFixed(2)} → ${r.saturated}${pg}`;
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
  postgres: { skipped: pgSkipped, catchup },
  files,
  retention,
};
const markdown = renderMarkdown(report);
const curvesMarkdown = CURVES.some((c) => only?.includes(c)) ? renderCurves(report) : null;
const pgMarkdown = pgWanted ? renderPostgres(report) : null;
const filesMarkdown = files.length > 0 ? renderFiles(files) : null;
const stamp = report.date.replace(/[:.]/g, "-");
const resultsDir = join(REPO_DIR, "bench/results");
writeJson(join(resultsDir, `bench-${stamp}.json`), report);
writeJson(join(resultsDir, "latest.json"), report);
await import("node:fs").then((fs) => {
  const withPg = pgMarkdown ? `${markdown}\n## PostgreSQL and several nodes\n\n${pgMarkdown}` : markdown;
  const all = filesMarkdown ? `${withPg}\n## Files\n\n${filesMarkdown}\n` : withPg;
  fs.writeFileSync(join(resultsDir, `bench-${stamp}.md`), all);
  fs.writeFileSync(join(resultsDir, "latest.md"), all);
});
process.stdout.write(`\n${markdown}\n`);
if (pgMarkdown) process.stdout.write(`\nPostgreSQL and several nodes:\n\n${pgMarkdown}\n`);
if (filesMarkdown) process.stdout.write(`\nFiles:\n\n${filesMarkdown}\n`);
if (curvesMarkdown) process.stdout.write(`\nHow cost grows:\n\n${curvesMarkdown}\n`);
const docs = join(REPO_DIR, "docs/performance.md");
if (!flag("no-docs") && !quick && !only) updateDocs(docs, markdown);
// the PostgreSQL block needs its whole section, each part beside what it is compared with
const pgComplete =
  pgOn &&
  wanted("catchup") &&
  wanted("nodes") &&
  ["relay", "server", "postgres"].every((k) => targets.includes(k)) &&
  [...PG_SCENARIOS].every(wanted);
if (!flag("no-docs") && !quick && pgComplete && pgMarkdown) {
  const head = `Measured ${report.date.slice(0, 16).replace("T", " ")} UTC on ${report.machine.cpus} × ${report.machine.model}, Node ${report.machine.node}; ${runs} interleaved run(s); ${workerCount} load-generator processes. The machine is shared with other work, so the figures move from run to run.`;
  updateDocs(docs, `${head}\n\n${pgMarkdown}`, "postgres");
}
// the files block stands alone, so `--only=files` refreshes it too
if (!flag("no-docs") && !quick && filesMarkdown) {
  const head = `Measured ${report.date.slice(0, 16).replace("T", " ")} UTC on ${report.machine.cpus} × ${report.machine.model}, Node ${report.machine.node}; medians of ${runs} run(s). The machine is shared with other work, so the figures move from run to run.`;
  updateDocs(docs, `${head}\n\n${filesMarkdown}`, "files");
}
if (!flag("no-docs") && !quick && curvesMarkdown) updateDocs(docs, curvesMarkdown, "curves");
process.exit(0);
