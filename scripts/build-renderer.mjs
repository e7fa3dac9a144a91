#!/usr/bin/env node
/** Bundles the Preact renderer (desktop/renderer/main.tsx) into desktop/renderer/dist/app.js. */
import { build } from "esbuild";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
await build({
  entryPoints: [path.join(root, "desktop/renderer/main.tsx")],
  outfile: path.join(root, "desktop/renderer/dist/app.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  jsx: "automatic",
  jsxImportSource: "preact",
  sourcemap: true,
  minify: process.argv.includes("--minify"),
  logLevel: "warning",
});
console.log("renderer built: desktop/renderer/dist/app.js");
