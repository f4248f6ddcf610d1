/**
 * Summarizes a V8 `.cpuprofile` (from `BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" npm run bench …`):
 * the functions with the most self time, and the most inclusive time, as shares of all samples.
 * Usage: node --import tsx bench/profile.ts FILE.cpuprofile [rows] [--from=S] [--to=S] [--timeline]
 * --from/--to keep only the samples between those seconds after the profile started (the measured
 * window, not start-up and set-up); --timeline prints the busy share of each second, to find it.
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const positional = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const optionOf = (name: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? undefined;
const [file, rowsArg] = positional;
const fromS = Number(optionOf("from") ?? 0);
const toS = Number(optionOf("to") ?? Number.POSITIVE_INFINITY);
if (!file) {
  process.stderr.write("usage: bench/profile.ts FILE.cpuprofile [rows]\n");
  process.exit(2);
}
const rows = Number(rowsArg ?? 25);
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const name = (n: ProfileNode) => {
  const url = n.callFrame.url.replace(/^.*\/(node_modules\/|src\/|bench\/)/, "$1");
  return `${n.callFrame.functionName || "(anonymous)"} ${url}:${n.callFrame.lineNumber + 1}`;
};

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
let clock = 0;
/** per second since the start: [busy µs, all µs] */
const timeline: [number, number][] = [];
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  clock += dt;
  const second = Math.floor(clock / 1e6);
  timeline[second] ??= [0, 0];
  const slot = timeline[second];
  slot[1] += dt;
  if (byId.get(id)?.callFrame.functionName !== "(idle)") slot[0] += dt;
  if (clock < fromS * 1e6 || clock > toS * 1e6) return;
  total += dt;
  const node = byId.get(id)!;
  self.set(name(node), (self.get(name(node)) ?? 0) + dt);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const key = name(byId.get(at)!);
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
  }
});

const show = (title: string, map: Map<string, number>) => {
  process.stdout.write(`\n${title} (of ${(total / 1e6).toFixed(1)} s sampled)\n`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
    process.stdout.write(`${((100 * us) / total).toFixed(1).padStart(6)}%  ${key}\n`);
  }
};
if (process.argv.includes("--timeline")) {
  process.stdout.write("second  busy\n");
  timeline.forEach((slot, s) => {
    if (slot) process.stdout.write(`${String(s).padStart(6)}  ${((100 * slot[0]) / slot[1]).toFixed(0)} %\n`);
  });
}
show("self time", self);
show("inclusive time", inclusive);
