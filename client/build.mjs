#!/usr/bin/env node
/**
 * Builds the browser client into client/dist: `index.js`, one ESM bundle of client/index.ts with
 * zod and the protocol inside (a web app imports it without our repository), and `*.d.ts` type
 * declarations from tsc (client/tsconfig.json: DOM and ES2023 only, so a Node API used by the client
 * fails the build). `--no-types` skips the declarations (the Chromium tests need only the bundle).
 */
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, "dist");
rmSync(dist, { recursive: true, force: true });
await build({
  entryPoints: [path.join(here, "index.ts")],
  outfile: path.join(dist, "index.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  sourcemap: true,
  minify: process.argv.includes("--minify"),
  logLevel: "warning",
});
if (!process.argv.includes("--no-types")) {
  const tsc = path.join(here, "../node_modules/typescript/bin/tsc");
  // Declarations for the whole import graph land under dist/ mirroring the repository (client/,
  // protocol/, domain/, lib/); dist/index.d.ts re-exports the client's.
  execFileSync(process.execPath, [tsc, "-p", path.join(here, "tsconfig.json"), "--noEmit", "false", "--declaration", "--emitDeclarationOnly", "--outDir", path.join(dist, "types"), "--rootDir", path.join(here, "..")], { stdio: "inherit" });
  const { writeFileSync } = await import("node:fs");
  writeFileSync(path.join(dist, "index.d.ts"), 'export * from "./types/client/index.js";\n');
}
console.log("client built: client/dist/index.js");
