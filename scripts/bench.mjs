#!/usr/bin/env node
/**
 * `npm run bench [-- --quick]`: benchmarks that print figures and write them to bench/results/.
 * Performance targets live here, never in timed unit tests. The full suite (push, live, catch-up,
 * side by side with a bare baseline) is issue 7; local writes, bootstrap and export memory are measured now.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2).filter((a) => a === "--quick");
const unknown = process.argv.slice(2).filter((a) => a !== "--quick");
if (unknown.length > 0) {
  console.error(`unknown argument ${JSON.stringify(unknown[0])}; usage: npm run bench [-- --quick]`);
  process.exit(2);
}
const benches = ["bench/local-writes.ts", "bench/bootstrap.ts", "bench/snapshot-memory.ts"];
for (const bench of benches) {
  const r = spawnSync(path.join(root, "node_modules", ".bin", "tsx"), [bench, ...args], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
console.log("not yet measured (issue 7): push → durable and live propagation against a bare baseline, cold and reconnect catch-up.");
