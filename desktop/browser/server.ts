/**
 * Browser mode: the same main-process core serves the same renderer over HTTP and a WebSocket on
 * loopback, so the app runs in any browser (and in browser tests) with the API Electron's preload
 * gives it. A key, required on every call, keeps other local web pages out: random per bridge by
 * default, or the database's own (key.ts) so that the printed link survives a restart.
 */
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocketServer } from "ws";
import { parseApiRequest } from "../app/api.js";
import type { DesktopCore } from "../app/core.js";
import { RENDERER_CSP, rendererAsset } from "../app/renderer-assets.js";
import { BROWSER_KEY, newBrowserKey } from "./key.js";

const RENDERER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../renderer");
/** A Smart Select of 50,000 items is a few MB; requests above this are refused. */
const MAX_REQUEST_BYTES = 32 * 1024 * 1024;

export interface BrowserBridge {
  url: string;
  close(): Promise<void>;
}

/** `key`: the access key (browserKeyFor(db) keeps one per database); default: a new random one. */
export async function startBrowserBridge(core: DesktopCore, opts: { port?: number; key?: string } = {}): Promise<BrowserBridge> {
  const key = opts.key ?? newBrowserKey();
  if (!BROWSER_KEY.test(key)) throw new Error(`browser key: expected 32 hex digits, received ${key.length} characters`);
  const server = createServer((req, res) => {
    route(core, key, req, res).catch((error: unknown) => send(res, 500, { error: "internal", message: String(error) }));
  });
  const sockets = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== "/events" || url.searchParams.get("key") !== key) {
      socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => {
      const unsubscribe = core.subscribe((event) => ws.send(JSON.stringify(event)));
      ws.send(JSON.stringify({ type: "status", status: core.status() }));
      ws.on("close", unsubscribe);
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/?key=${key}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of sockets.clients) ws.terminate();
        sockets.close();
        server.close(() => resolve());
        // A browser keeps idle keep-alive connections open; they must not hold the close up.
        server.closeAllConnections();
      }),
  };
}

async function route(core: DesktopCore, key: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const asset = req.method === "GET" ? rendererAsset(RENDERER, url.pathname) : null;
  if (asset) return file(res, asset.file, asset.contentType, asset.missingHint);
  if (req.method === "POST" && url.pathname === "/api") {
    // The renderer shows "This link is out of date" on a 403 (desktop/renderer/client.ts).
    if (req.headers["x-studiovault-key"] !== key) return send(res, 403, { error: "forbidden", message: "missing or wrong app key: this link is out of date, open the link printed by the app" });
    const body = await readBody(req);
    if (body === null) return send(res, 413, { error: "too_large", message: `requests are limited to ${MAX_REQUEST_BYTES} bytes` });
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return send(res, 400, { error: "bad_request", message: "the request is not JSON" });
    }
    const request = parseApiRequest(json);
    if (!request.ok) return send(res, 400, { error: "bad_request", message: request.error });
    return send(res, 200, await core.handle(request.value));
  }
  return send(res, 404, { error: "not_found", message: `no ${req.method} ${url.pathname}` });
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function file(res: ServerResponse, file: string, type: string, hint?: string): Promise<void> {
  try {
    const body = await readFile(file);
    res.writeHead(200, { "content-type": type, "cache-control": "no-store", "content-security-policy": RENDERER_CSP, "x-content-type-options": "nosniff" });
    res.end(body);
  } catch {
    send(res, 500, { error: "missing_file", message: `${path.basename(file)} is missing${hint ? `: ${hint}` : ""}` });
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}
