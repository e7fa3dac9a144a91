#!/usr/bin/env node
/**
 * Builds the browser client into client/dist: `index.js`, one ESM bundle of client/index.ts with
 * zod and the protocol inside (a web app imports it without our repository), and `*.d.ts` type
 * declarations from tsc (client/tsconfig.json: DOM and ES2023 only, so a Node API used by the client
 * fails the build). `--no-types` skips the declarations; `--outdir <dir>` builds elsewhere than
 * client/dist (test/node/client/package.test.ts); `--minify` minifies. `meta.json` lists what went
 * into the bundle (esbuild's metafile).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { BROWSER_BUNDLE } from "../scripts/browser-bundle.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const outdirAt = process.argv.indexOf("--outdir");
const dist = outdirAt > 0 ? path.resolve(process.argv[outdirAt + 1]) : path.join(here, "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
await build({
  entryPoints: [path.join(here, "index.ts")],
  outfile: path.join(dist, "index.js"),
  ...BROWSER_BUNDLE,
  sourcemap: true,
  minify: process.argv.includes("--minify"),
  metafile: true,
}).then((result) => writeFileSync(path.join(dist, "meta.json"), JSON.stringify(result.metafile)));
if (!process.argv.includes("--no-types")) {
  const tsc = path.join(here, "../node_modules/typescript/bin/tsc");
  // Declarations for the whole import graph land under dist/ mirroring the repository (client/,
  // protocol/, domain/, lib/); dist/index.d.ts re-exports the client's.
  execFileSync(process.execPath, [tsc, "-p", path.join(here, "tsconfig.json"), "--noEmit", "false", "--declaration", "--emitDeclarationOnly", "--outDir", path.join(dist, "types"), "--rootDir", path.join(here, "..")], { stdio: "inherit" });
  writeFileSync(path.join(dist, "index.d.ts"), 'export * from "./types/client/index.js";\n');
}
console.log(`client built: ${path.relative(process.cwd(), path.join(dist, "index.js"))}`);
