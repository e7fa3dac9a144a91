/**
 * One bootstrap (a base and the increments of its chain) in a process of its own, so its peak RSS is
 * its own: prints one JSON line. `byte_size` is what it downloaded, every link of the chain.
 *   tsx bench/bootstrap-child.ts <db> <server-url> <token>
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { LocalStore } from "../desktop/store/local-store.js";
import { bootstrap } from "../desktop/sync/bootstrap.js";

const [dbPath, serverUrl, token] = process.argv.slice(2) as [string, string, string];
const store = LocalStore.open(dbPath);
const init = store.init({ server_url: serverUrl, token });
if (!init.ok) throw new Error(init.error);
const stall = monitorEventLoopDelay({ resolution: 10 });
stall.enable();
const started = performance.now();
let downloadedMs = 0;
let totalBytes = 0;
let links = 0;
const manifest = await bootstrap(store, {
  onProgress: (p) => {
    totalBytes = p.total_bytes;
    if (p.phase === "verify" && downloadedMs === 0) downloadedMs = performance.now() - started;
  },
  fetch: async (input, init) => {
    if (/\/snapshots\/\d+\/data$/.test(new URL(String(input)).pathname)) links++;
    return fetch(input, init);
  },
});
const wallMs = performance.now() - started;
stall.disable();
const entities = [...(function* () {
  let n = 0;
  for (const _ of store.baseEntities(5_000)) n++;
  yield n;
})()][0]!;
store.close();
console.log(
  JSON.stringify({
    seq: manifest?.seq ?? 0,
    links,
    entities,
    byte_size: totalBytes,
    wall_ms: Math.round(wallMs),
    download_ms: Math.round(downloadedMs),
    entities_per_s: Math.round(entities / (wallMs / 1000)),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    event_loop_max_stall_ms: Math.round(stall.max / 1e6),
    event_loop_p99_stall_ms: Math.round(stall.percentile(99) / 1e6),
  }),
);
