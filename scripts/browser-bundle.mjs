/**
 * What every browser bundle of this repository is built with (esbuild): the desktop's renderer
 * (scripts/build-renderer.mjs), the dashboard (scripts/build-dashboard.mjs) and the browser client
 * (client/build.mjs). One ESM file for the browsers Electron and Chromium ship, and for the two
 * Preact apps, Preact's automatic JSX.
 */
export const BROWSER_BUNDLE = { bundle: true, format: "esm", platform: "browser", target: "es2022", logLevel: "warning" };
export const PREACT_JSX = { jsx: "automatic", jsxImportSource: "preact" };
