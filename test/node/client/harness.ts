/**
 * The browser client in a real Chromium against the real server under workerd. One harness per test
 * file: `const h = clientHarness()` starts the server and browser with the file's beforeAll.
 *
 * The page lives on the server's own origin (the Worker's routes have no CORS, as the dashboard
 * served by the Worker has none to need), and playwright answers `/__client-test/client.js` with
 * the client bundled exactly as client/build.mjs bundles it. In the page, `make(name, options)`
 * builds a BranchClient whose every event is recorded in `made[name].log`, for `page.evaluate`.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { build } from "esbuild";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../../support/chromium.js";
import { afterAll, beforeAll } from "vitest";
import type { ClientProblem, ClosedInfo, Observed, Poke, Watching, Welcome } from "../../../client/index.js";
import type { ChangesEvent, ClientState } from "../../../client/branch-client.js";
import { type LocalServer, startServer } from "../../support/server.js";

type Sv = typeof import("../../../client/index.js");

export interface Log {
  states: ClientState[];
  welcomes: Welcome[];
  changes: ChangesEvent[];
  pokes: Poke[];
  watching: Watching[];
  observed: Observed[];
  errors: ClientProblem[];
  closed: ClosedInfo[];
  /** WebSockets the client opened. */
  sockets: number;
  /** Every wait the client asked its timers for, in ms (unscaled), in order. */
  waits: number[];
}

/** What `make` takes from the test: only serializable values (functions are made in the page). */
export interface MakeOptions {
  server: string;
  branch: string;
  token: string;
  deviceId: string;
  installId: string;
  follow?: "all" | "live";
  cursor?: number;
  pullPageLimit?: number;
  /** The client's clock is the page's clock plus this (to show a skewed device). */
  clockOffsetMs?: number;
  /** Backoff jitter: a constant (0 → the shortest waits). */
  random?: number;
  protocolVersion?: number;
  /** The client's timers run this many times faster (heartbeat, pong deadline, backoff, status). */
  timeScale?: number;
}

declare global {
  interface Window {
    sv: Sv;
    made: Record<string, { client: InstanceType<Sv["BranchClient"]>; log: Log }>;
    make(name: string, options: MakeOptions): void;
  }
}

const root = path.resolve(import.meta.dirname, "../../..");

export interface ClientHarness {
  readonly server: LocalServer;
  /**
   * A fresh page with the client loaded and `make` defined: on the server's origin, or with
   * `{ crossOrigin: true }` on another origin (a web app of the studio's own, served from another
   * loopback port), which reaches the server's HTTP API only as CORS allows.
   */
  page(opts?: { crossOrigin?: boolean }): Promise<Page>;
}

/** The bundle of client/index.ts, as client/build.mjs makes it (in memory: test files run in parallel). */
async function bundle(): Promise<string> {
  const out = await build({
    entryPoints: [path.join(root, "client/index.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "warning",
  });
  return out.outputFiles[0]!.text;
}

export function clientHarness(): ClientHarness {
  let server: LocalServer | undefined;
  let browser: Browser | undefined;
  let code = "";
  const pages: Page[] = [];
  let site: Server | undefined;
  beforeAll(async () => {
    [server, browser, code] = await Promise.all([
      startServer(),
      launchChromium(),
      bundle(),
    ]);
  }, 90_000);
  afterAll(async () => {
    for (const p of pages) await p.close();
    if (site) await new Promise((resolve) => site!.close(resolve));
    await browser?.close();
    await server?.stop();
  }, 30_000);
  /** Another origin on loopback: a one-page site of the studio's own (started once, on first use). */
  const siteOrigin = async (): Promise<string> => {
    site ??= await new Promise<Server>((resolve) => {
      const s = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>A studio's own site</title>"));
      s.listen(0, "127.0.0.1", () => resolve(s));
    });
    return `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  };
  return {
    get server() {
      if (!server) throw new Error("the harness's server is not started (use it inside a test)");
      return server;
    },
    async page(opts = {}) {
      if (!browser || !server) throw new Error("the harness is not started (use it inside a test)");
      const origin = opts.crossOrigin ? await siteOrigin() : server.url.origin;
      const page = await browser.newPage();
      pages.push(page);
      // The document is a real answer of the server's (`/health`): Chromium's local-network checks
      // block a page that playwright made up from opening sockets to loopback. The bundle itself is
      // served by playwright on the same origin and imported by a module script the page runs (an
      // `import()` inside page.evaluate would be rewritten by vitest's transform).
      await page.route(`${origin}/__client-test/client.js`, (route) => route.fulfill({ status: 200, contentType: "text/javascript", body: code }));
      await page.goto(opts.crossOrigin ? `${origin}/` : `${origin}/health`);
      await page.addScriptTag({ type: "module", content: 'import * as sv from "/__client-test/client.js"; window.sv = sv;' });
      const pageErrors: string[] = [];
      page.on("pageerror", (e) => pageErrors.push(e.message));
      await page.waitForFunction(() => "sv" in window, undefined, { timeout: 10_000 }).catch((e: Error) => {
        throw new Error(`the client bundle did not load: ${pageErrors.join("; ") || e.message}`);
      });
      await page.evaluate(() => {
        window.made = {};
        window.make = (name, o) => {
          const log: Log = { states: [], welcomes: [], changes: [], pokes: [], watching: [], observed: [], errors: [], closed: [], sockets: 0, waits: [] };
          const Counted = class extends WebSocket {
            constructor(url: string | URL, protocols?: string | string[]) {
              super(url, protocols);
              log.sockets += 1;
            }
          };
          const client = new window.sv.BranchClient({
            server: o.server,
            branch: o.branch,
            token: o.token,
            deviceId: o.deviceId,
            installId: o.installId,
            app: "client-test/1",
            follow: o.follow,
            cursor: o.cursor,
            pullPageLimit: o.pullPageLimit,
            protocolVersion: o.protocolVersion,
            clock: () => Date.now() + (o.clockOffsetMs ?? 0),
            random: () => o.random ?? 0,
            WebSocket: Counted,
            timers: {
              setTimeout: (fn, ms) => {
                log.waits.push(ms);
                return setTimeout(fn, ms / (o.timeScale ?? 1));
              },
              clearTimeout: (handle) => clearTimeout(handle as number),
            },
          });
          client.on("state", (s) => log.states.push(s));
          client.on("welcome", (w) => log.welcomes.push(w));
          client.on("changes", (c) => log.changes.push(c));
          client.on("poke", (p) => log.pokes.push(p));
          client.on("watching", (w) => log.watching.push(w));
          client.on("observed", (w) => log.observed.push(w));
          client.on("error", (e) => log.errors.push(e));
          client.on("closed", (c) => log.closed.push(c));
          window.made[name] = { client, log };
        };
      });
      return page;
    },
  };
}

/** The recorded log of client `name` in `page`. */
export const logOf = (page: Page, name: string): Promise<Log> => page.evaluate((n) => window.made[n]!.log, name);
export const stateOf = (page: Page, name: string) => page.evaluate((n) => ({ state: window.made[n]!.client.state, closed: window.made[n]!.client.closed, cursor: window.made[n]!.client.cursor }), name);
