/** RSS of the workerd processes this process started (wrangler's local runtime), in MB. */
import { execFileSync } from "node:child_process";

export function workerdRssMb(): number {
  const out = execFileSync("ps", ["-eo", "pid=,ppid=,rss=,comm="], { encoding: "utf8" });
  const rows = out.trim().split("\n").map((l) => l.trim().split(/\s+/));
  const mine = new Set([String(process.pid)]);
  for (let changed = true; changed; ) {
    changed = false;
    for (const [pid, ppid] of rows) {
      if (!mine.has(pid!) && mine.has(ppid!)) {
        mine.add(pid!);
        changed = true;
      }
    }
  }
  let totalKb = 0;
  for (const [pid, , rss, comm] of rows) if (mine.has(pid!) && comm?.includes("workerd")) totalKb += Number(rss);
  return Math.round(totalKb / 1024);
}

/** Samples workerdRssMb() every 100 ms until `stop()`, which returns the peak (MB) seen, including now. */
export function sampleWorkerdPeak(): { readonly start: number; stop(): number } {
  const start = workerdRssMb();
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, workerdRssMb())), 100);
  return {
    start,
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, workerdRssMb());
    },
  };
}
