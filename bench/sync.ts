/**
 * How fast is sync: StudioVault measured side by side with a bare baseline in the same run.
 *
 *   npx tsx bench/sync.ts [--quick]
 *
 * Each repetition gets a fresh local workerd (wrangler's unstable_startWorker with
 * bench/wrangler.bench.toml: StudioVault's Worker plus the baseline Durable Object) and fresh
 * devices, each in a process of its own (bench/clients/device.ts) talking over real WebSockets on
 * 127.0.0.1. Workerd's RSS is sampled every 100 ms; each device reports its own peak RSS and its
 * longest event-loop stall. Repetitions alternate baseline and StudioVault so that a noisy
 * neighbour hurts both alike. Results: printed, and bench/results/sync.json.
 *
 * Workloads (issue 7): push → durable, live propagation (bulk and single writes while idle), cold
 * catch-up, reconnect catch-up. Bootstrap, local writes and export memory are bench/bootstrap.ts,
 * bench/local-writes.ts and bench/snapshot-memory.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import path from "node:path";
import { makeEventFactory } from "../test/support/events.js";
import { type LocalServer, NodeClient, startServer, tokenFor } from "../test/support/server.js";
import { DeviceProcess } from "./lib/child.js";
import { benchProject } from "./lib/payload.js";
import { percentile, round, summary } from "./lib/stats.js";
import { sampleWorkerdPeak } from "./workerd-memory.js";

const quick = process.argv.includes("--quick");
/** `--only push|live|cold|reconnect` runs one workload (for working on it); the suite runs all. */
const only = process.argv[process.argv.indexOf("--only") + 1];
const runs = (workload: "push" | "live" | "cold" | "reconnect") => !process.argv.includes("--only") || only === workload;
const CONFIG = path.resolve(import.meta.dirname, "wrangler.bench.toml");
const PLAN = quick
  ? { push: [{ n: 2_000, reps: 2 }], live: { n: 2_000, reps: 2, singles: 40, gap_ms: 20 }, cold: [{ n: 2_000, reps: 2 }], reconnect: { n: 5_000, reps: 1 } }
  : { push: [{ n: 10_000, reps: 5 }, { n: 100_000, reps: 3 }], live: { n: 10_000, reps: 5, singles: 200, gap_ms: 25 }, cold: [{ n: 10_000, reps: 5 }, { n: 100_000, reps: 3 }], reconnect: { n: 50_000, reps: 3 } };
const SYSTEMS = ["baseline", "ours"] as const;
type System = (typeof SYSTEMS)[number];

const dbDir = mkdtempSync(path.join(tmpdir(), "sv-bench-sync-"));
// Every device's database (1.4 GB over a full run) goes with the process, however it ends.
process.on("exit", () => rmSync(dbDir, { recursive: true, force: true }));
let deviceCount = 0;
const deviceId = () => `01936f3c-0000-7000-8000-${(++deviceCount).toString(16).padStart(12, "0")}`;

/** One repetition: a fresh server, workerd's peak RSS while `fn` runs. */
async function onFreshServer<T>(fn: (server: LocalServer) => Promise<T>): Promise<T & { workerd_peak_mb: number }> {
  const server = await startServer(undefined, 0, CONFIG);
  const sampler = sampleWorkerdPeak();
  try {
    const value = await fn(server);
    return { ...value, workerd_peak_mb: sampler.stop() };
  } finally {
    sampler.stop();
    await server.stop();
  }
}

async function device(server: LocalServer, system: System, branch: string): Promise<DeviceProcess> {
  if (system === "baseline") return DeviceProcess.start(["baseline", server.url.origin, branch]);
  const id = deviceId();
  return DeviceProcess.start(["ours", path.join(dbDir, `${id}.sqlite`), server.url.origin, await tokenFor(branch, id, "owner")]);
}

/** n commits on a branch, pushed by a raw client (not measured). */
async function seed(server: LocalServer, system: System, branch: string, n: number): Promise<void> {
  if (system === "baseline") {
    const d = await device(server, "baseline", branch);
    await d.send({ cmd: "queue", n });
    await d.send({ cmd: "flush" });
    await d.exit();
    return;
  }
  const id = deviceId();
  const f = makeEventFactory(n);
  const client = await NodeClient.open(server, branch, id, "owner");
  await client.pushAll(n, (i) => f.event(id, "project", f.nextId(), "create", benchProject(i)), f.nextId);
  client.close();
}

/** Milliseconds per workload and system, over all repetitions. */
const rows: Array<{ workload: string; system: System; values: number[] }> = [];
const memory: Record<string, Record<System, { workerd_peak_mb: number; device_peak_mb: number; device_stall_max_ms?: number }>> = {};
function remember(workload: string, system: System, m: { workerd_peak_mb: number; device_peak_mb: number; device_stall_max_ms?: number }) {
  const slot = (memory[workload] ??= {} as never);
  const prev = slot[system];
  m = { workerd_peak_mb: m.workerd_peak_mb, device_peak_mb: m.device_peak_mb, ...(m.device_stall_max_ms !== undefined ? { device_stall_max_ms: m.device_stall_max_ms } : {}) };
  slot[system] = prev
    ? {
        workerd_peak_mb: Math.max(prev.workerd_peak_mb, m.workerd_peak_mb),
        device_peak_mb: Math.max(prev.device_peak_mb, m.device_peak_mb),
        ...(m.device_stall_max_ms !== undefined ? { device_stall_max_ms: Math.max(prev.device_stall_max_ms ?? 0, m.device_stall_max_ms) } : {}),
      }
    : m;
}
function record(workload: string, system: System, value: number | number[]) {
  let row = rows.find((r) => r.workload === workload && r.system === system);
  if (!row) rows.push((row = { workload, system, values: [] }));
  row.values.push(...(Array.isArray(value) ? value : [value]));
}
const log = (line: string) => console.log(`  ${line}`);

// ── 1. Push → durable ─────────────────────────────────────────────────────────────────────────
for (const { n, reps } of runs("push") ? PLAN.push : []) {
  const workload = `push→durable ${n.toLocaleString("en-US")}`;
  console.log(`${workload} (${reps} repetitions)`);
  for (let rep = 0; rep < reps; rep++) {
    for (const system of SYSTEMS) {
      const r = await onFreshServer(async (server) => {
        const a = await device(server, system, `push-${system}-${rep}`);
        await a.send({ cmd: "queue", n });
        const flushed = await a.send({ cmd: "flush" });
        const last = await a.exit();
        return { ms: (flushed.end as number) - (flushed.start as number), device_peak_mb: last.peak_rss_mb };
      });
      record(workload, system, r.ms);
      remember(workload, system, r);
      log(`${system.padEnd(8)} ${Math.round(r.ms)} ms (${Math.round(n / (r.ms / 1000)).toLocaleString("en-US")} events/s), workerd ${r.workerd_peak_mb} MB, device ${r.device_peak_mb} MB`);
    }
  }
}

// ── 2. Live propagation: single writes while idle, then a bulk of n ───────────────────────────
if (runs("live")) {
  const { n, reps, singles, gap_ms } = PLAN.live;
  const bulk = `live propagation ${n.toLocaleString("en-US")}`;
  const single = "single write A → B (idle)";
  console.log(`${bulk}, and ${singles} single writes ${gap_ms} ms apart (${reps} repetitions)`);
  for (let rep = 0; rep < reps; rep++) {
    for (const system of SYSTEMS) {
      const r = await onFreshServer(async (server) => {
        const branch = `live-${system}-${rep}`;
        const b = await device(server, system, branch);
        const a = await device(server, system, branch);
        await b.send({ cmd: "online" });
        await a.send({ cmd: "online" });

        await b.send({ cmd: "track" });
        const writes = (await a.send({ cmd: "singles", n: singles, gap_ms })).writes as Array<[string, number]>;
        let applied: Record<string, number> = {};
        for (let tries = 0; tries < 200 && Object.keys(applied).length < singles; tries++) {
          applied = (await b.send({ cmd: "tracked" })).applied as Record<string, number>;
          if (Object.keys(applied).length < singles) await new Promise((r) => setTimeout(r, 25));
        }
        const latencies = writes.map(([id, at]) => (applied[id] ?? NaN) - at);
        if (latencies.some(Number.isNaN)) throw new Error(`${system}: ${latencies.filter(Number.isNaN).length} single writes never reached B`);

        const done = b.send({ cmd: "expect", n });
        const started = await a.send({ cmd: "stream", n });
        const reached = await done;
        const lastA = await a.exit();
        const lastB = await b.exit();
        return {
          ms: (reached.at as number) - (started.first_at as number),
          latencies,
          device_peak_mb: Math.max(lastA.peak_rss_mb, lastB.peak_rss_mb),
          device_stall_max_ms: reached.stall_max_ms,
        };
      });
      record(bulk, system, r.ms);
      record(single, system, r.latencies);
      remember(bulk, system, r);
      log(`${system.padEnd(8)} bulk ${Math.round(r.ms)} ms; single writes p50 ${round(percentile(r.latencies, 50))} ms, p99 ${round(percentile(r.latencies, 99))} ms; workerd ${r.workerd_peak_mb} MB, devices ${r.device_peak_mb} MB`);
    }
  }
}

// ── 3. Cold catch-up: an empty device with cursor 0 pulls n commits ───────────────────────────
for (const { n, reps } of runs("cold") ? PLAN.cold : []) {
  const workload = `cold catch-up ${n.toLocaleString("en-US")}`;
  console.log(`${workload} (${reps} repetitions, one seeded branch per system)`);
  for (const system of SYSTEMS) {
    const r = await onFreshServer(async (server) => {
      const branch = `cold-${system}`;
      await seed(server, system, branch, n);
      const times: number[] = [];
      let devicePeak = 0;
      let stall = 0;
      for (let rep = 0; rep < reps; rep++) {
        const c = await device(server, system, branch);
        const caught = await c.send({ cmd: "catchup", head: n });
        const last = await c.exit();
        times.push((caught.end as number) - (caught.start as number));
        devicePeak = Math.max(devicePeak, last.peak_rss_mb);
        stall = Math.max(stall, caught.stall_max_ms);
      }
      return { times, device_peak_mb: devicePeak, device_stall_max_ms: stall };
    });
    record(workload, system, r.times);
    remember(workload, system, r);
    log(`${system.padEnd(8)} ${r.times.map((t) => Math.round(t)).join(", ")} ms; workerd ${r.workerd_peak_mb} MB, device ${r.device_peak_mb} MB, stall ${r.device_stall_max_ms} ms`);
  }
}

// ── 4. Reconnect catch-up: a device offline while n commits happened ─────────────────────────
if (runs("reconnect")) {
  const { n, reps } = PLAN.reconnect;
  const workload = `reconnect catch-up ${n.toLocaleString("en-US")}`;
  console.log(`${workload} (${reps} repetitions)`);
  for (let rep = 0; rep < reps; rep++) {
    for (const system of SYSTEMS) {
      const r = await onFreshServer(async (server) => {
        const branch = `reconnect-${system}-${rep}`;
        // Some history first, so the device is a synced device, not an empty one.
        await seed(server, system, branch, 1_000);
        const c = await device(server, system, branch);
        await c.send({ cmd: "online" });
        await c.send({ cmd: "offline" });
        await seed(server, system, branch, n);
        const caught = await c.send({ cmd: "catchup", head: 1_000 + n });
        const last = await c.exit();
        return { ms: (caught.end as number) - (caught.start as number), device_peak_mb: last.peak_rss_mb, device_stall_max_ms: caught.stall_max_ms };
      });
      record(workload, system, r.ms);
      remember(workload, system, r);
      log(`${system.padEnd(8)} ${Math.round(r.ms)} ms; workerd ${r.workerd_peak_mb} MB, device ${r.device_peak_mb} MB, longest event-loop stall ${r.device_stall_max_ms} ms`);
    }
  }
}

// ── Summary ──────────────────────────────────────────────────────────────────────────────────
const figures = [...new Set(rows.map((r) => r.workload))].map((workload) => {
  const ours = rows.find((r) => r.workload === workload && r.system === "ours")!;
  const base = rows.find((r) => r.workload === workload && r.system === "baseline")!;
  const o = summary(ours.values);
  const b = summary(base.values);
  return { workload, ours: o, baseline: b, ratio: round(o.median / b.median, 2), memory: memory[workload] ?? null };
});
console.log("\nmedian (p99) in ms; ratio = StudioVault / baseline");
for (const f of figures) {
  console.log(`  ${f.workload.padEnd(30)} StudioVault ${String(f.ours.median).padStart(8)} (${f.ours.p99})  baseline ${String(f.baseline.median).padStart(8)} (${f.baseline.p99})  ratio ${f.ratio}×`);
}
mkdirSync(path.resolve(import.meta.dirname, "results"), { recursive: true });
writeFileSync(
  path.resolve(import.meta.dirname, "results", "sync.json"),
  JSON.stringify({ benchmark: "sync", quick, plan: PLAN, figures, raw: rows, machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gb: round(totalmem() / 2 ** 30), node: process.version }, at: new Date().toISOString() }, null, 2),
);
