#!/usr/bin/env node
/**
 * Builds the dashboard (dashboard/main.tsx, a Preact app) into dashboard/dist, the folder the Worker
 * serves as static assets (wrangler.toml `[assets]`): index.html, favicon.svg, app.js (one ESM bundle with uPlot),
 * app.css (uPlot's stylesheet, then ours) and `_headers`, the security headers of every asset
 * (Workers static assets read it and never serve it). No inline script or style anywhere, so the
 * Content-Security-Policy below can forbid both.
 */
import { build } from "esbuild";
import { BROWSER_BUNDLE, PREACT_JSX } from "./browser-bundle.mjs";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const src = path.join(root, "dashboard");
const out = path.join(src, "dist");

/**
 * The page may load only its own files and talk only to its own origin (the Worker's HTTP API and
 * its WebSocket: `connect-src 'self'` covers ws:/wss: of the same host); charts are canvas, icons
 * none, so `img-src` needs only data: (uPlot draws nothing from URLs). No framing, no <base>, no
 * form posts (every form is handled in script).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

const HEADERS = `# Every asset of the dashboard (Workers static assets' _headers; written by scripts/build-dashboard.mjs).
/*
  Content-Security-Policy: ${CONTENT_SECURITY_POLICY}
  X-Content-Type-Options: nosniff
  Referrer-Policy: no-referrer
  X-Frame-Options: DENY
  Cross-Origin-Opener-Policy: same-origin
`;

const started = performance.now();
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [path.join(src, "main.tsx")],
  outfile: path.join(out, "app.js"),
  ...BROWSER_BUNDLE,
  ...PREACT_JSX,
  minify: !process.argv.includes("--no-minify"),
  sourcemap: process.argv.includes("--sourcemap"),
  legalComments: "linked",
});
const uplotCss = readFileSync(path.join(root, "node_modules/uplot/dist/uPlot.min.css"), "utf8");
writeFileSync(path.join(out, "app.css"), `${uplotCss}\n${readFileSync(path.join(src, "app.css"), "utf8")}`);
for (const file of ["index.html", "favicon.svg"]) copyFileSync(path.join(src, file), path.join(out, file));
writeFileSync(path.join(out, "_headers"), HEADERS);
console.log(`dashboard built: dashboard/dist (${Math.round(performance.now() - started)} ms)`);
