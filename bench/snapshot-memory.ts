/**
 * Export memory check (issue 5): a branch whose entities total several hundred MB of JSON is
 * exported while the workerd process's RSS is sampled every 100 ms. The Durable Object streams one
 * entity at a time, so the export should add a small, constant amount of memory whatever the branch
 * size; the isolate limit in production is 128 MB.
 *
 *   npx tsx bench/snapshot-memory.ts [--quick]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { splitIntoChunks } from "../protocol/index.js";
import { type TransferId } from "../domain/index.js";
import { makeEventFactory } from "../test/support/events.js";
import { NodeClient, startServer, tokenFor } from "../test/support/server.js";
import { sampleWorkerdPeak } from "./workerd-memory.js";

const quick = process.argv.includes("--quick");
const PROJECTS = quick ? 30 : 300;
const ITEMS_PER_PROJECT = 5_500; // ≈ 1 MB of JSON each
const DEVICE = "01936f3c-0000-7000-8000-0000000000a1";


const server = await startServer();
const branch = "bench-export-memory";
const f = makeEventFactory(99);
const client = await NodeClient.open(server, branch, DEVICE, "owner");
let jsonBytes = 0;
for (let p = 0; p < PROJECTS; p++) {
  const items = Array.from({ length: ITEMS_PER_PROJECT }, (_, i) => ({
    sha256: (p * 1_000_003 + i).toString(16).padStart(64, "0"),
    file_name: `P${p}_DSC_${String(i).padStart(5, "0")}.NEF`,
    size_bytes: 24_000_000 + i,
    note: i % 3 === 0 ? "client favourite, retouch skin and background" : null,
  }));
  const base = f.createProject(DEVICE, undefined, `Project ${p}`);
  const event = { ...base, payload: { ...(base.payload as object), media_selection: { items } } };
  const text = JSON.stringify({ type: "push", batch_id: f.nextId(), events: [event] });
  jsonBytes += text.length;
  for (const chunk of await splitIntoChunks(text, f.nextId() as TransferId)) client.send(chunk);
  const { verdicts } = await client.next("verdicts", 60_000);
  if (verdicts[0]?.status !== "confirmed") throw new Error(JSON.stringify(verdicts[0]).slice(0, 300));
}
client.close();

const sampler = sampleWorkerdPeak();
const before = sampler.start;
const started = performance.now();
const response = await fetch(new URL(`/v1/branches/${branch}/snapshots`, server.url), {
  method: "POST",
  headers: { Authorization: `Bearer ${await tokenFor(branch, DEVICE, "manager")}` },
});
const manifest = (await response.json()) as { byte_size: number; uncompressed_bytes: number };
const exportMs = performance.now() - started;
const peak = sampler.stop();
await server.stop();

const result = {
  benchmark: "snapshot-export-memory",
  quick,
  projects: PROJECTS,
  entities_json_mb: +(jsonBytes / 1e6).toFixed(1),
  snapshot_uncompressed_mb: +(manifest.uncompressed_bytes / 1e6).toFixed(1),
  snapshot_compressed_mb: +(manifest.byte_size / 1e6).toFixed(1),
  export_s: +(exportMs / 1000).toFixed(1),
  workerd_rss_before_mb: before,
  workerd_rss_peak_mb: peak,
  export_added_mb: peak - before,
  isolate_limit_mb: 128,
  at: new Date().toISOString(),
};
mkdirSync("bench/results", { recursive: true });
writeFileSync("bench/results/snapshot-memory.json", JSON.stringify(result, null, 2));
console.log(
  `export of ${result.snapshot_uncompressed_mb} MB of entities (${PROJECTS} projects) in ${result.export_s} s: ` +
    `workerd RSS ${before} → peak ${peak} MB (+${peak - before} MB; isolate limit 128 MB) → bench/results/snapshot-memory.json`,
);
