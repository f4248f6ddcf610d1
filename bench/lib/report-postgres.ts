/**
 * The PostgreSQL section of the report: one node on the PostgreSQL chat store beside the SQLite
 * node and the relay of the same invocation, two nodes against one on PostgreSQL and Redis, and
 * the catch-up after a node's death. Ratios are medians of per-run ratios (each pair ran back to
 * back), as in the main table.
 */
import type { BenchReport } from "./report.js";
import { median } from "./stats.js";
import type { TargetKind, TrafficResult } from "./traffic.js";

type Pick = (r: TrafficResult) => number;

function fmt(v: number, digits = 0): string {
  if (!Number.isFinite(v)) return "—";
  return v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Median figures of `kind` and `base` in `scenario`, and the median of their per-run ratios. */
function pair(t: TrafficResult[], scenario: string, kind: TargetKind, base: TargetKind, pick: Pick) {
  const of = (k: TargetKind) => t.filter((r) => r.scenario === scenario && r.target === k);
  const mine = of(kind);
  const theirs = of(base);
  const ratios = mine.map((m) => {
    const b = theirs.find((x) => x.run === m.run);
    return b ? pick(m) / pick(b) : Number.NaN;
  });
  return {
    mine: median(mine.map(pick)),
    theirs: median(theirs.map(pick)),
    ratio: median(ratios),
    runs: mine.length,
  };
}

const verdict = (ok: boolean) => (ok ? "yes" : "**no**");
/** CPU milliseconds of all nodes together per acknowledged message, over the measured window. */
const cpuMsPerAck: Pick = (r) => (r.acksPerS > 0 ? (1000 * r.targetCores) / r.acksPerS : Number.NaN);

const NAMES: Record<TargetKind, string> = {
  relay: "bare relay",
  server: "one node, SQLite",
  postgres: "one node, PostgreSQL",
  "pg-1node": "one node, PostgreSQL + Redis",
  "pg-2nodes": "two nodes, PostgreSQL + Redis",
};

export function renderPostgres(report: BenchReport): string | null {
  const t = report.traffic;
  const pg = report.postgres;
  if (pg.skipped !== null) return `The PostgreSQL section did not run: ${pg.skipped}.\n`;
  const rows: string[] = [];
  const row = (
    what: string,
    figure: string,
    c: { mine: number; theirs: number; ratio: number; runs: number },
    against: string,
    digits: number,
    target = "",
    ok?: (ratio: number) => boolean,
  ) => {
    if (c.runs === 0) return;
    rows.push(
      `| ${what} | ${figure} | ${fmt(c.mine, digits)} | ${against} | ${fmt(c.theirs, digits)} | ${fmt(c.ratio, 2)}× | ${target} | ${ok ? verdict(ok(c.ratio)) : ""} |`,
    );
  };
  const acks: Pick = (r) => r.acksPerS;
  row(
    "S1, one node on PostgreSQL",
    "acknowledged messages/s",
    pair(t, "S1", "postgres", "relay", acks),
    "bare relay",
    0,
    "≥ 0.85×",
    (x) => x >= 0.85,
  );
  row(
    "S1, one node on PostgreSQL",
    "acknowledged messages/s",
    pair(t, "S1", "postgres", "server", acks),
    "SQLite node",
    0,
  );
  for (const p of ["p50", "p99"] as const) {
    const target = p === "p99" ? "≤ 2×" : "";
    row(
      "S3, one node on PostgreSQL",
      `delivery latency ${p} (ms)`,
      pair(t, "S3", "postgres", "server", (r) => r.deliveryLatency[p]),
      "SQLite node",
      2,
      target,
      p === "p99" ? (x) => x <= 2 : undefined,
    );
  }
  row(
    "S3, one node on PostgreSQL",
    "ack latency p99 (ms)",
    pair(t, "S3", "postgres", "server", (r) => r.ackLatency.p99),
    "SQLite node",
    2,
  );
  row(
    "S1, two nodes",
    "acknowledged messages/s, both nodes",
    pair(t, "S1", "pg-2nodes", "pg-1node", acks),
    "one node",
    0,
    "≥ 0.9×",
    (x) => x >= 0.9,
  );
  row(
    "S1, two nodes",
    "CPU ms per acknowledged message, all nodes",
    pair(t, "S1", "pg-2nodes", "pg-1node", cpuMsPerAck),
    "one node",
    3,
    "≤ 1.15×",
    (x) => x <= 1.15,
  );
  row(
    "S1, two nodes",
    "CPU cores, all nodes",
    pair(t, "S1", "pg-2nodes", "pg-1node", (r) => r.targetCores),
    "one node",
    2,
  );

  const lines: string[] = [
    "| setup | figure | measured | compared with | its figure | ratio | target | met |",
    "| --- | --- | ---: | --- | ---: | ---: | --- | --- |",
    ...rows,
    "",
  ];

  const catchup = pg.catchup;
  if (catchup.length > 0) {
    const m = (f: (r: (typeof catchup)[number]) => number) => median(catchup.map(f));
    const sum = (f: (r: (typeof catchup)[number]) => number) => catchup.reduce((a, r) => a + f(r), 0);
    const c0 = catchup[0]!;
    lines.push(
      `Catch-up after a node's death (${catchup.length} run(s), medians): ${fmt(c0.clients)} SDK clients through a TCP balancer onto two nodes (${c0.perNode.join(" + ")}), ${fmt(c0.offeredPerS)} messages/s offered for ${fmt(c0.sendingS)} s, SIGKILL of one node after ${fmt(c0.killAfterS)} s:`,
      "",
      "| figure | value |",
      "| --- | ---: |",
      `| clients cut off by the kill | ${fmt(m((r) => r.cutOff))} |`,
      `| kill → \`session\` on the other node, p50 / max (ms) | ${fmt(m((r) => r.reconnect.p50))} / ${fmt(m((r) => r.reconnect.max))} |`,
      `| connection attempts until back, p50 / max | ${fmt(m((r) => r.attempts.p50))} / ${fmt(m((r) => r.attempts.max))} |`,
      `| kill → catch-up done (\`synced\`), p50 / max (ms) | ${fmt(m((r) => r.synced.p50))} / ${fmt(m((r) => r.synced.max))} |`,
      `| **kill → every client holds every message it missed** (acknowledged before it was back), p50 / max (ms) | ${fmt(m((r) => r.caughtUp.p50))} / **${fmt(m((r) => r.caughtUp.max))}** |`,
      `| acknowledged messages, all runs | ${fmt(sum((r) => r.acked))} |`,
      `| (client, acknowledged message) pairs checked, all runs | ${fmt(sum((r) => r.checked))} |`,
      `| acknowledged but missing at a member, all runs | ${fmt(sum((r) => r.lost))} |`,
      `| stored twice, all runs | ${fmt(sum((r) => r.duplicated))} |`,
      `| clients that never caught up, all runs | ${fmt(sum((r) => r.notCaughtUp))} |`,
      `| sends refused / never acknowledged, all runs | ${fmt(sum((r) => r.failed))} / ${fmt(sum((r) => r.unacked))} |`,
      "",
    );
  }

  const checks: string[] = [];
  for (const scenario of ["S1", "S3"]) {
    for (const kind of ["postgres", "pg-1node", "pg-2nodes"] as const) {
      const list = t.filter((r) => r.scenario === scenario && r.target === kind);
      if (list.length === 0) continue;
      const total = (f: Pick) => list.reduce((a, r) => a + f(r), 0);
      const nodes = list[0]!.nodeCores.map((_, i) =>
        fmt(median(list.map((r) => r.nodeCores[i] ?? Number.NaN)), 2),
      );
      checks.push(
        `| ${scenario} | ${NAMES[kind]} | ${fmt(total((r) => r.acked))} | ${fmt(total((r) => r.deliveries))} | ${total((r) => r.lost)}${list.some((r) => r.unacked > 0) ? ` (${total((r) => r.unacked)} never acked)` : ""} | ${total((r) => r.duplicated)} | ${total((r) => r.reordered)} | ${total((r) => r.unexpected)} | ${total((r) => r.failedAcks + r.connectFailed)} | ${nodes.join(" + ")} | ${fmt(median(list.map((r) => r.generatorCores)), 2)} | ${fmt(median(list.map((r) => r.machineCores)), 2)} | ${list.map((r) => r.saturated).join(", ")} |`,
      );
    }
  }
  if (checks.length > 0)
    lines.push(
      'Checks over all runs, and where the CPU went during the measured window (node by node; PostgreSQL and Redis themselves are in "machine"):',
      "",
      "| scenario | setup | acked | deliveries | lost | duplicated | reordered | unexpected | failed | node cores | generator cores | machine cores | saturated (per run) |",
      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
      ...checks,
      "",
    );
  const activity: string[] = [];
  for (const scenario of ["S1", "S3"]) {
    for (const kind of ["postgres", "pg-1node", "pg-2nodes"] as const) {
      const list = t.filter((r) => r.scenario === scenario && r.target === kind && r.pgActivity !== null);
      if (list.length === 0) continue;
      const mean = new Map<string, number>();
      for (const r of list)
        for (const [state, share] of Object.entries(r.pgActivity!))
          mean.set(state, (mean.get(state) ?? 0) + share / list.length);
      const top = [...mean]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([state, share]) => `${state} ${fmt(100 * share)} %`);
      activity.push(`| ${scenario} | ${NAMES[kind]} | ${top.join("; ")} |`);
    }
  }
  if (activity.length > 0)
    lines.push(
      "What the nodes' PostgreSQL connections were doing during the measured window (pg_stat_activity every 50 ms, the five most common states; `active: IO/WALSync` is the commit's disk flush, `Lock/transactionid` waiting for another transaction's room lock, `Lock/object` waiting for the database-wide lock a commit after `NOTIFY` takes, `idle in transaction: Client/ClientRead` waiting for the node's next query):",
      "",
      "| scenario | setup | share of connection samples |",
      "| --- | --- | --- |",
      ...activity,
      "",
    );
  return lines.join("\n");
}
