/**
 * How cost grows with work: S3 at each offered rate (beside the relay, same run), idle
 * connections (memory and CPU), and history and search by database size. One small Markdown
 * table per curve, medians over the runs.
 */
import type { BenchReport } from "./report.js";
import { median } from "./stats.js";
import type { TrafficResult } from "./traffic.js";

function fmt(v: number, digits = 0): string {
  if (!Number.isFinite(v)) return "—";
  return v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const RATES: Record<string, number> = { "S3-250": 250, S3: 1000, "S3-2000": 2000 };

/** The median of `pick` over the runs of one scenario and target. */
function med(t: TrafficResult[], scenario: string, target: string, pick: (r: TrafficResult) => number) {
  return median(t.filter((r) => r.scenario === scenario && r.target === target).map(pick));
}

/** The median of the per-run ratios server ÷ relay (each pair ran back to back). */
function ratio(t: TrafficResult[], scenario: string, pick: (r: TrafficResult) => number): number {
  const of = (kind: string) => t.filter((r) => r.scenario === scenario && r.target === kind);
  const relay = new Map(of("relay").map((r) => [r.run, pick(r)]));
  return median(of("server").map((r) => pick(r) / (relay.get(r.run) ?? Number.NaN)));
}

export function renderCurves(report: BenchReport): string {
  const t = report.traffic;
  const out: string[] = [];
  const rates = Object.keys(RATES).filter((s) => t.some((r) => r.scenario === s));
  if (rates.length > 0) {
    out.push(
      "S3 (500 clients in 50 rooms of 10) by offered rate, TimeWise Chat beside the bare relay in the same run:",
      "",
      "| messages/s offered | acknowledged/s | delivery p50 (ms) server / relay | delivery p99 (ms) server / relay | p99 ratio | server cores | relay cores | server CPU µs per message | relay CPU µs per message |",
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    );
    for (const s of rates) {
      const us = (target: string) =>
        med(t, s, target, (r) => (r.acksPerS > 0 ? (r.targetCores / r.acksPerS) * 1e6 : Number.NaN));
      out.push(
        `| ${fmt(RATES[s]!)} | ${fmt(med(t, s, "server", (r) => r.acksPerS))} | ${fmt(
          med(t, s, "server", (r) => r.deliveryLatency.p50),
          2,
        )} / ${fmt(
          med(t, s, "relay", (r) => r.deliveryLatency.p50),
          2,
        )} | ${fmt(
          med(t, s, "server", (r) => r.deliveryLatency.p99),
          2,
        )} / ${fmt(
          med(t, s, "relay", (r) => r.deliveryLatency.p99),
          2,
        )} | ${fmt(
          ratio(t, s, (r) => r.deliveryLatency.p99),
          2,
        )}× | ${fmt(
          med(t, s, "server", (r) => r.targetCores),
          2,
        )} | ${fmt(
          med(t, s, "relay", (r) => r.targetCores),
          2,
        )} | ${fmt(us("server"))} | ${fmt(us("relay"))} |`,
      );
    }
    out.push("");
  }
  const idle = [...new Set(t.filter((r) => r.scenario.startsWith("capacity")).map((r) => r.scenario))];
  if (idle.length > 0) {
    out.push(
      "Idle authenticated connections (rooms of 10), TimeWise Chat beside the bare relay:",
      "",
      "| connections | target | RSS growth (MB) | RSS per connection (KB) | connections/s | CPU s per 1,000 connections (connecting) | cores while idle |",
      "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    );
    for (const s of idle) {
      for (const target of ["server", "relay"]) {
        if (!t.some((r) => r.scenario === s && r.target === target)) continue;
        const m = (pick: (r: TrafficResult) => number, digits = 0) => fmt(med(t, s, target, pick), digits);
        out.push(
          `| ${m((r) => r.connections)} | ${target === "server" ? "TimeWise Chat" : "bare relay"} | ${m((r) => (r.rssAfterKb - r.rssBeforeKb) / 1024)} | ${m((r) => r.rssPerConnectionKb, 1)} | ${m((r) => r.connectPerS)} | ${m((r) => r.connectCpuSPer1000, 2)} | ${m((r) => r.idleCores, 3)} |`,
        );
      }
    }
    out.push("");
  }
  const sizes = [...new Set(report.storage.map((r) => r.messages))].sort((a, b) => a - b);
  if (sizes.length > 0) {
    out.push(
      "History and search by database size (store call in-process, and through a socket):",
      "",
      "| messages | database (MB) | start-up (ms) | history p50 / p99 (ms), store | history p50 / p99 (ms), socket | search p50 / p99 (ms), store | search p50 / p99 (ms), socket | common-word search p99 (ms), store |",
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    );
    for (const size of sizes) {
      const list = report.storage.filter((r) => r.messages === size);
      const m = (pick: (r: (typeof list)[number]) => number, digits = 2) =>
        fmt(median(list.map(pick)), digits);
      out.push(
        `| ${fmt(size)} | ${m((r) => r.dbMb, 0)} | ${m((r) => r.startupMs, 0)} | ${m((r) => r.history.direct.p50)} / ${m((r) => r.history.direct.p99)} | ${m((r) => r.history.socket.p50)} / ${m((r) => r.history.socket.p99)} | ${m((r) => r.search.direct.p50)} / ${m((r) => r.search.direct.p99)} | ${m((r) => r.search.socket.p50)} / ${m((r) => r.search.socket.p99)} | ${m((r) => r.search.byClass.common?.direct.p99 ?? Number.NaN)} |`,
      );
    }
    out.push("");
  }
  const head = `Measured ${report.date.slice(0, 16).replace("T", " ")} UTC on ${report.machine.cpus} × ${report.machine.model}, Node ${report.machine.node}; medians of ${report.runs} run(s). A shared 2-core machine: other engineers' tests ran beside these runs, so figures move from run to run; read the ratios.`;
  return `${head}\n\n${out.join("\n")}`.trimEnd();
}
