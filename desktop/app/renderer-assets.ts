/**
 * The renderer's files, as both hosts serve them: browser mode over HTTP and Electron over its
 * `studiovault://app/` protocol. One table, so the two cannot drift apart; nothing outside it is
 * served (no path from the URL ever reaches the file system).
 */
import path from "node:path";

export interface RendererAsset {
  file: string;
  contentType: string;
  /** What to do when the file is missing (the bundle is built, not committed). */
  missingHint?: string;
}

/**
 * The page's Content-Security-Policy: only the app's own script and styles, no inline script, no
 * network except the app's own origin (browser mode's API and event socket are on that origin).
 */
export const RENDERER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:*",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const TABLE: Record<string, { file: string[]; contentType: string; missingHint?: string }> = {
  "/": { file: ["index.html"], contentType: "text/html; charset=utf-8" },
  "/index.html": { file: ["index.html"], contentType: "text/html; charset=utf-8" },
  "/app.js": { file: ["dist", "app.js"], contentType: "text/javascript; charset=utf-8", missingHint: "run `npm run build:renderer` first" },
  "/app.js.map": { file: ["dist", "app.js.map"], contentType: "application/json; charset=utf-8", missingHint: "run `npm run build:renderer` first" },
  "/app.css": { file: ["app.css"], contentType: "text/css; charset=utf-8" },
};

/** The file behind a URL path, or null when the renderer has no such file. */
export function rendererAsset(rendererDir: string, pathname: string): RendererAsset | null {
  const entry = Object.hasOwn(TABLE, pathname) ? TABLE[pathname] : undefined;
  if (!entry) return null;
  return { file: path.join(rendererDir, ...entry.file), contentType: entry.contentType, ...(entry.missingHint ? { missingHint: entry.missingHint } : {}) };
}
