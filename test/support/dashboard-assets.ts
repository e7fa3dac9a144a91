/**
 * Vitest global setup: the Worker serves the built dashboard as static assets (wrangler.toml
 * `[assets]`, dashboard/dist), and both workerd test paths (vitest-pool-workers and
 * `unstable_startWorker` in server.ts) refuse to start when that folder is missing. `npm test` builds
 * it first; this builds it (under a second) when a targeted `npx vitest run …` starts in a fresh
 * checkout where it was never built.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

export default function setup(): void {
  if (existsSync(path.join(root, "dashboard/dist/index.html"))) return;
  execFileSync(process.execPath, [path.join(root, "scripts/build-dashboard.mjs")], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
}
