/**
 * Issue 16's race, side by side with peers in the same run:
 *
 *   npx tsx bench/race.ts [--quick] [--only bare,app,…] [--n 10000] [--reps 3]
 *
 * Device B is live; device A writes n records of about 200 bytes (bench/lib/payload.ts) as fast as
 * its system lets it, in batches of 500 where it has batches; then a cold device C joins. Measured
 * from A's first write: (1) A's writes durable on the server, (2) B has all of them; and (3) C has
 * all of them, from C's start. Also workerd's CPU seconds over the whole workload (user + system
 * time of its processes, from /proc) and its peak RSS (sampled every 100 ms), both until workerd
 * idles after C: what the workload set off (the snapshot export due at 10,000 commits, which waits
 * for the branch to be quiet) counts. And each device's CPU time during its part (user + system of its
 * process, every thread): A from its first write to durable, B from A's first write to having all,
 * C from its start to having all. Their sum with workerd's says how much of the two cores a system
 * kept busy, that is, whether it waited or computed.
 *
 * Systems (bench/lib/race-targets.ts RACE_SYSTEMS; clients in bench/clients/race/, rooms in
 * bench/baseline/): the bare baseline DO; the same with every device also keeping the records in a
 * local SQLite file; Yjs on partyserver; TinyBase's Durable Object synchronizer; StudioVault with a
 * bare protocol client; StudioVault with the app's LocalStore + SyncEngine. Every repetition of
 * every system gets a fresh workerd (wrangler's unstable_startWorker with bench/wrangler.bench.toml)
 * and fresh device processes on 127.0.0.1; repetitions alternate the systems so that a noisy
 * neighbour hurts all alike. Figures are medians over the repetitions. Results: printed, and
 * bench/results/race.json; the targets: bench/report.ts.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import path from "node:path";
import { type LocalServer, startServer, tokenFor } from "../test/support/server.js";
import { DeviceProcess } from "./lib/child.js";
import { busyShare, RACE_LABELS, RACE_SYSTEMS, type RaceCpu, type RaceFigures, type RaceSystem } from "./lib/race-targets.js";
import { median, round } from "./lib/stats.js";
import { EXPORT_QUIET_MS } from "../durable/core/snapshot-schedule.js";
import { sampleWorkerdPeak, untilWorkerdIdles, workerdCpuSeconds } from "./workerd-memory.js";

const quick = process.argv.includes("--quick");
const arg = (name: string) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : undefined);
/** `--n N` and `--reps R` override the plan (for working on one system); the suite uses the plan. */
const PLAN = { ...(quick ? { n: 2_000, reps: 1 } : { n: 10_000, reps: 3 }), batch: 500, ...(arg("--n") ? { n: arg("--n")! } : {}), ...(arg("--reps") ? { reps: arg("--reps")! } : {}) };
/** `--only bare,app` runs some systems (for working on them); the suite runs all. */
const onlyArg = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1]!.split(",") : null;
const systems = RACE_SYSTEMS.filter((s) => onlyArg === null || onlyArg.includes(s));
if (onlyArg?.some((s) => !(RACE_SYSTEMS as readonly string[]).includes(s))) throw new Error(`--only takes ${RACE_SYSTEMS.join(",")}`);
const CONFIG = path.resolve(import.meta.dirname, "wrangler.bench.toml");
const RACE = path.join("bench", "clients", "race", "main.ts");

const dbDir = mkdtempSync(path.join(tmpdir(), "sv-bench-race-"));
process.on("exit", () => rmSync(dbDir, { recursive: true, force: true }));
let deviceCount = 0;
const deviceId = () => `01936f3c-0000-7000-8000-${(++deviceCount).toString(16).padStart(12, "0")}`;

/** A device of `system` on `branch` (a room, for the peers), in its own process. */
async function device(server: LocalServer, system: RaceSystem, branch: string): Promise<DeviceProcess> {
  const origin = server.url.origin;
  const id = deviceId();
  const db = path.join(dbDir, `${id}.sqlite`);
  switch (system) {
    case "bare":
    case "yjs":
    case "tinybase":
      return DeviceProcess.start([system, origin, branch], RACE);
    case "bare-local":
      return DeviceProcess.start([system, origin, branch, db], RACE);
    case "protocol":
      return DeviceProcess.start([system, origin, branch, id, await tokenFor(branch, id, "owner")], RACE);
    case "app":
      return DeviceProcess.start([system, db, origin, await tokenFor(branch, id, "owner")], RACE);
  }
}

interface Run {
  durable_ms: number;
  b_has_all_ms: number;
  c_has_all_ms: number;
  workerd_cpu_s: number;
  workerd_peak_mb: number;
  device_peak_mb: number;
  device_stall_max_ms: number;
  /** The longest event-loop stall of each device during its part. */
  device_stalls_ms: { a_write: number; b_has: number; c_join: number };
  /** Each device's CPU time during its part (see the top of this file). */
  device_cpu_ms: { a_write: number; b_has: number; c_join: number };
  /** workerd's CPU from A's first write to A's writes durable. */
  workerd_cpu_a_ms: number;
  /** What B received, by frame type (count, last arrival), where its client says (the bare protocol client). */
  b_frames?: unknown;
}

/** A command the race gives a device: a device that hangs fails its repetition instead of the run. */
const COMMAND_TIMEOUT_MS = 180_000;

/** One repetition of one system on a fresh workerd. */
async function race(system: RaceSystem, rep: number): Promise<Run> {
  const { n, batch } = PLAN;
  const server = await startServer(undefined, 0, CONFIG);
  const sampler = sampleWorkerdPeak();
  const devices: DeviceProcess[] = [];
  try {
    const branch = `race-${system}-${rep}`;
    for (let i = 0; i < 3; i++) devices.push(await device(server, system, branch));
    const [b, a, c] = devices as [DeviceProcess, DeviceProcess, DeviceProcess];
    const bLive = await b.send({ cmd: "live" }, COMMAND_TIMEOUT_MS);
    const aLive = await a.send({ cmd: "live" }, COMMAND_TIMEOUT_MS);
    const cpuBefore = workerdCpuSeconds();
    const bHas = b.send({ cmd: "has", n }, COMMAND_TIMEOUT_MS);
    const written = await a.send({ cmd: "write", n, batch }, COMMAND_TIMEOUT_MS);
    const cpuAtDurable = workerdCpuSeconds();
    const had = await bHas;
    const joined = await c.send({ cmd: "join", n }, COMMAND_TIMEOUT_MS);
    // What the workload set off is its cost too: the snapshot export due at 10,000 commits, which
    // waits for the branch to be quiet, is counted in workerd's CPU and peak memory.
    await untilWorkerdIdles(EXPORT_QUIET_MS);
    const cpu = workerdCpuSeconds() - cpuBefore;
    const first = written.first_at as number;
    const last = await Promise.all(devices.map((d) => d.exit()));
    return {
      durable_ms: (written.durable_at as number) - first,
      b_has_all_ms: (had.at as number) - first,
      c_has_all_ms: (joined.end as number) - (joined.start as number),
      workerd_cpu_s: round(cpu, 2),
      workerd_peak_mb: sampler.stop(),
      device_peak_mb: Math.max(...last.map((l) => l.peak_rss_mb)),
      device_stall_max_ms: Math.max(written.stall_max_ms, had.stall_max_ms, joined.stall_max_ms),
      device_stalls_ms: { a_write: written.stall_max_ms, b_has: had.stall_max_ms, c_join: joined.stall_max_ms },
      workerd_cpu_a_ms: Math.round((cpuAtDurable - cpuBefore) * 1000),
      device_cpu_ms: { a_write: written.cpu_ms - aLive.cpu_ms, b_has: had.cpu_ms - bLive.cpu_ms, c_join: joined.cpu_ms - c.ready.cpu_ms },
      ...(had.frames ? { b_frames: had.frames } : {}),
    };
  } finally {
    for (const d of devices) if (d.child.exitCode === null) d.child.kill();
    sampler.stop();
    await server.stop();
  }
}

const runs = new Map<RaceSystem, Run[]>(systems.map((s) => [s, []]));
/** Repetitions that did not finish, and why: reported, never replaced by a figure. */
const failures: Array<{ system: RaceSystem; rep: number; error: string }> = [];
console.log(`race: B live, A writes ${PLAN.n.toLocaleString("en-US")} records (batches of ${PLAN.batch} where the system has batches), then cold C joins; ${PLAN.reps} repetition(s), systems alternating`);
for (let rep = 0; rep < PLAN.reps; rep++) {
  for (const system of systems) {
    let r: Run;
    try {
      r = await race(system, rep);
    } catch (e) {
      failures.push({ system, rep, error: String(e).slice(0, 500) });
      console.log(`  ${system.padEnd(10)} FAILED: ${String(e).slice(0, 300)}`);
      continue;
    }
    runs.get(system)!.push(r);
    console.log(`  ${system.padEnd(10)} durable ${Math.round(r.durable_ms)} ms, B has all ${Math.round(r.b_has_all_ms)} ms, cold C ${Math.round(r.c_has_all_ms)} ms; workerd CPU ${r.workerd_cpu_s} s, peak ${r.workerd_peak_mb} MB; devices ${r.device_peak_mb} MB, stall ${r.device_stall_max_ms} ms (A ${r.device_stalls_ms.a_write}, B ${r.device_stalls_ms.b_has}, C ${r.device_stalls_ms.c_join}); CPU until durable: A ${r.device_cpu_ms.a_write} ms, workerd ${r.workerd_cpu_a_ms} (B until it has all ${r.device_cpu_ms.b_has}); C ${r.device_cpu_ms.c_join}`);
  }
}

const cores = cpus().length;
const med = (rs: Run[], key: "durable_ms" | "b_has_all_ms" | "c_has_all_ms") => round(median(rs.map((r) => r[key])));
const figures = Object.fromEntries(
  [...runs].filter(([, rs]) => rs.length > 0).map(([system, rs]): [RaceSystem, RaceFigures & { label: string; repetitions: number; device_peak_mb: number; device_stall_max_ms: number; cpu_ms: RaceCpu; busy: number }] => {
    const cpu = median(rs.map((r) => r.workerd_cpu_s));
    const durable = med(rs, "durable_ms");
    const cpuMs: RaceCpu = {
      a_until_durable: round(median(rs.map((r) => r.device_cpu_ms.a_write))),
      workerd_until_durable: round(median(rs.map((r) => r.workerd_cpu_a_ms))),
      b_until_has_all: round(median(rs.map((r) => r.device_cpu_ms.b_has))),
      c_join: round(median(rs.map((r) => r.device_cpu_ms.c_join))),
    };
    return [
      system,
      {
        label: RACE_LABELS[system],
        repetitions: rs.length,
        durable_ms: durable,
        b_has_all_ms: med(rs, "b_has_all_ms"),
        c_has_all_ms: med(rs, "c_has_all_ms"),
        workerd_cpu_s: round(cpu, 2),
        workerd_cpu_us_per_event: round((cpu * 1e6) / PLAN.n),
        workerd_peak_mb: Math.max(...rs.map((r) => r.workerd_peak_mb)),
        device_peak_mb: Math.max(...rs.map((r) => r.device_peak_mb)),
        device_stall_max_ms: Math.max(...rs.map((r) => r.device_stall_max_ms)),
        cpu_ms: cpuMs,
        busy: round(busyShare(cpuMs, cores, durable), 2),
      },
    ];
  }),
);
console.log(`\nmedians of ${PLAN.reps} (ms; workerd CPU over the whole workload; peak RSS the highest seen)`);
console.log(`  ${"system".padEnd(54)} ${"durable".padStart(8)} ${"B all".padStart(8)} ${"cold C".padStart(8)} ${"CPU s".padStart(6)} ${"µs/ev".padStart(6)} ${"RSS MB".padStart(6)}`);
for (const [system, f] of Object.entries(figures)) {
  console.log(`  ${f.label.padEnd(54)} ${String(Math.round(f.durable_ms)).padStart(8)} ${String(Math.round(f.b_has_all_ms)).padStart(8)} ${String(Math.round(f.c_has_all_ms)).padStart(8)} ${String(f.workerd_cpu_s).padStart(6)} ${String(f.workerd_cpu_us_per_event).padStart(6)} ${String(f.workerd_peak_mb).padStart(6)}  (${system}${f.repetitions < PLAN.reps ? `, ${f.repetitions} of ${PLAN.reps} repetitions` : ""})`);
}
console.log(`\nCPU time, medians (ms): the devices' processes and workerd; busy = A + workerd + B over ${cores} cores × A's time to durable`);
console.log(`  ${"system".padEnd(12)} ${"A→durable".padStart(10)} ${"workerd".padStart(8)} ${"B→has all".padStart(10)} ${"busy".padStart(6)} ${"cold C".padStart(8)}`);
for (const [system, f] of Object.entries(figures)) {
  const c = f.cpu_ms;
  console.log(`  ${system.padEnd(12)} ${String(c.a_until_durable).padStart(10)} ${String(c.workerd_until_durable).padStart(8)} ${String(c.b_until_has_all).padStart(10)} ${`${Math.round(f.busy * 100)}%`.padStart(6)} ${String(c.c_join).padStart(8)}`);
}
for (const f of failures) console.log(`  ${f.system} repetition ${f.rep + 1} failed (not counted): ${f.error.slice(0, 200)}`);
const commit = (() => {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    return execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" }).trim() ? `${head} (with uncommitted changes)` : head;
  } catch {
    return null;
  }
})();
mkdirSync(path.resolve(import.meta.dirname, "results"), { recursive: true });
writeFileSync(
  path.resolve(import.meta.dirname, "results", "race.json"),
  JSON.stringify(
    { benchmark: "race", quick, plan: PLAN, commit, figures, failures, raw: Object.fromEntries(runs), machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gb: round(totalmem() / 2 ** 30), node: process.version }, at: new Date().toISOString() },
    null,
    2,
  ),
);
