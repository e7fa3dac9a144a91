/** A benchmark device in its own process (bench/clients/device.ts), driven over stdin/stdout. */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import type { Command } from "../clients/device.js";
import type { RaceCommand } from "../clients/race/race-device.js";

const ROOT = path.resolve(import.meta.dirname, "../..");

export interface Reply {
  stall_max_ms: number;
  peak_rss_mb: number;
  /** The process's CPU time so far (bench/lib/serve.ts). */
  cpu_ms: number;
  [key: string]: unknown;
}

export class DeviceProcess {
  readonly #pending: Array<{ resolve: (r: Reply) => void; reject: (e: Error) => void }> = [];
  #stderr = "";
  #exited: string | null = null;
  /** The reply the process gave once it was ready (its CPU time then: start-up, before any command). */
  ready: Reply = { stall_max_ms: 0, peak_rss_mb: 0, cpu_ms: 0 };

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    const lines = readline.createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      let reply: Reply;
      try {
        reply = JSON.parse(line) as Reply;
      } catch {
        return; // not ours (a library's log line)
      }
      this.#pending.shift()?.resolve(reply);
    });
    child.stderr.on("data", (d) => (this.#stderr = (this.#stderr + String(d)).slice(-4_000)));
    child.on("exit", (code, signal) => {
      this.#exited = `device process exited (${code ?? signal}): ${this.#stderr}`;
      for (const p of this.#pending.splice(0)) p.reject(new Error(this.#exited));
    });
  }

  /**
   * `ours <db> <server> <token>` or `baseline <server> <branch>` (bench/clients/device.ts), or a
   * race device (`script` bench/clients/race/main.ts, its usage there); resolves once it is ready.
   */
  static async start(args: string[], script = path.join("bench", "clients", "device.ts")): Promise<DeviceProcess> {
    // BENCH_PROFILE_DIR=dir writes a V8 CPU profile of every device process there (for finding hot spots).
    const profile = process.env.BENCH_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
    const child = spawn(process.execPath, [...profile, "--import", "tsx", path.join(ROOT, script), ...args], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    const device = new DeviceProcess(child);
    device.ready = await new Promise<Reply>((resolve, reject) => device.#pending.push({ resolve, reject }));
    return device;
  }

  send(command: Command | RaceCommand, timeoutMs = 600_000): Promise<Reply> {
    if (this.#exited) return Promise.reject(new Error(this.#exited));
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`device timed out on ${JSON.stringify(command)}`)), timeoutMs);
      this.#pending.push({
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.stdin.write(`${JSON.stringify(command)}\n`);
    });
  }

  async exit(): Promise<Reply> {
    const last = await this.send({ cmd: "exit" });
    this.child.stdin.end();
    // Let it end by itself (a CPU profile is written on the way out), then it is killed if it hangs.
    if (this.child.exitCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 15_000);
        this.child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return last;
  }
}
