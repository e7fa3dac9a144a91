/**
 * The desktop app in a real browser, for tests: Debian's Chromium driven by playwright-core against
 * browser mode (the same core Electron hosts) and the real local server. One harness per test file:
 * `const ui = uiHarness("money")` registers the server and browser with the file's beforeAll and
 * afterAll, and every app it opens is closed with it. Screenshots go to
 * test-results/screenshots/<name>/ (not committed).
 */
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "./chromium.js";
import { afterAll, beforeAll, expect } from "vitest";
import { DesktopCore } from "../../desktop/app/core.js";
import { type BrowserBridge, startBrowserBridge } from "../../desktop/browser/server.js";
import type { Role } from "../../domain/index.js";
import { type Desktop, desktop } from "./e2e.js";
import { type LocalServer, startServer } from "./server.js";

const root = path.resolve(import.meta.dirname, "../..");
const AXE = path.join(root, "node_modules/axe-core/axe.min.js");

export interface UiApp {
  page: Page;
  d: Desktop;
  core: DesktopCore;
  bridge: BrowserBridge;
}

export interface UiHarness {
  readonly server: LocalServer;
  readonly browser: Browser;
  /** A device's app in a browser page: store + core + browser bridge, closed with the harness. */
  app(branch: string, device: string, role: Role, seed: number, opts?: { nowMs?: number }): Promise<UiApp>;
  /** A page on a core the test built itself (its own clock, timers or store), closed with the harness. */
  page(core: DesktopCore, store: { close(): void }): Promise<Page>;
  /** A full-page screenshot `<name>.png` in this file's folder. */
  shot(page: Page, name: string): Promise<void>;
  /** Closes something with the harness (in registration order, before the browser and server). */
  onClose(fn: () => unknown): void;
}

export function uiHarness(shots: string): UiHarness {
  const dir = path.join(root, "test-results/screenshots", shots);
  const cleanups: Array<() => unknown> = [];
  let server: LocalServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    server = await startServer();
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    // In registration order: each app closes its page, then its bridge, engine and store.
    for (const c of cleanups) await c();
    await browser?.close();
    await server?.stop();
  }, 30_000);
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the UI harness's ${what} is not started (use it inside a test)`);
    return value;
  };
  const open = async (core: DesktopCore, store: { close(): void }) => {
    const bridge = await startBrowserBridge(core);
    const page = await ready(browser, "browser").newPage({ viewport: { width: 1280, height: 860 } });
    cleanups.push(() => page.close(), () => bridge.close(), () => core.stop(), () => store.close());
    await page.goto(bridge.url);
    await page.getByRole("status", { name: "Sync state" }).waitFor();
    return { page, bridge };
  };
  return {
    get server() {
      return ready(server, "server");
    },
    get browser() {
      return ready(browser, "browser");
    },
    async app(branch, device, role, seed, opts = {}) {
      const d = await desktop(ready(server, "server"), branch, device, role, seed, opts);
      const core = new DesktopCore(d.store);
      const { page, bridge } = await open(core, d.store);
      return { page, d, core, bridge };
    },
    async page(core, store) {
      return (await open(core, store)).page;
    },
    async shot(page, name) {
      await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
    },
    onClose(fn) {
      cleanups.push(fn);
    },
  };
}

/** Opens one of the app's screens from its navigation. */
export const openScreen = (page: Page, name: string) => page.getByRole("navigation", { name: "Screens" }).getByRole("button", { name }).click();

/** axe-core on the whole page: no serious or critical violation (`state` names the state in a failure). */
export async function expectAccessible(page: Page, state: string): Promise<void> {
  // Evaluated, not added as a <script>: the app's Content-Security-Policy (script-src 'self') refuses inline scripts.
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(readFileSync(AXE, "utf8"));
  const violations = await page.evaluate(async () => {
    const result = await (window as unknown as { axe: { run: (c: Document) => Promise<{ violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: unknown }> }> }> } }).axe.run(document);
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
  expect(violations.filter((v) => v.impact === "serious" || v.impact === "critical"), state).toEqual([]);
}
