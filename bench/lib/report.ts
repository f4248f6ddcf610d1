/**
 * The benchmark's report: medians of the runs, each chat-server figure beside the relay's with
 * their ratio (the median of the per-run ratios, since each run pair ran back to back), the issue's
 * targets, and the correctness checks. Rendered as Markdown for the console and docs/performance.md.
 */

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { CatchupResult } from "./catchup.js";
import type { FilesResult } from "./files.js";
import type { RetentionResult } from "./retention.js";
import { median } from "./stats.js";
import type { StorageResult } from "./storage.js";
import type { TrafficResult } from "./traffic.js";

export interface BenchReport {
  date: string;
  quick: boolean;
  runs: number;
  machine: { cpus: number; model: string; memoryGb: number; node: string };
  workers: number;
  durationS: number;
  traffic: TrafficResult[];
  storage: StorageResult[];
  /** the PostgreSQL section: why it did not run (null when it did), and the catch-up runs */
  postgres: { skipped: string | null; catchup: CatchupResult[] };
  /** the files section (uploads, thumbnails); absent in reports from before it existed */
  files?: FilesResult[];
  /** the retention scenario (only when named in --only) */
  retention?: RetentionResult[];
}

type Pick = (r: TrafficResult) => number;

function fmt(v: number, digits = 0): string {
  if (!Number.isFinite(v)) return "—";
  return v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Median server and relay figures and the median per-run ratio. */
function compare(results: TrafficResult[], scenario: string, pick: Pick) {
  const of = (kind: string) => results.filter((r) => r.scenario === scenario && r.target === kind);
  const server = of("server");
  const relay = of("relay");
  const ratios = server.map((s) => {
    const r = relay.find((x) => x.run === s.run);
    return r ? pick(s) / pick(r) : Number.NaN;
  });
  return {
    server: median(server.map(pick)),
    relay: median(relay.map(pick)),
    ratio: median(ratios),
    runs: server.length,
  };
}

export function renderMarkdown(report: BenchReport): string {
  const t = report.traffic;
  const rows: string[] = [];
  const row = (
    scenario: string,
    figure: string,
    server: string,
    relay: string,
    ratio: string,
    target: string,
    met: string,
  ) => rows.push(`| ${scenario} | ${figure} | ${server} | ${relay} | ${ratio} | ${target} | ${met} |`);
  const verdict = (ok: boolean | null) => (ok === null ? "" : ok ? "yes" : "**no**");
  const traffic = (
    scenario: string,
    figure: string,
    pick: Pick,
    digits: number,
    target?: { text: string; ok: (ratio: number, server: number) => boolean },
  ) => {
    const c = compare(t, scenario, pick);
    if (c.runs === 0) return;
    row(
      scenario,
      figure,
      fmt(c.server, digits),
      fmt(c.relay, digits),
      `${fmt(c.ratio, 2)}×`,
      target?.text ?? "",
      verdict(target ? target.ok(c.ratio, c.server) : null),
    );
  };

  traffic("S1", "acknowledged messages/s", (r) => r.acksPerS, 0, { text: "≥ 0.85×", ok: (x) => x >= 0.85 });
  traffic("S1", "deliveries/s", (r) => r.deliveriesPerS, 0);
  // S1m and S1i beside S1 on the same store (the relay column holds S1's figure): what mentions and
  // images cost, in throughput and in the node's CPU per acknowledged message (steadier on a busy machine)
  const perAck: Pick = (r) => (r.acksPerS > 0 ? (1000 * r.targetCores) / r.acksPerS : Number.NaN);
  const variants = [
    { scenario: "S1m", what: "20 % mentioning", target: 0.9 },
    { scenario: "S1i", what: "10 % carrying an image uploaded first", target: 0.8 },
  ];
  for (const [variant, [kind, store]] of variants.flatMap((v) =>
    (
      [
        ["server", "SQLite"],
        ["postgres", "PostgreSQL"],
      ] as const
    ).map((k) => [v, k] as const),
  )) {
    const of = (scenario: string) => t.filter((r) => r.scenario === scenario && r.target === kind);
    const withVariant = of(variant.scenario);
    if (withVariant.length === 0) continue;
    const plain = of("S1");
    const versus = (pick: Pick) =>
      median(
        withVariant.map((m) => {
          const p = plain.find((x) => x.run === m.run);
          return p ? pick(m) / pick(p) : Number.NaN;
        }),
      );
    const ratio = versus((r) => r.acksPerS);
    row(
      variant.scenario,
      `acknowledged messages/s with ${variant.what}, ${store} (relay column: S1 on ${store})`,
      fmt(median(withVariant.map((r) => r.acksPerS))),
      fmt(median(plain.map((r) => r.acksPerS))),
      `${fmt(ratio, 2)}×`,
      `≥ ${variant.target}× of S1`,
      verdict(Number.isFinite(ratio) ? ratio >= variant.target : null),
    );
    row(
      variant.scenario,
      `node CPU ms per acknowledged message, ${store} (relay column: S1 on ${store})`,
      fmt(median(withVariant.map(perAck)), 3),
      fmt(median(plain.map(perAck)), 3),
      `${fmt(versus(perAck), 2)}×`,
      "",
      "",
    );
  }
  traffic("S2", "deliveries/s", (r) => r.deliveriesPerS, 0, { text: "≥ 0.9×", ok: (x) => x >= 0.9 });
  traffic("S2", "acknowledged messages/s", (r) => r.acksPerS, 0);
  traffic("S3", "acknowledged messages/s (1,000 offered)", (r) => r.acksPerS, 0);
  for (const p of ["p50", "p95", "p99", "max"] as const)
    traffic("S3", `ack latency ${p} (ms)`, (r) => r.ackLatency[p], 2);
  for (const p of ["p50", "p95", "p99", "max"] as const) {
    const target = p === "p99" ? { text: "≤ 1.5×", ok: (x: number) => x <= 1.5 } : undefined;
    traffic("S3", `delivery latency ${p} (ms)`, (r) => r.deliveryLatency[p], 2, target);
  }
  const capacity = t.find((r) => r.scenario === "capacity");
  if (capacity) {
    const conns = capacity.connections;
    traffic(
      "capacity",
      `RSS per idle connection (KB, ${fmt(conns)} connections)`,
      (r) => r.rssPerConnectionKb,
      1,
      { text: "≤ 20 KB", ok: (_, s) => s <= 20 },
    );
    traffic("capacity", "connections/s (handshake to `session`)", (r) => r.connectPerS, 0);
  }

  // the first size only: --only=storage,storage-5m renders the sizes side by side in the curves
  const s = report.storage.filter((r) => r.messages === report.storage[0]?.messages);
  if (s.length > 0) {
    const m = (pick: (r: StorageResult) => number) => median(s.map(pick));
    const label = `${fmt(s[0]!.messages)}-message db`;
    const startup = m((r) => r.startupMs);
    row(
      "storage",
      `start-up on the ${label} (ms, spawn to /health)`,
      fmt(startup),
      fmt(m((r) => r.relayStartupMs)),
      `${fmt(
        m((r) => r.startupMs / r.relayStartupMs),
        2,
      )}×`,
      "< 1,000 ms",
      verdict(startup < 1000),
    );
    const lat = (
      figure: string,
      pick: (r: StorageResult) => { p50: number; p99: number },
      limit: number,
      target: string,
    ) => {
      const p99 = m((r) => pick(r).p99);
      row(
        "storage",
        figure,
        `${fmt(
          m((r) => pick(r).p50),
          2,
        )} / ${fmt(p99, 2)}`,
        "—",
        "",
        target,
        verdict(p99 < limit),
      );
    };
    lat("history page p50 / p99 (ms), socket round trip", (r) => r.history.socket, 1, "p99 < 1 ms");
    lat("history page p50 / p99 (ms), store call", (r) => r.history.direct, 1, "p99 < 1 ms");
    lat("search p50 / p99 (ms), socket round trip", (r) => r.search.socket, 20, "p99 < 20 ms");
    lat("search p50 / p99 (ms), store call", (r) => r.search.direct, 20, "p99 < 20 ms");
    for (const kind of Object.keys(s[0]!.search.byClass)) {
      lat(`… search “${kind}” p50 / p99 (ms), store call`, (r) => r.search.byClass[kind]!.direct, 20, "");
    }
  }

  const checks: string[] = [];
  for (const scenario of [...new Set(t.map((r) => r.scenario))]) {
    for (const kind of ["server", "relay"] as const) {
      const list = t.filter((r) => r.scenario === scenario && r.target === kind);
      if (list.length === 0) continue;
      const sum = (f: Pick) => list.reduce((a, r) => a + f(r), 0);
      // an idle scenario has no measured window: no CPU figures, nothing saturates
      const idle = list.every((r) => r.acked === 0);
      const cores = (f: Pick) => (idle ? "—" : fmt(median(list.map(f)), 2));
      const verdicts = idle ? "—" : list.map((r) => r.saturated).join(", ");
      checks.push(
        `| ${scenario} | ${kind === "server" ? "TimeWise Chat" : "bare relay"} | ${fmt(sum((r) => r.acked))} | ${fmt(sum((r) => r.deliveries))} | ${sum((r) => r.lost)} | ${sum((r) => r.duplicated)} | ${sum((r) => r.reordered)} | ${sum((r) => r.unexpected)} | ${sum((r) => r.failedAcks + r.connectFailed)} | ${cores((r) => r.targetCores)} | ${cores((r) => r.generatorCores)} | ${cores((r) => r.machineCores)} | ${verdicts} |`,
      );
    }
  }

  const head = `Measured ${report.date.slice(0, 16).replace("T", " ")} UTC on ${report.machine.cpus} × ${report.machine.model}, ${report.machine.memoryGb} GB, Node ${report.machine.node}; ${report.runs} interleaved run(s) per scenario${report.quick ? " (**quick mode**: short runs, small database; not comparable)" : ""}; ${report.workers} load-generator processes; ${fmt(report.durationS)} s in all. Figures are medians over the runs; the ratio is the median of the per-run ratios (server ÷ relay, each pair run back to back).`;
  return [
    head,
    "",
    "| scenario | figure | TimeWise Chat | bare relay | ratio | target | met |",
    "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ...rows,
    "",
    `Checks over all runs (every acknowledged message must reach every member's socket exactly once), and where the CPU went during the measured window: one Node.js process saturates at 1 core; "machine" counts every process, the benchmark's and anyone else's, out of ${report.machine.cpus} cores:`,
    "",
    "| scenario | target | acked | deliveries | lost | duplicated | reordered | unexpected | failed | target cores | generator cores | machine cores | saturated (per run) |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...checks,
    "",
  ].join("\n");
}

/**
 * Replaces the block between `<!-- bench:<name>:start -->` and `…:end -->` in docs/performance.md
 * (or appends it): `table` is the main table, `postgres` the PostgreSQL section's.
 */
export function updateDocs(path: string, markdown: string, name = "table"): void {
  const START = `<!-- bench:${name}:start -->`;
  const END = `<!-- bench:${name}:end -->`;
  const block = `${START}\n${markdown}\n${END}`;
  const current = existsSync(path) ? readFileSync(path, "utf8") : "# Performance\n";
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  const next =
    start >= 0 && end > start
      ? current.slice(0, start) + block + current.slice(end + END.length)
      : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(path, next);
}
