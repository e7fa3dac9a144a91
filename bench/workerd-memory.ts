/** RSS and CPU time of the workerd processes this process started (wrangler's local runtime). */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** [pid, rss KB] of every workerd process descending from this one. */
function workerdProcesses(): Array<[pid: string, rssKb: number]> {
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
  return rows.filter(([pid, , , comm]) => mine.has(pid!) && comm?.includes("workerd")).map(([pid, , rss]) => [pid!, Number(rss)]);
}

export function workerdRssMb(): number {
  return Math.round(workerdProcesses().reduce((kb, [, rss]) => kb + rss, 0) / 1024);
}

/** Bytes per memory page (`getconf PAGESIZE`), the unit of /proc/<pid>/statm. */
const PAGE_BYTES = Number(execFileSync("getconf", ["PAGESIZE"], { encoding: "utf8" }).trim()) || 4096;

/** The resident set of a /proc/<pid>/statm line in KB (its second field, in pages): what `ps` calls rss. */
export function rssKbOfStatm(statm: string, pageBytes = PAGE_BYTES): number {
  return (Number(statm.split(" ")[1]) * pageBytes) / 1024;
}

/** Clock ticks per second of /proc's times (`getconf CLK_TCK`; 100 on Linux nearly always). */
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/**
 * CPU seconds (user + system, all threads) the workerd processes have used so far, from
 * /proc/<pid>/stat: the difference of two readings is workerd's CPU during what ran between them.
 */
export function workerdCpuSeconds(): number {
  let ticks = 0;
  for (const [pid] of workerdProcesses()) {
    try {
      ticks += cpuTicksOfStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
      // The process ended between ps and the read: it has no time left to count.
    }
  }
  return ticks / CLK_TCK;
}

/** utime + stime (fields 14 and 15) of a /proc/<pid>/stat line; the name in parentheses may hold spaces. */
export function cpuTicksOfStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state), so field k is fields[k - 3].
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * Samples workerd's RSS every 100 ms until `stop()`, which returns the peak (MB) seen, including now.
 * Each sample reads /proc/<pid>/statm of the workerd processes; which processes those are is asked of
 * `ps` once a second (and after one ended). Running `ps` for every sample cost about 12 ms of CPU
 * each (its fork, exec and walk of /proc), about 6% of this 2-core machine while a benchmark ran.
 */
export function sampleWorkerdPeak(): { readonly start: number; stop(): number } {
  const start = workerdRssMb();
  let peak = start;
  let pids: string[] = [];
  let tick = 0;
  const sample = (): number => {
    if (tick++ % 10 === 0) pids = workerdProcesses().map(([pid]) => pid);
    let kb = 0;
    for (const pid of pids) {
      try {
        kb += rssKbOfStatm(readFileSync(`/proc/${pid}/statm`, "utf8"));
      } catch {
        tick = 0; // it ended: ask ps again at the next sample
      }
    }
    return Math.round(kb / 1024);
  };
  const timer = setInterval(() => (peak = Math.max(peak, sample())), 100);
  return {
    start,
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, workerdRssMb());
    },
  };
}

/**
 * Waits until workerd has done what a workload set off after its last frame, so that its CPU and
 * peak memory are counted with the workload: a snapshot export due at 10,000 commits waits for the
 * branch to be quiet for EXPORT_QUIET_MS (durable/core/snapshot-schedule.ts) and then runs. First
 * that long, then until a second passes with (almost) no workerd CPU.
 */
export async function untilWorkerdIdles(quietMs: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, quietMs + 500));
  for (let last = workerdCpuSeconds(); ; ) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const now = workerdCpuSeconds();
    if (now - last < 0.02) return;
    last = now;
  }
}
