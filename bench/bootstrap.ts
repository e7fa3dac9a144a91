/**
 * Bootstrap benchmark (issue 5; incremental snapshots, issue 18): a branch of N small entities
 * (POS sales) on the real local server (workerd, Durable Object SQLite, R2), a full snapshot (a
 * base) exported by the Durable Object, and a new device bootstrapping from it in a process of its
 * own. Then 1% of the entities change (voids: a new entity version and a void fact each), the next
 * export is an increment of the base's chain, and another new device bootstraps from base + chain.
 *
 * Prints, for each N: export time and bytes of the full snapshot vs the increment, bootstrap time
 * and bytes from the base vs base + chain, peak RSS of each device and its longest event-loop
 * stall, and the workerd process's peak RSS during each export. Written to bench/results/bootstrap.json.
 *
 *   npx tsx bench/bootstrap.ts [--quick] [--entities N ...]     (default 200,000; --quick 10,000)
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SnapshotManifest } from "../protocol/index.js";
import { makeEventFactory } from "../test/support/events.js";
import { type LocalServer, NodeClient, startServer, tokenFor } from "../test/support/server.js";
import { sampleWorkerdPeak } from "./workerd-memory.js";

const quick = process.argv.includes("--quick");
const explicit = process.argv.flatMap((a, i) => (process.argv[i - 1] === "--entities" ? [Number(a)] : []));
const sizes = explicit.length > 0 ? explicit : quick ? [10_000] : [200_000];
/** The share of entities changed between the base and the increment. */
const CHANGED_FRACTION = 0.01;
const DEVICE = "01936f3c-0000-7000-8000-0000000000a1";

interface BootFigures {
  seq: number;
  links: number;
  entities: number;
  byte_size: number;
  wall_ms: number;
  download_ms: number;
  entities_per_s: number;
  peak_rss_mb: number;
  event_loop_max_stall_ms: number;
  event_loop_p99_stall_ms: number;
}

async function exportNow(server: LocalServer, branch: string) {
  const sampler = sampleWorkerdPeak();
  const started = performance.now();
  const response = await fetch(new URL(`/v1/branches/${branch}/snapshots`, server.url), {
    method: "POST",
    headers: { Authorization: `Bearer ${await tokenFor(branch, DEVICE, "manager")}` },
  });
  if (response.status !== 201) throw new Error(`export failed: ${response.status} ${await response.text()}`);
  const ms = performance.now() - started;
  const manifest = SnapshotManifest.parse(await response.json());
  return { manifest, ms, rss: { before: sampler.start, peak: sampler.stop() } };
}

/** One bootstrap in a child process; its database (up to 1.5 GB at 1,000,000 entities) goes as soon as it is done. */
async function bootstrapChild(server: LocalServer, branch: string, device: string): Promise<BootFigures> {
  const dir = mkdtempSync(path.join(tmpdir(), "sv-bench-boot-"));
  const token = await tokenFor(branch, device, "cashier");
  let child: SpawnSyncReturns<string>;
  try {
    child = spawnSync(path.resolve("node_modules/.bin/tsx"), ["bench/bootstrap-child.ts", path.join(dir, "device.sqlite"), server.url.origin, token], { encoding: "utf8", maxBuffer: 1 << 20 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (child.status !== 0) throw new Error(`bootstrap failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split("\n").at(-1)!) as BootFigures;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const results = [];
for (const n of sizes) {
  const server = await startServer();
  try {
    const branch = `bench-boot-${n}`;
    const f = makeEventFactory(n);
    const client = await NodeClient.open(server, branch, DEVICE, "owner");
    const seedStarted = performance.now();
    const ids: string[] = [];
    await client.pushAll(n, (i) => {
      const e = f.sale(DEVICE, undefined, `R-${i}`, 100 + (i % 997));
      if (i % Math.round(1 / CHANGED_FRACTION) === 0) ids.push(e.entity_id);
      return e;
    }, f.nextId);
    const seedMs = performance.now() - seedStarted;

    const full = await exportNow(server, branch);
    // The alarm exports once 10,000 commits wait and the branch has been quiet for 2 s (or 5 minutes
    // have passed): a seeding longer than that leaves a base behind, and this export is an increment.
    if (full.manifest.base_seq !== undefined) throw new Error(`the first export is an increment (the alarm exported a base at seq ${full.manifest.base_seq} during seeding): use fewer entities`);
    const fromBase = await bootstrapChild(server, branch, "01936f3c-0000-7000-8000-0000000000e1");

    // 1% of the entities change: each void is a new version of its sale and a void fact.
    await client.pushAll(ids.length, (i) => f.voidOrder(DEVICE, ids[i]!, { base: 1 }), f.nextId);
    client.close();
    const inc = await exportNow(server, branch);
    if (inc.manifest.base_seq !== full.manifest.seq) throw new Error(`the second export is not an increment of the base: ${JSON.stringify(inc.manifest)}`);
    const fromChain = await bootstrapChild(server, branch, "01936f3c-0000-7000-8000-0000000000e2");

    const result = {
      entities: n,
      changed: ids.length,
      seed_s: +(seedMs / 1000).toFixed(1),
      // Kept as before (bench/report.ts reads them): the full export and the bootstrap from the base alone.
      export_s: +(full.ms / 1000).toFixed(1),
      workerd_rss_mb: { before_export: full.rss.before, peak_during_export: full.rss.peak },
      bootstrap: fromBase,
      full_snapshot: { export_ms: Math.round(full.ms), byte_size: full.manifest.byte_size, uncompressed_bytes: full.manifest.uncompressed_bytes, workerd_rss_peak_mb: full.rss.peak },
      incremental_snapshot: {
        export_ms: Math.round(inc.ms),
        byte_size: inc.manifest.byte_size,
        uncompressed_bytes: inc.manifest.uncompressed_bytes,
        entities: inc.manifest.counts.pos_order + inc.manifest.counts.project + inc.manifest.counts.invoice + inc.manifest.counts.tombstones,
        workerd_rss_peak_mb: inc.rss.peak,
      },
      bootstrap_chain: fromChain,
    };
    results.push(result);
    console.log(
      `${n.toLocaleString()} entities (seeded in ${s(seedMs)}), ${ids.length.toLocaleString()} changed:\n` +
        `  export  full base   ${s(full.ms).padStart(7)}  ${mb(full.manifest.byte_size).padStart(10)}  workerd peak ${full.rss.peak} MB\n` +
        `  export  increment   ${s(inc.ms).padStart(7)}  ${mb(inc.manifest.byte_size).padStart(10)}  workerd peak ${inc.rss.peak} MB  (${result.incremental_snapshot.entities.toLocaleString()} entities)\n` +
        `  bootstrap base      ${s(fromBase.wall_ms).padStart(7)}  ${mb(fromBase.byte_size).padStart(10)}  device peak ${fromBase.peak_rss_mb} MB, stall ${fromBase.event_loop_max_stall_ms} ms, ${fromBase.entities_per_s.toLocaleString()} entities/s\n` +
        `  bootstrap base+inc  ${s(fromChain.wall_ms).padStart(7)}  ${mb(fromChain.byte_size).padStart(10)}  device peak ${fromChain.peak_rss_mb} MB, stall ${fromChain.event_loop_max_stall_ms} ms (${fromChain.links} links)`,
    );
  } finally {
    await server.stop();
  }
}
mkdirSync("bench/results", { recursive: true });
writeFileSync("bench/results/bootstrap.json", JSON.stringify({ benchmark: "bootstrap", quick, results, node: process.version, at: new Date().toISOString() }, null, 2));
