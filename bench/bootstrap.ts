/**
 * Bootstrap benchmark (issue 5): a branch of N small entities on the real local server (workerd,
 * Durable Object SQLite, R2), a snapshot exported by the Durable Object, then a new device bootstraps
 * from it in a process of its own. Prints wall time, entities/s, peak RSS of the device and the
 * longest event-loop stall, and the workerd process's peak RSS during the export.
 *
 *   npx tsx bench/bootstrap.ts [--quick] [--entities N ...]
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { makeEventFactory } from "../test/support/events.js";
import { NodeClient, startServer, tokenFor } from "../test/support/server.js";
import { sampleWorkerdPeak } from "./workerd-memory.js";

const quick = process.argv.includes("--quick");
const explicit = process.argv.flatMap((a, i) => (process.argv[i - 1] === "--entities" ? [Number(a)] : []));
const sizes = explicit.length > 0 ? explicit : quick ? [10_000] : [100_000, 1_000_000];
const DEVICE = "01936f3c-0000-7000-8000-0000000000a1";


const results = [];
for (const n of sizes) {
  const server = await startServer();
  const branch = `bench-boot-${n}`;
  const f = makeEventFactory(n);
  const client = await NodeClient.open(server, branch, DEVICE, "owner");
  const seedStarted = performance.now();
  await client.pushAll(n, (i) => f.sale(DEVICE, undefined, `R-${i}`, 100 + (i % 997)), f.nextId);
  client.close();
  const seedMs = performance.now() - seedStarted;

  const sampler = sampleWorkerdPeak();
  const baselineRss = sampler.start;
  const exportStarted = performance.now();
  const response = await fetch(new URL(`/v1/branches/${branch}/snapshots`, server.url), {
    method: "POST",
    headers: { Authorization: `Bearer ${await tokenFor(branch, DEVICE, "manager")}` },
  });
  if (response.status !== 201) throw new Error(`export failed: ${response.status} ${await response.text()}`);
  const exportMs = performance.now() - exportStarted;
  const peakRss = sampler.stop();

  // The device's database (up to 1.5 GB at 1,000,000 entities) goes as soon as the child is done.
  const dir = mkdtempSync(path.join(tmpdir(), "sv-bench-boot-"));
  const token = await tokenFor(branch, "01936f3c-0000-7000-8000-0000000000e1", "cashier");
  let child: SpawnSyncReturns<string>;
  try {
    child = spawnSync(path.resolve("node_modules/.bin/tsx"), ["bench/bootstrap-child.ts", path.join(dir, "device.sqlite"), server.url.origin, token], { encoding: "utf8", maxBuffer: 1 << 20 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (child.status !== 0) throw new Error(`bootstrap failed: ${child.stderr}`);
  const boot = JSON.parse(child.stdout.trim().split("\n").at(-1)!);
  await server.stop();
  const result = {
    entities: n,
    seed_s: +(seedMs / 1000).toFixed(1),
    export_s: +(exportMs / 1000).toFixed(1),
    workerd_rss_mb: { before_export: baselineRss, peak_during_export: peakRss },
    bootstrap: boot,
  };
  results.push(result);
  console.log(
    `bootstrap ${n.toLocaleString()} entities: ${(boot.wall_ms / 1000).toFixed(1)} s (${boot.entities_per_s.toLocaleString()} entities/s; download ${boot.download_ms} ms of ${(boot.byte_size / 1e6).toFixed(1)} MB), ` +
      `device peak RSS ${boot.peak_rss_mb} MB, longest event-loop stall ${boot.event_loop_max_stall_ms} ms; ` +
      `export ${result.export_s} s, workerd RSS ${baselineRss} → peak ${peakRss} MB`,
  );
}
mkdirSync("bench/results", { recursive: true });
writeFileSync("bench/results/bootstrap.json", JSON.stringify({ benchmark: "bootstrap", quick, results, node: process.version, at: new Date().toISOString() }, null, 2));
