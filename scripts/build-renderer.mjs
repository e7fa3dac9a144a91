#!/usr/bin/env node
/** Bundles the Preact renderer (desktop/renderer/main.tsx) into desktop/renderer/dist/app.js. */
import { build } from "esbuild";
import { BROWSER_BUNDLE, PREACT_JSX } from "./browser-bundle.mjs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
await build({
  entryPoints: [path.join(root, "desktop/renderer/main.tsx")],
  outfile: path.join(root, "desktop/renderer/dist/app.js"),
  ...BROWSER_BUNDLE,
  ...PREACT_JSX,
  sourcemap: true,
  minify: process.argv.includes("--minify"),
});
console.log("renderer built: desktop/renderer/dist/app.js");
