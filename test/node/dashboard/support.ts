/**
 * The dashboard in a real browser, for tests: the real Worker under workerd serving the built
 * dashboard (wrangler.toml [assets]), Debian's Chromium driven by playwright-core, and devices of the
 * branch speaking the raw protocol over `ws` (named users, queues they report, pushes they await),
 * so every view shows what a real branch holds. Screenshots go to test-results/screenshots/dashboard/
 * at both sizes the dashboard is made for.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium } from "../../support/chromium.js";
import WebSocket from "ws";
import { afterAll, beforeAll } from "vitest";
import { zonedIso } from "../../../domain/clock.js";
import type { Role, SyncEvent } from "../../../domain/index.js";
import { signDeviceToken } from "../../../durable/auth.js";
import { PROTOCOL_VERSION, type ServerMessage, type Verdict } from "../../../protocol/index.js";
import type { DeviceClaims } from "../../../protocol/token.js";
import { idGenerator, makeEventFactory } from "../../support/events.js";
import { Inbox } from "../../support/inbox.js";
import { installIdOf, type LocalServer, startServer, TEST_SECRET } from "../../support/server.js";

const root = path.resolve(import.meta.dirname, "../../..");
export const SHOTS = path.join(root, "test-results/screenshots/dashboard");
/** The sizes the dashboard is made for (the acceptance). */
export const SIZES = [
  { width: 1280, height: 800 },
  { width: 1024, height: 700 },
] as const;

/** A device token signed with the test server's secret, for a named user. */
export function token(branch: string, device: string, role: Role, user: string, ttlS = 3600): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return signDeviceToken({ v: 1, branch, device, user, role, iat, exp: iat + ttlS } as DeviceClaims, TEST_SECRET);
}

/** A device of the branch on the raw protocol: hello (with its queue), pushes, status, close. */
export class RawDevice {
  readonly inbox = new Inbox();
  private readonly batchId = idGenerator(0xba7c4);
  private constructor(
    readonly ws: WebSocket,
    readonly device: string,
  ) {
    ws.on("message", (data) => this.inbox.frame(String(data)));
    ws.on("close", (code, reason) => this.inbox.close(code, String(reason)));
  }

  static async open(server: LocalServer, branch: string, device: string, role: Role, user: string, app: string, queue?: { pending: number; oldest_pending_age_ms: number | null }): Promise<RawDevice> {
    const url = new URL(`/v1/branches/${branch}/sync?token=${await token(branch, device, role, user)}`, server.url);
    url.protocol = "ws:";
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    const d = new RawDevice(ws, device);
    d.send({ type: "hello", protocol_version: PROTOCOL_VERSION, device_id: device, cursor: 0, app, install_id: installIdOf(device), clock_ms: Date.now(), ...(queue ? { queue } : {}) });
    await d.inbox.next("welcome", { skip: true });
    return d;
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  async push(...events: SyncEvent[]): Promise<Verdict[]> {
    this.send({ type: "push", batch_id: this.batchId(), events });
    return (await this.inbox.next("verdicts", { skip: true, timeoutMs: 15_000 })).verdicts;
  }

  status(cursor: number, pending: number, oldestAgeMs: number | null): void {
    this.send({ type: "status", cursor, queue: { pending, oldest_pending_age_ms: oldestAgeMs } });
  }

  async close(): Promise<void> {
    this.ws.close(1000, "done");
    await this.inbox.waitClosed().catch(() => undefined);
  }

  next<T extends ServerMessage["type"]>(type: T) {
    return this.inbox.next(type, { skip: true });
  }
}

export const DEVICES = {
  dashboard: "01936f3c-0000-7000-8000-0000000d0a5b",
  frontDesk: "01936f3c-0000-7000-8000-00000000fd01",
  studio: "01936f3c-0000-7000-8000-0000000057d2",
  till: "01936f3c-0000-7000-8000-00000000c7a3",
} as const;

export interface Seeded {
  project: string;
  conflictEvent: string;
  dependentEvent: string;
  sales: string[];
  frontDesk: RawDevice;
  studio: RawDevice;
}

/**
 * A branch with something in every view: a manager's front desk (a project, three sales, a void
 * with its reason, an update that wins), a studio laptop whose stale edit is refused
 * (version_conflict) with a second edit that depended on it (depends_on_rejected), and a cashier's
 * till that tries a void (permission_denied), reports a backlog of 4 and goes offline.
 */
export async function seedBranch(server: LocalServer, branch: string, seed = 7): Promise<Seeded> {
  const f = makeEventFactory(seed);
  const nowMs = Date.now();
  const rung = (agoMs: number) => zonedIso(nowMs - agoMs, "Asia/Colombo");
  const saleEvent = (device: string, receipt: string, amountMinor: number, agoMs: number, method: "cash" | "card" = "card") =>
    f.event(device, "pos_order", f.nextId(), "create", {
      kind: "sale",
      local_receipt_no: receipt,
      corrects_order_id: null,
      reason: null,
      currency: "LKR",
      lines: [{ sku: null, description: "Portrait print A4", quantity: 1, unit_price_minor: amountMinor }],
      total_minor: amountMinor,
      payment: method === "cash" ? { method, tendered_minor: amountMinor, change_minor: 0 } : { method, tendered_minor: null, change_minor: null },
      rung_at: rung(agoMs),
      cashier: "nimal",
    });
  const frontDesk = await RawDevice.open(server, branch, DEVICES.frontDesk, "manager", "nimal", "studiovault-desktop/0.9.0");
  const project = f.nextId();
  const sales = [saleEvent(DEVICES.frontDesk, "FD-000001", 450_000, 26 * 3_600_000), saleEvent(DEVICES.frontDesk, "FD-000002", 1_250_000, 2 * 3_600_000), saleEvent(DEVICES.frontDesk, "FD-000003", 180_000, 3_600_000, "cash")];
  const created = await frontDesk.push(f.createProject(DEVICES.frontDesk, project, "Perera wedding"), ...sales);
  if (created.some((v) => v.status !== "confirmed")) throw new Error(`seeding refused: ${JSON.stringify(created.filter((v) => v.status !== "confirmed")).slice(0, 600)}`);
  const voided = await frontDesk.push(f.event(DEVICES.frontDesk, "pos_order", sales[1]!.entity_id, "void", { reason: "Customer changed their mind" }, { base: 1 }));
  if (voided[0]?.status !== "confirmed") throw new Error(`void refused: ${JSON.stringify(voided)}`);
  const won = await frontDesk.push(f.updateProject(DEVICES.frontDesk, project, { title: "Perera wedding (final)", location: "Mount Lavinia Hotel" }, { base: 1 }));
  if (won[0]?.status !== "confirmed") throw new Error(`update refused: ${JSON.stringify(won)}`);

  const studio = await RawDevice.open(server, branch, DEVICES.studio, "staff", "kamala", "studiovault-desktop/0.9.0");
  const stale = f.updateProject(DEVICES.studio, project, { location: "Galle Face Hotel", notes: "Moved to the evening" }, { base: 1 });
  const dependent = f.updateProject(DEVICES.studio, project, { status: "booked" }, { base: null, dep: stale.id });
  const refused = await studio.push(stale, dependent);
  if (refused.some((v) => v.status !== "rejected")) throw new Error(`expected two rejections: ${JSON.stringify(refused).slice(0, 400)}`);

  const till = await RawDevice.open(server, branch, DEVICES.till, "cashier", "ruwan", "studiovault-desktop/0.8.2", { pending: 2, oldest_pending_age_ms: 30_000 });
  const denied = await till.push(f.event(DEVICES.till, "pos_order", sales[0]!.entity_id, "void", { reason: "Wrong frame" }, { base: 1 }));
  if (denied[0]?.status !== "rejected") throw new Error(`expected the cashier's void refused: ${JSON.stringify(denied)}`);
  till.status(0, 4, 90_000);
  // The status must reach the branch before the till goes.
  await till.push(saleEvent(DEVICES.till, "TL-000001", 95_000, 30 * 60_000, "cash"));
  await till.close();
  return { project, conflictEvent: stale.id, dependentEvent: dependent.id, sales: sales.map((s) => s.entity_id), frontDesk, studio };
}

export interface DashboardHarness {
  readonly server: LocalServer;
  readonly browser: Browser;
  /** A fresh browser profile (its own localStorage) with a page at 1280×800. */
  open(): Promise<{ context: BrowserContext; page: Page }>;
  /** `<name>-1280.png` and `<name>-1024.png`, full page, then back to 1280×800. */
  shot(page: Page, name: string): Promise<void>;
}

/** `vars`: plain-text bindings for the server (startServer), e.g. COMPACTION_* to compact at once. */
export function dashboardHarness(vars: Record<string, string> = {}): DashboardHarness {
  let server: LocalServer | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startServer(undefined, 0, undefined, vars);
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await server?.stop();
  }, 30_000);
  const ready = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`the dashboard harness's ${what} is not started`);
    return v;
  };
  return {
    get server() {
      return ready(server, "server");
    },
    get browser() {
      return ready(browser, "browser");
    },
    async open() {
      // The branch's time zone (Asia/Colombo) is what the dashboard shows; the browser's is set far from it.
      const context = await ready(browser, "browser").newContext({ viewport: SIZES[0], timezoneId: "America/Los_Angeles", locale: "en-US" });
      contexts.push(context);
      return { context, page: await context.newPage() };
    },
    async shot(page, name) {
      for (const size of SIZES) {
        await page.setViewportSize(size);
        // uPlot follows its container's width (ResizeObserver): let it redraw.
        await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
        await page.screenshot({ path: path.join(SHOTS, `${name}-${size.width}.png`), fullPage: true });
      }
      await page.setViewportSize(SIZES[0]);
    },
  };
}
