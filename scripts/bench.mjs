#!/usr/bin/env node
/**
 * `npm run bench [-- --quick] [-- name…]`: the benchmark suite. It prints figures, writes them to
 * bench/results/ (not committed) and ends with the targets, met or missed. Performance targets live
 * here, never in timed unit tests. `--quick` runs reduced sizes in under two minutes, as a smoke
 * check (not part of `npm test`); the whole quick suite takes about three minutes. Names pick benches (`npm run bench -- dashboard --quick`): the
 * file name without `bench/` and `.ts`; the targets report runs after any selection. Method and
 * latest figures: docs/benchmarks.md.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const benches = [
  "bench/sync.ts", // push → durable, live propagation, single writes, cold and reconnect catch-up, side by side with the baseline
  "bench/race.ts", // issue 16: A writes while B is live, then cold C, side by side with the baseline and peers (Yjs, TinyBase)
  "bench/local-writes.ts", // local write latency with 100,000 entities in the store
  "bench/bootstrap.ts", // bootstrap of 100,000 and 1,000,000 entities from an R2 snapshot
  "bench/snapshot-memory.ts", // workerd memory while exporting hundreds of MB
  "bench/attack.ts", // an honest device's push latency while another floods rejections naming a 4.8 MB project
  "bench/dashboard.ts", // the dashboard's reads on a branch of 100,000 commits and 5,000 rejections, beside the baseline's page read
  "bench/compaction.ts", // issue 18: branch storage after 1,000,000 commits with compaction on and off (the core on a SQLite file; about 14 minutes)
  "bench/days.ts", // issue 19: a day's report, its close and late pushes that amend it (10,000 sales), beside the same pushes to an open day; a till's pos_days
  "bench/deltas.ts", // issue 18: bytes for one photo edited among 20,000 (live and pulled later) and a reconnect catch-up of 50,000 commits, protocol v8 (whole) vs v9 (deltas)
];
const REPORT = "bench/report.ts"; // the targets against the figures above
const nameOf = (bench) => path.basename(bench, ".ts");
const args = process.argv.slice(2).filter((a) => a === "--quick");
const names = process.argv.slice(2).filter((a) => a !== "--quick");
const unknown = names.filter((n) => !benches.some((b) => nameOf(b) === n));
if (unknown.length > 0) {
  console.error(`unknown argument ${JSON.stringify(unknown[0])}; usage: npm run bench [-- --quick] [-- ${benches.map(nameOf).join("|")} …]`);
  process.exit(2);
}
const selected = names.length === 0 ? benches : benches.filter((b) => names.includes(nameOf(b)));
const started = Date.now();
for (const bench of [...selected, REPORT]) {
  console.log(`\n── ${bench}`);
  const r = spawnSync(path.join(root, "node_modules", ".bin", "tsx"), [bench, ...args], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
console.log(`\nbenchmarks done in ${Math.round((Date.now() - started) / 1000)} s`);
