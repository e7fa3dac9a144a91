/**
 * Where workerd's memory goes during a push: the JS heap of the Worker's isolate (live and
 * allocated, read through workerd's inspector with `Runtime.getHeapUsage`) next to the whole
 * process's RSS. Not part of `npm run bench` (it needs an inspector port); a tool for the memory
 * figures in docs/benchmarks.md.
 *
 *   npx tsx bench/workerd-heap.ts [events=100000] [inspector-port=9331]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { unstable_startWorker } from "wrangler";
import { WebSocket } from "ws";
import { TEST_SECRET, tokenFor } from "../test/support/server.js";
import { DeviceProcess } from "./lib/child.js";
import { workerdRssMb } from "./workerd-memory.js";

const events = Number(process.argv[2] ?? 100_000);
const port = Number(process.argv[3] ?? 9331);
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
const worker = await unstable_startWorker({
  config: path.resolve(import.meta.dirname, "wrangler.bench.toml"),
  bindings: { TOKEN_SECRET: { type: "plain_text", value: TEST_SECRET } },
  dev: { persist: mkdtempSync(path.join(tmpdir(), "sv-heap-")), server: { hostname: "127.0.0.1", port: 0 }, inspector: { port }, watch: false, logLevel: "warn" },
});
await worker.ready;
const origin = (await worker.url).origin;

/** Heap usage of every isolate the inspector lists, beside workerd's RSS. */
async function measure(label: string): Promise<void> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as Array<{ webSocketDebuggerUrl: string; title: string }>;
  for (const target of targets) {
    const ws = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    let id = 0;
    const call = (method: string) =>
      new Promise<Record<string, number>>((resolve, reject) => {
        const mine = ++id;
        const timer = setTimeout(() => reject(new Error(`${method}: no answer`)), 5_000);
        ws.on("message", (data) => {
          const m = JSON.parse(String(data)) as { id?: number; result?: Record<string, number> };
          if (m.id === mine) {
            clearTimeout(timer);
            resolve(m.result ?? {});
          }
        });
        ws.send(JSON.stringify({ id: mine, method }));
      });
    await call("Runtime.enable");
    const usage = await call("Runtime.getHeapUsage");
    console.log(`${label.padEnd(22)} ${target.title}: JS heap ${(usage.usedSize! / 1e6).toFixed(1)} MB live of ${(usage.totalSize! / 1e6).toFixed(1)} MB allocated; workerd RSS ${workerdRssMb()} MB`);
    ws.close();
  }
}

await measure("idle");
const device = await DeviceProcess.start(["ours", path.join(mkdtempSync(path.join(tmpdir(), "sv-heap-db-")), "a.sqlite"), origin, await tokenFor("heap", "01936f3c-0000-7000-8000-000000000abd", "owner")]);
await device.send({ cmd: "queue", n: 1_000 });
await device.send({ cmd: "flush" });
await measure("after 1,000 events");
await device.send({ cmd: "queue", n: events });
await device.send({ cmd: "flush" });
await measure(`after ${events.toLocaleString("en-US")} more`);
await device.exit();
await worker.dispose();
