/**
 * The targets of issues 7, 12, 15, 16 and 18 against the figures of the last run (bench/results/*.json): prints one
 * line per target, met or missed and by how much, and writes bench/results/summary.json.
 * Targets are stated here once and never loosened; a miss is reported, not hidden.
 *
 *   npx tsx bench/report.ts
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type RaceFigures, type RaceSystem, raceChecks } from "./lib/race-targets.js";

const RESULTS = path.resolve(import.meta.dirname, "results");
const read = <T>(name: string): T | null => (existsSync(path.join(RESULTS, name)) ? (JSON.parse(readFileSync(path.join(RESULTS, name), "utf8")) as T) : null);

interface Figure {
  workload: string;
  ours: { median: number; p99: number };
  baseline: { median: number; p99: number };
  ratio: number;
  memory: Record<"ours" | "baseline", { workerd_peak_mb: number; device_peak_mb: number; device_stall_max_ms?: number }> | null;
}
const sync = read<{ quick: boolean; figures: Figure[] }>("sync.json");
const writes = read<{ entities_in_store: number; p50_ms: number; p99_ms: number }>("local-writes.json");
const boot = read<{ results: Array<{ entities: number; workerd_rss_mb: { peak_during_export: number }; bootstrap: { peak_rss_mb: number; event_loop_max_stall_ms: number } }> }>("bootstrap.json");
const exportMemory = read<{ workerd_rss_peak_mb: number; snapshot_uncompressed_mb: number }>("snapshot-memory.json");
const attack = read<{
  amplification: number;
  attack_bytes_sent_per_push: number;
  attack_bytes_received_per_push: number;
  honest_push_ms_idle: { p99: number };
  honest_push_ms_under_attack: { p99: number };
  workerd_peak_mb: number;
}>("attack.json");

interface Check {
  target: string;
  measured: string;
  met: boolean | null;
  /** How far off, when missed (e.g. "4.1× the limit"). */
  miss?: string;
}
const checks: Check[] = [];
const check = (target: string, value: number | undefined, limit: number, unit: string, what: string) => {
  if (value === undefined || Number.isNaN(value)) return checks.push({ target, measured: "not measured in this run", met: null });
  const met = value <= limit;
  checks.push({ target, measured: `${value}${unit} (${what})`, met, ...(met ? {} : { miss: `missed: ${value}${unit} against ${limit}${unit}, ${(value / limit).toFixed(1)} times the target` }) });
};

const first = (prefix: string) => sync?.figures.find((f) => f.workload.startsWith(prefix));
for (const prefix of ["push→durable", "live propagation", "cold catch-up"]) {
  const f = first(prefix);
  check(`${prefix}: within 1.5× the baseline`, f?.ratio, 1.5, "×", f ? `${f.workload}: ${f.ours.median} ms vs ${f.baseline.median} ms` : "");
}
const single = first("single write");
check("single write A → B while idle: p99 under 20 ms", single?.ours.p99, 20, " ms", "StudioVault, all repetitions");
check(`local write p99 under 1 ms (${writes?.entities_in_store.toLocaleString("en-US") ?? "?"} entities in the store)`, writes?.p99_ms, 1, " ms", `p50 ${writes?.p50_ms} ms`);
const pulls = sync?.figures.filter((f) => /catch-up/.test(f.workload)) ?? [];
const worstStall = pulls.reduce<{ ms: number; where: string } | undefined>((w, f) => {
  const ms = f.memory?.ours.device_stall_max_ms ?? 0;
  return !w || ms > w.ms ? { ms, where: f.workload } : w;
}, undefined);
check("event-loop stall while applying a big pull under 50 ms", worstStall?.ms, 50, " ms", `worst: ${worstStall?.where}`);
const workerdPeaks = [
  ...(sync?.figures.map((f) => ({ where: f.workload, mb: f.memory?.ours.workerd_peak_mb ?? 0 })) ?? []),
  ...(boot?.results.map((r) => ({ where: `snapshot export of ${r.entities.toLocaleString("en-US")} entities`, mb: r.workerd_rss_mb.peak_during_export })) ?? []),
  ...(exportMemory ? [{ where: `export of ${exportMemory.snapshot_uncompressed_mb} MB of entities`, mb: exportMemory.workerd_rss_peak_mb }] : []),
];
// Issue 12: a small hostile push cannot make the branch answer with megabytes or stall others.
check("verdict bytes per hostile push within 4× the push (no entity amplification)", attack?.amplification, 4, "×", attack ? `${attack.attack_bytes_received_per_push} bytes back per ${attack.attack_bytes_sent_per_push}-byte push` : "");
check(
  "honest push p99 under attack within 5× its idle p99",
  attack ? Math.round((attack.honest_push_ms_under_attack.p99 / Math.max(1, attack.honest_push_ms_idle.p99)) * 10) / 10 : undefined,
  5,
  "×",
  attack ? `${attack.honest_push_ms_idle.p99} ms idle → ${attack.honest_push_ms_under_attack.p99} ms under attack` : "",
);
if (attack) workerdPeaks.push({ where: "verdict-amplification attack", mb: attack.workerd_peak_mb });
// Issue 15: the dashboard's reads on a branch of 100,000 commits and 5,000 rejections.
const dashboard = read<{ commits: number; workerd_rss_mb: { peak_during_seeding: number; peak_during_reads: number } }>("dashboard.json");
if (dashboard) {
  workerdPeaks.push({ where: `dashboard reads, ${dashboard.commits.toLocaleString("en-US")} commits`, mb: dashboard.workerd_rss_mb.peak_during_reads });
  workerdPeaks.push({ where: `dashboard seeding over HTTP, ${dashboard.commits.toLocaleString("en-US")} commits`, mb: dashboard.workerd_rss_mb.peak_during_seeding });
}
// Issue 16: the race, side by side with the bare baseline and the peers (bench/race.ts).
const race = read<{ quick: boolean; commit: string | null; figures: Partial<Record<RaceSystem, RaceFigures>> }>("race.json");
if (race) {
  for (const system of ["protocol", "app"] as const) {
    const f = race.figures[system];
    if (f) workerdPeaks.push({ where: `race (${system})`, mb: f.workerd_peak_mb });
  }
  checks.push(...raceChecks(race.figures).map((c) => (race.quick && c.met !== null ? { ...c, measured: `${c.measured} [--quick]` } : c)));
}
// Issue 18: bytes that grow with the change (bench/deltas.ts): v9's deltas against v8's whole entities, in the same run.
type Bytes = { text: number; wire: number };
const deltas = read<{ photos: number; results: Record<string, { live?: Bytes; pulled_later?: Bytes }> }>("deltas.json");
for (const [who, key] of [["a live device", "live"], ["a device pulling later", "pulled_later"]] as const) {
  for (const unit of ["text", "wire"] as const) {
    const before = deltas?.results.selection_v8?.[key]?.[unit];
    const after = deltas?.results.selection_v9?.[key]?.[unit];
    const percent = before && after !== undefined ? Math.round((after / before) * 10_000) / 100 : undefined;
    check(
      `one photo edited in a ${deltas?.photos.toLocaleString("en-US") ?? "20,000"}-photo project, as ${who} receives it (${unit}): at least 100× fewer bytes than before deltas`,
      percent,
      1,
      "% of before",
      before && after !== undefined ? `${after.toLocaleString("en-US")} bytes vs ${before.toLocaleString("en-US")}, ${Math.round(before / Math.max(1, after))}×` : "",
    );
  }
}
const worstWorkerd = workerdPeaks.reduce<{ where: string; mb: number } | undefined>((w, p) => (!w || p.mb > w.mb ? p : w), undefined);
check("workerd peak RSS under 200 MB in every workload", worstWorkerd?.mb, 200, " MB", `worst: ${worstWorkerd?.where}`);
const million = boot?.results.find((r) => r.entities === 1_000_000);
check("desktop process under 300 MB for the 1,000,000-entity bootstrap", million?.bootstrap.peak_rss_mb, 300, " MB", million ? `stall ${million.bootstrap.event_loop_max_stall_ms} ms` : "");

console.log(`\ntargets${sync?.quick || race?.quick ? " (a --quick run: reduced sizes, figures are indicative only)" : ""}:`);
for (const c of checks) console.log(`  ${c.met === null ? "—  " : c.met ? "met " : "MISS"}  ${c.target}: ${c.measured}${c.miss ? `; ${c.miss}` : ""}`);
writeFileSync(path.join(RESULTS, "summary.json"), JSON.stringify({ quick: sync?.quick ?? race?.quick ?? null, checks, at: new Date().toISOString() }, null, 2));
console.log("figures: bench/results/*.json; summary: bench/results/summary.json");
