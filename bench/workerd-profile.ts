/**
 * Where workerd's CPU goes per pushed event: a bare protocol client pushes N project creates (full
 * batches, one in flight) while a second device of the branch is live, and workerd is measured two
 * ways. Its CPU time (utime + stime of the workerd process, /proc) over the push, divided by N, with
 * the bare baseline Durable Object pushed the same records in the same workerd for the ratio; and,
 * with `--profile`, a CPU profile of the isolate taken through workerd's inspector (the Chrome
 * DevTools Protocol's Profiler domain), summed per function as a top-down tree and as self times.
 * (Under wrangler 4.86 the inspector proxy does not pass Profiler commands on: `--profile` then stops
 * at once and says so; use `--perf`.)
 * The profiler's own cost makes the profiled run slower: profiles are for proportions, the CPU
 * figure is from a run without it. Not part of `npm run bench`; a tool for docs/benchmarks.md.
 *
 * V8's sampler is wall-clock: on a loaded machine a sample lands where the thread waits as well as
 * where it computes (SQLite's file I/O above all). `--perf FILE` records the workerd process with
 * Linux perf instead (CPU time only, native frames: SQLite, V8's JSON, GC; JIT code is unnamed),
 * for `perf report -i FILE`.
 *
 * Without --no-baseline, `--reps` pushes of each (baseline, then ours, alternated) give the ratio;
 * `--fresh` pushes once on a fresh workerd (peak RSS as bench/sync.ts measures it). Each measurement
 * runs until workerd idles, so that what a push sets off (a snapshot export) is counted with it.
 *
 * The pushing device's hello says `echo: false` (protocol v11, as the desktop's): its own commits do
 * not come back to it; `--echo` leaves it out, for the cost of sending them back (before v11).
 *
 *   npx tsx bench/workerd-profile.ts [--events 10000] [--reps 3] [--echo] [--no-baseline] [--fresh] [--profile] [--interval-us 100] [--out FILE.cpuprofile] [--perf FILE]
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { unstable_startWorker } from "wrangler";
import { WebSocket } from "ws";
import { MAX_BATCH_EVENTS, PROTOCOL_VERSION } from "../protocol/index.js";
import { makeEventFactory } from "../test/support/events.js";
import { installIdOf, TEST_SECRET, tokenFor } from "../test/support/server.js";
import { benchProject } from "./lib/payload.js";
import { EXPORT_QUIET_MS } from "../durable/core/snapshot-schedule.js";
import { sampleWorkerdPeak, untilWorkerdIdles } from "./workerd-memory.js";

const arg = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1]!;
};
const EVENTS = Number(arg("events", "10000"));
const PROFILE = process.argv.includes("--profile");
const BASELINE = !process.argv.includes("--no-baseline");
const REPS = Number(arg("reps", "3"));
/** One push on a fresh workerd, nothing else: its peak RSS is comparable with bench/sync.ts's. */
const FRESH = process.argv.includes("--fresh");
const INTERVAL_US = Number(arg("interval-us", "100"));
const OUT = arg("out", "");
const PERF = arg("perf", "");
const INSPECTOR_PORT = 9300 + Math.floor(Math.random() * 500);

/** CPU seconds (user + system) of the workerd processes this process started. */
function workerdCpuS(): number {
  const ticks = 100; // USER_HZ on Linux
  let total = 0;
  for (const pid of workerdPids()) {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    total += (Number(fields[11]) + Number(fields[12])) / ticks; // utime, stime (fields 14, 15 of stat)
  }
  return total;
}

function workerdPids(): string[] {
  const children = new Map<string, string[]>();
  const comm = new Map<string, string>();
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const ppid = stat.split(") ")[1]!.split(" ")[1]!;
      comm.set(pid, stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")));
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      // gone meanwhile
    }
  }
  const mine: string[] = [];
  const walk = (pid: string) => {
    for (const child of children.get(pid) ?? []) {
      mine.push(child);
      walk(child);
    }
  };
  walk(String(process.pid));
  return mine.filter((pid) => comm.get(pid)?.includes("workerd"));
}

/** Runs a push and prints its workerd CPU per event (returned, µs), wall time and workerd's peak RSS. */
async function measure(label: string, run: () => Promise<number>): Promise<number> {
  const sampler = sampleWorkerdPeak();
  const before = workerdCpuS();
  const started = performance.now();
  const n = await run();
  const ms = performance.now() - started;
  // What the push set off after its last frame (a snapshot export is due at 10,000 commits) is its
  // cost too: workerd is measured until it idles, so that it never lands on the next measurement.
  await untilWorkerdIdles(EXPORT_QUIET_MS);
  const cpu = workerdCpuS() - before;
  console.log(`${label}: ${n.toLocaleString("en-US")} events in ${Math.round(ms)} ms; workerd CPU ${cpu.toFixed(2)} s = ${Math.round((cpu * 1e6) / n)} µs/event; workerd peak RSS ${sampler.stop()} MB`);
  return (cpu * 1e6) / n;
}

function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  return new Promise((resolve, reject) => ws.once("open", () => resolve(ws)).once("error", reject));
}

/** The next frame of a socket whose text passes `want`, as parsed JSON. */
function nextFrame(ws: WebSocket, want: (text: string) => boolean): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: unknown) => {
      const text = String(data);
      if (!want(text)) return;
      ws.off("message", onMessage);
      ws.off("close", onClose);
      resolve(JSON.parse(text) as Record<string, unknown>);
    };
    const onClose = (code: number, reason: unknown) => reject(new Error(`closed ${code} ${String(reason)}`));
    ws.on("message", onMessage);
    ws.once("close", onClose);
  });
}

/** Counts the changes a live socket of the baseline is sent until it has seen `n`. */
function liveCount(ws: WebSocket, n: number, kind: string): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => {
    ws.on("message", (data) => {
      const text = String(data);
      if (!text.startsWith(`{"type":"${kind}"`)) return;
      seen += (JSON.parse(text) as { changes: unknown[] }).changes.length;
      if (seen >= n) resolve();
    });
  });
}

/**
 * A live device of our branch, as an honest one behaves: it applies `live` changes, answers a `poke`
 * (sent once its unread budget is spent) with a pull from its cursor, and pages until it has `head`.
 */
function liveDevice(ws: WebSocket, head: number): Promise<void> {
  let cursor = 0;
  let pulling = false;
  const pull = () => {
    pulling = true;
    ws.send(JSON.stringify({ type: "pull", request_id: crypto.randomUUID(), since: cursor, limit: 1_000 }));
  };
  return new Promise((resolve) => {
    ws.on("message", (data) => {
      const m = JSON.parse(String(data)) as { type: string; changes?: Array<{ seq: number }>; head?: number; more?: boolean };
      if (m.type === "live" && !pulling) cursor = Math.max(cursor, m.changes!.at(-1)!.seq);
      if (m.type === "poke" && !pulling) pull();
      if (m.type === "changes") {
        cursor = Math.max(cursor, m.changes!.at(-1)?.seq ?? cursor);
        pulling = false;
        if (m.more) pull();
      }
      if (cursor >= head) resolve();
    });
  });
}

async function pushBaseline(origin: string, n: number): Promise<number> {
  const branch = `baseline-${crypto.randomUUID()}`;
  const url = `${origin.replace("http", "ws")}/baseline/${branch}/sync`;
  const [a, b] = await Promise.all([open(url), open(url)]);
  const live = liveCount(b, n, "live");
  for (let done = 0; done < n; done += MAX_BATCH_EVENTS) {
    const records = Array.from({ length: Math.min(MAX_BATCH_EVENTS, n - done) }, (_, i) => ({ id: crypto.randomUUID(), entity_id: crypto.randomUUID(), payload: benchProject(done + i) }));
    const ack = nextFrame(a, (t) => t.startsWith('{"type":"ack"'));
    a.send(JSON.stringify({ type: "push", batch_id: crypto.randomUUID(), records }));
    await ack;
  }
  await live;
  a.close();
  b.close();
  return n;
}

/** The pusher's hello says `echo: false` (v11), as the desktop's does, unless `--echo` (its own commits sent back, as before v11). */
const ECHO = process.argv.includes("--echo");

async function device(origin: string, branch: string, id: string): Promise<WebSocket> {
  const ws = await open(`${origin.replace("http", "ws")}/v1/branches/${branch}/sync?token=${await tokenFor(branch, id, "owner")}`);
  const welcome = nextFrame(ws, (t) => t.includes('"type":"welcome"'));
  ws.send(JSON.stringify({ type: "hello", protocol_version: PROTOCOL_VERSION, device_id: id, cursor: 0, app: "profile/1", install_id: installIdOf(id), clock_ms: Date.now(), ...(ECHO ? {} : { echo: false }) }));
  await welcome;
  return ws;
}

async function pushOurs(origin: string, branch: string, n: number): Promise<number> {
  const f = makeEventFactory(n);
  const idA = "01936f3c-0000-7000-8000-00000000000a";
  const [a, b] = await Promise.all([device(origin, branch, idA), device(origin, branch, "01936f3c-0000-7000-8000-00000000000b")]);
  const live = liveDevice(b, n);
  for (let done = 0; done < n; done += MAX_BATCH_EVENTS) {
    const events = Array.from({ length: Math.min(MAX_BATCH_EVENTS, n - done) }, (_, i) => f.event(idA, "project", f.nextId(), "create", benchProject(done + i)));
    const answer = nextFrame(a, (t) => t.startsWith('{"type":"verdicts"') || t.startsWith('{"type":"error"'));
    a.send(JSON.stringify({ type: "push", batch_id: f.nextId(), events }));
    const verdicts = (await answer).verdicts as Array<{ status: string }> | undefined;
    if (verdicts?.length !== events.length || verdicts.some((v) => v.status !== "confirmed")) throw new Error(`push not confirmed: ${JSON.stringify(verdicts ?? "error").slice(0, 300)}`);
  }
  await live;
  a.close();
  b.close();
  return n;
}

// ───────────────────────────── the profiler over workerd's inspector ─────────────────────────────

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

class Profiler {
  #id = 0;
  private constructor(readonly sockets: WebSocket[]) {}

  /** Every isolate the inspector lists: which one runs the branch is found from the samples. */
  static async attach(port: number): Promise<Profiler> {
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
    return new Profiler(await Promise.all(targets.map((t) => open(t.webSocketDebuggerUrl))));
  }

  /**
   * One inspector command. Wrangler 4.86's inspector proxy sends `Profiler.*` commands back as they
   * came (no `result`) and then drops the connection, where `Runtime.*` work (bench/workerd-heap.ts):
   * that is said at once, not waited out.
   */
  #call(ws: WebSocket, method: string, params: object = {}): Promise<Record<string, unknown>> {
    const id = ++this.#id;
    return new Promise((resolve, reject) => {
      const done = (error: Error | null, result?: Record<string, unknown>) => {
        clearTimeout(timer);
        ws.off("message", onMessage);
        ws.off("close", onClose);
        if (error) reject(error);
        else resolve(result ?? {});
      };
      const timer = setTimeout(() => done(new Error(`${method}: no answer in 60 s`)), 60_000);
      const onMessage = (data: unknown) => {
        const m = JSON.parse(String(data)) as { id?: number; result?: Record<string, unknown>; error?: unknown; method?: string };
        if (m.id !== id) return;
        if (m.error) done(new Error(`${method}: ${JSON.stringify(m.error)}`));
        else if (m.result === undefined && m.method === method) done(new Error(`${method}: the inspector sent the command back instead of answering it (wrangler's inspector proxy does not pass Profiler commands to workerd); profile with --perf instead`));
        else done(null, m.result);
      };
      const onClose = (code: number) => done(new Error(`${method}: the inspector closed the connection (${code}) without answering; profile with --perf instead`));
      ws.on("message", onMessage);
      ws.on("close", onClose);
      ws.send(JSON.stringify({ id, method, params }));
    });
  }

  async start(intervalUs: number): Promise<void> {
    for (const ws of this.sockets) {
      await this.#call(ws, "Profiler.enable");
      await this.#call(ws, "Profiler.setSamplingInterval", { interval: intervalUs });
      await this.#call(ws, "Profiler.start");
    }
  }

  /** The profile of the isolate with the most samples. */
  async stop(): Promise<CpuProfile> {
    const profiles = await Promise.all(this.sockets.map(async (ws) => (await this.#call(ws, "Profiler.stop")).profile as CpuProfile));
    return profiles.sort((x, y) => busy(y) - busy(x))[0]!;
  }

  close(): void {
    for (const ws of this.sockets) ws.close();
  }
}

const IDLE = new Set(["(idle)", "(program)", "(root)"]);
function busy(profile: CpuProfile): number {
  const idle = new Set(profile.nodes.filter((n) => IDLE.has(n.callFrame.functionName)).map((n) => n.id));
  return profile.samples.filter((s) => !idle.has(s)).length;
}

/** A top-down tree merged by function name (µs per event, ≥ 1% of busy time), then self times. */
function report(profile: CpuProfile, n: number): void {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const name = (node: ProfileNode) => node.callFrame.functionName || `(anonymous ${path.basename(node.callFrame.url)}:${node.callFrame.lineNumber})`;
  interface Tree {
    us: number;
    children: Map<string, Tree>;
  }
  const root: Tree = { us: 0, children: new Map() };
  const self = new Map<string, number>();
  let busyUs = 0;
  profile.samples.forEach((sample, i) => {
    const us = profile.timeDeltas[i + 1] ?? 0;
    const leaf = byId.get(sample)!;
    if (IDLE.has(leaf.callFrame.functionName)) return;
    busyUs += us;
    self.set(name(leaf), (self.get(name(leaf)) ?? 0) + us);
    const stack: string[] = [];
    for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) {
      const node = byId.get(id)!;
      if (node.callFrame.functionName !== "(root)") stack.unshift(name(node));
    }
    let at = root;
    at.us += us;
    for (const frame of stack) {
      let next = at.children.get(frame);
      if (!next) at.children.set(frame, (next = { us: 0, children: new Map() }));
      next.us += us;
      at = next;
    }
  });
  const perEvent = (us: number) => (us / n).toFixed(1).padStart(7);
  console.log(`\nprofile: ${perEvent(busyUs)} µs/event busy in the isolate (${(busyUs / 1e6).toFixed(2)} s; profiled, so slower than unprofiled)`);
  const print = (tree: Tree, depth: number) => {
    for (const [frame, child] of [...tree.children].sort((x, y) => y[1].us - x[1].us)) {
      if (child.us < busyUs * 0.01) continue;
      console.log(`${perEvent(child.us)} ${"  ".repeat(depth)}${frame}`);
      if (depth < 24) print(child, depth + 1);
    }
  };
  print(root, 0);
  console.log("\nself time, µs/event:");
  for (const [frame, us] of [...self].sort((x, y) => y[1] - x[1]).slice(0, 40)) console.log(`${perEvent(us)} ${frame}`);
}

/** Run last: the classes above are defined by then. */
async function main(): Promise<void> {
  process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
  process.env.WRANGLER_SEND_METRICS = "false";
  const persist = mkdtempSync(path.join(tmpdir(), "sv-profile-"));
  const worker = await unstable_startWorker({
    config: path.resolve(import.meta.dirname, "wrangler.bench.toml"),
    bindings: { TOKEN_SECRET: { type: "plain_text", value: TEST_SECRET } },
    sendMetrics: false,
    dev: { persist, server: { hostname: "127.0.0.1", port: 0 }, inspector: PROFILE ? { port: INSPECTOR_PORT } : false, watch: false, logLevel: "warn" },
  });
  try {
    await worker.ready;
    const origin = (await worker.url).origin;
    if (FRESH) await measure("StudioVault DO (fresh workerd)", () => pushOurs(origin, "fresh", EVENTS));
    else await measure("StudioVault DO (warm-up)", () => pushOurs(origin, "warm", Math.min(EVENTS, 2_000)));
    if (BASELINE && !FRESH) {
      // Alternated, so that a noisy neighbour (this machine is shared) weighs on both alike.
      await measure("baseline DO (warm-up)", () => pushBaseline(origin, Math.min(EVENTS, 2_000)));
      const ratios: number[] = [];
      for (let rep = 0; rep < REPS; rep++) {
        const base = await measure("baseline DO", () => pushBaseline(origin, EVENTS));
        const ours = await measure("StudioVault DO", () => pushOurs(origin, `rep-${rep}`, EVENTS));
        ratios.push(ours / base);
      }
      const median = [...ratios].sort((x, y) => x - y)[Math.floor(ratios.length / 2)]!;
      console.log(`StudioVault/baseline workerd CPU per event: ${ratios.map((r) => r.toFixed(2)).join(", ")} (median ${median.toFixed(2)})`);
    }
    const profiler = PROFILE ? await Profiler.attach(INSPECTOR_PORT) : null;
    await profiler?.start(INTERVAL_US);
    const perf = PERF ? spawn("perf", ["record", "-F", "4999", "-g", "-o", PERF, "-p", workerdPids().join(",")], { stdio: "inherit" }) : null;
    if (profiler || perf) await measure("StudioVault DO (profiled)", () => pushOurs(origin, "profiled", EVENTS));
    if (perf) {
      perf.kill("SIGINT");
      await once(perf, "exit");
    }
    const profile = await profiler?.stop();
    if (profile) {
      if (OUT) writeFileSync(OUT, JSON.stringify(profile));
      report(profile, EVENTS);
    }
    profiler?.close();
  } finally {
    await worker.dispose();
    rmSync(persist, { recursive: true, force: true });
  }
}

await main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
