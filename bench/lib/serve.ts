/**
 * The device side of bench/lib/child.ts: one JSON command per stdin line, handled one at a time in
 * order, one JSON reply per command on stdout carrying the longest event-loop stall seen while it
 * ran, the process's peak RSS so far and its CPU time so far (user + system, every thread: `ws`'s
 * deflate runs on libuv's pool). `exit` closes the device, answers and ends the process.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import readline from "node:readline";

/** The process's CPU time so far, in ms (user + system, all threads). */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return Math.round((user + system) / 1000);
}

export async function serveCommands<C extends { cmd: string }>(handle: (command: C) => Promise<object>, close: () => void): Promise<void> {
  const stall = monitorEventLoopDelay({ resolution: 5 });
  stall.enable();
  const reply = (value: object): void => {
    process.stdout.write(`${JSON.stringify({ ...value, stall_max_ms: Math.round(stall.max / 1e6), peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024), cpu_ms: cpuMs() })}\n`);
  };
  reply({ ready: true });
  let chain = Promise.resolve();
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const command = JSON.parse(line) as C;
    chain = chain.then(async () => {
      stall.reset();
      if (command.cmd === "exit") {
        close();
        reply({ done: true });
        process.exit(0);
      }
      reply(await handle(command));
    });
  }
}
