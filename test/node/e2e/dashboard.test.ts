/**
 * The acceptance test of the dashboard (issue 15): three real desktops (LocalStore + SyncEngine on
 * SQLite files) against the real Worker and branch Durable Object under workerd, and the dashboard
 * the Worker serves at `/`, in real Chromium, signed in as the branch's owner. The desktops make
 * conflicts (two devices edit one project; an edit of a project deleted meanwhile, and the edit that
 * depended on it: a depends_on_rejected chain), a POS sale voided by a manager, and a till that goes
 * offline, rings 20 sales and comes back. The dashboard must show each.
 *
 * How long each took to show is measured, not asserted: a MutationObserver in the page records
 * Date.now() when the expected text first appears, against the moment it happened in the test
 * (a verdict received by the device, the connection cut, the reconnect); both clocks are this
 * machine's. Figures: test-results/dashboard-latency.json. Screenshots of every view, at 1280×800
 * and 1024×700: test-results/screenshots/dashboard-e2e/ (not committed).
 *
 * Needs the dashboard built (`npm test` builds it; alone: `node scripts/build-dashboard.mjs`).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../../support/chromium.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStore } from "../../../desktop/store/local-store.js";
import { newProject } from "../../../desktop/renderer/defaults.js";
import { type Desktop, desktop, waitUntil } from "../../support/e2e.js";
import { type LocalServer, startServer, tokenFor } from "../../support/server.js";

const root = path.resolve(import.meta.dirname, "../../..");
const SHOTS = path.join(root, "test-results/screenshots/dashboard-e2e");
const LATENCY = path.join(root, "test-results/dashboard-latency.json");

const MANAGER = "01936f3c-0000-7000-8000-0000000e2e01";
const STAFF = "01936f3c-0000-7000-8000-0000000e2e02";
const TILL = "01936f3c-0000-7000-8000-0000000e2e03";
const DASHBOARD = "01936f3c-0000-7000-8000-0000000e2e0d";
const OTHER_TILL = "01936f3c-0000-7000-8000-0000000e2e13";
const DASHBOARD_OTHER = "01936f3c-0000-7000-8000-0000000e2e1d";

let server: LocalServer;
let browser: Browser;
const open: Desktop[] = [];
const branch = `dash-e2e-${Date.now().toString(36)}`;
const otherBranch = `${branch}-b`;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await startServer();
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  open.forEach((d) => d.close());
  await browser?.close();
  await server?.stop();
}, 30_000);

// ───────────────────────────── the desktops ─────────────────────────────

/**
 * A desktop on `b`, syncing. Its clock is this machine's at the start, fixed: the dashboard's default
 * money range is the last days of the server's clock, and the sales must fall in it whatever the date.
 */
async function device(b: string, id: string, role: "manager" | "staff" | "cashier", seed: number): Promise<Desktop> {
  const d = await desktop(server, b, id, role, seed, { nowMs: Date.now() });
  open.push(d);
  d.start();
  return d;
}

const ok = <T,>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T => {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};

function sale(store: LocalStore, amountMinor = 150_000): string {
  return ok(store.posSale({ currency: "LKR", lines: [{ sku: null, description: "Prints", quantity: 1, unit_price_minor: amountMinor }], method: "cash", tendered_minor: null })).entity.entity_id;
}

/**
 * When the device holds a verdict for `eventId`: the machine's clock read in the engine's own status
 * callback (it runs as the session reports the verdicts applied), so no polling delay is measured.
 */
function verdictReceived(d: Desktop, eventId: string, status: "confirmed" | "rejected"): Promise<number> {
  const decided = () => d.store.queue({ status, limit: 500, newest_first: true }).events.some((e) => e.event_id === eventId);
  return new Promise((resolve) => {
    if (decided()) return resolve(Date.now());
    const unsubscribe = d.engine.subscribe(() => {
      if (!decided()) return;
      const at = Date.now();
      unsubscribe();
      resolve(at);
    });
  });
}

const drained = (...ds: Desktop[]) => Promise.all(ds.map((d) => d.engine.untilDrained(30_000)));

// ───────────────────────────── the dashboard page ─────────────────────────────

/**
 * What the page must show: some element matching `selector` whose text includes every string of
 * `includes` (and matches `pattern`, when given). Data, not code: the dashboard's CSP forbids eval.
 */
interface Check {
  selector: string;
  includes: string[];
  pattern?: string;
}

/** DOM checks. */
const dom = {
  /** A row of the rejections table names the record (its short id) and the code in words. */
  rejectionRow: (entityId: string, codeWords: string): Check => ({ selector: '[data-testid="rejections-table"] tbody tr', includes: [`…${entityId.slice(-6)}`, codeWords] }),
  /** The voids table lists a void with this reason. */
  voidRow: (reason: string): Check => ({ selector: '[data-testid="voids-table"] tbody tr', includes: [reason] }),
  /** The device's row. */
  deviceRow: (deviceId: string, includes: string[]): Check => ({ selector: `tr[data-device="${deviceId}"]`, includes }),
  /** The device's "Waiting to send" cell (the fifth after the row's header) matches `pattern`. */
  deviceQueue: (deviceId: string, pattern: string): Check => ({ selector: `tr[data-device="${deviceId}"] td:nth-of-type(5)`, includes: [], pattern }),
};

type Recorder = { __sv: { expect(name: string, check: Check): boolean; holds(check: Check): boolean; seen: Record<string, number> } };

/**
 * Installs the latency recorder: `__sv.expect(name, check)` registers a check; after every mutation
 * each open check runs, and the first time it holds, Date.now() is kept. A check that already holds
 * when registered is refused: it would measure nothing.
 */
async function installRecorder(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as Recorder;
    if (w.__sv) return;
    const holds = (c: Check) =>
      Array.from(document.querySelectorAll(c.selector)).some((el) => {
        const text = el.textContent ?? "";
        return c.includes.every((s) => text.includes(s)) && (c.pattern === undefined || new RegExp(c.pattern).test(text));
      });
    const open = new Map<string, Check>();
    const seen: Record<string, number> = {};
    new MutationObserver(() => {
      for (const [name, check] of open) {
        if (!holds(check)) continue;
        seen[name] = Date.now();
        open.delete(name);
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    w.__sv = {
      seen,
      holds,
      expect: (name, check) => {
        if (holds(check)) return false;
        open.set(name, check);
        return true;
      },
    };
  });
}

interface Happening {
  happening: string;
  view: string;
  /** What "happened" is measured from. */
  from: string;
  latency_ms: number;
}
const latencies: Happening[] = [];

/** Starts watching for `check` under `name`; it must not hold yet. */
async function watchFor(page: Page, name: string, check: Check): Promise<void> {
  const registered = await page.evaluate(([n, c]) => (window as unknown as Recorder).__sv.expect(n, c), [name, check] as const);
  expect(registered, `${name}: the dashboard showed it before it happened`).toBe(true);
}

/** Waits until the page saw `name`, and records how long after `happenedAt` (this machine's clock, ms). */
async function seen(page: Page, name: string, view: string, from: string, happenedAt: number): Promise<void> {
  await page.waitForFunction((n) => (window as unknown as Recorder).__sv.seen[n] !== undefined, name, { timeout: 15_000 }).catch(async (error: unknown) => {
    // Say what the page showed instead.
    const shown = await page.evaluate(() => document.querySelector('[role="tabpanel"]')?.textContent?.slice(0, 2_000) ?? "");
    throw new Error(`${name}: not shown within 15 s (${String(error)}); the view showed: ${shown}`);
  });
  const seenAt = await page.evaluate((n) => (window as unknown as Recorder).__sv.seen[n]!, name);
  latencies.push({ happening: name, view, from, latency_ms: Math.max(0, seenAt - happenedAt) });
}

/** One happening: watch for `check`, run `act` (resolving to when it happened), and record the latency. */
async function measure(page: Page, name: string, view: string, from: string, check: Check, act: () => Promise<number>): Promise<void> {
  await watchFor(page, name, check);
  await seen(page, name, view, from, await act());
}

async function tab(page: Page, name: string): Promise<void> {
  await page.getByRole("tab", { name }).click();
  await page.getByRole("tab", { name, selected: true }).waitFor();
}

/** Full-page screenshots of what is on screen, at both sizes the dashboard is made for. */
async function shots(page: Page, name: string): Promise<void> {
  for (const size of [{ width: 1280, height: 800 }, { width: 1024, height: 700 }]) {
    await page.setViewportSize(size);
    await page.waitForTimeout(150); // charts resize on the next frame
    await page.screenshot({ path: path.join(SHOTS, `${name}-${size.width}x${size.height}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

// ───────────────────────────── the test ─────────────────────────────

describe("the dashboard shows what three desktops do, live", () => {
  it("conflicts, a chain of depends_on_rejected, a void, and a till offline with a backlog; each measured, every view photographed", async () => {
    const manager = await device(branch, MANAGER, "manager", 11);
    const staff = await device(branch, STAFF, "staff", 12);
    const till = await device(branch, TILL, "cashier", 13);
    const wedding = ok(manager.store.createProject(newProject("Perera wedding", "Anusha Perera"))).entity.entity_id;
    const portraits = ok(manager.store.createProject(newProject("Silva portraits", "Kamal Silva"))).entity.entity_id;
    manager.engine.notifyWrite();
    await drained(manager, staff, till);
    await waitUntil("the staff desktop has both projects", () => staff.store.get(wedding) !== null && staff.store.get(portraits) !== null);

    // A second branch, so the owner's overview has two side by side.
    const other = await device(otherBranch, OTHER_TILL, "cashier", 21);
    sale(other.store, 90_000);
    other.engine.notifyWrite();
    await drained(other);

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    const token = await tokenFor(branch, DASHBOARD, "owner");
    await page.goto(new URL(`/#branch=${branch}&token=${token}`, server.url).href);
    await page.getByTestId("devices-table").waitFor();
    await installRecorder(page);
    await page.waitForFunction((c) => (window as unknown as Recorder).__sv.holds(c), dom.deviceRow(TILL, ["Connected"]));
    await shots(page, "01-devices");

    // ── Conflicts: two devices edit one project (the staff desktop offline meanwhile).
    await tab(page, "Conflicts");
    staff.engine.setOnline(false);
    const staleEdit = ok(staff.store.updateProject(wedding, { title: "Perera wedding (staff's title)" })).event.id;
    ok(manager.store.updateProject(wedding, { title: "Perera wedding, Galle Face" }));
    manager.engine.notifyWrite();
    await drained(manager);
    await measure(page, "version conflict: two devices edit one project", "Conflicts", "the staff desktop received its rejection", dom.rejectionRow(wedding, "Version conflict"), async () => {
      const at = verdictReceived(staff, staleEdit, "rejected");
      staff.engine.setOnline(true);
      return at;
    });
    await drained(staff);

    // ── A delete against an edit, and the edit that depended on the refused one (depends_on_rejected).
    staff.engine.setOnline(false);
    const firstEdit = ok(staff.store.updateProject(portraits, { title: "Silva portraits, studio 2" })).event.id;
    const chainedEdit = ok(staff.store.updateProject(portraits, { notes: "Bring the grey backdrop" })).event.id;
    ok(manager.store.deleteProject(portraits, "Client cancelled"));
    manager.engine.notifyWrite();
    await drained(manager);
    const deleted = "entity deleted: an edit of a project deleted meanwhile";
    const chained = "depends_on_rejected: the edit that depended on it";
    await watchFor(page, deleted, dom.rejectionRow(portraits, "Entity deleted"));
    await watchFor(page, chained, dom.rejectionRow(portraits, "Depends on rejected"));
    const deletedAt = verdictReceived(staff, firstEdit, "rejected");
    const chainAt = verdictReceived(staff, chainedEdit, "rejected");
    staff.engine.setOnline(true);
    await seen(page, deleted, "Conflicts", "the staff desktop received the rejection", await deletedAt);
    await seen(page, chained, "Conflicts", "the staff desktop received the rejection", await chainAt);
    await drained(staff);
    await shots(page, "02-conflicts");

    // The drill-down of the chained rejection: the attempt beside the server's record, and its cause.
    await page.getByTestId("rejections-table").getByRole("button", { name: /Depends on rejected$/ }).first().click();
    const detail = page.getByTestId("rejection-detail");
    await detail.getByTestId("rejection-chain").waitFor();
    expect(await detail.getByTestId("rejection-chain").textContent()).toContain("depended on");
    await shots(page, "03-conflict-detail");

    // ── Record history of the deleted project: its versions and the refused attempts, a lane per device.
    await detail.getByTestId("open-history").click();
    await page.getByTestId("history-lanes").waitFor();
    await shots(page, "04-history");

    // ── Money: a sale on the till, voided by the manager.
    await tab(page, "Money");
    const soldId = sale(till.store, 250_000);
    till.engine.notifyWrite();
    await drained(till);
    await waitUntil("the manager's desktop has the sale", () => manager.store.get(soldId) !== null);
    const reason = "Rung up twice (e2e)";
    const voidEvent = ok(manager.store.posVoid(soldId, reason)).event.id;
    await measure(page, "void: a manager voids a till's sale", "Money", "the manager's desktop received the void's verdict", dom.voidRow(reason), async () => {
      const at = verdictReceived(manager, voidEvent, "confirmed");
      manager.engine.notifyWrite();
      return at;
    });
    await shots(page, "05-money");

    // ── A till offline with a backlog: the cut, 20 sales written offline, the reconnect.
    await tab(page, "Devices");
    await measure(page, "till offline: its connection cut", "Devices", "the till's engine went offline (socket closed)", dom.deviceRow(TILL, ["Last seen"]), async () => {
      const at = Date.now();
      till.engine.setOnline(false);
      return at;
    });
    let lastSale = "";
    for (let i = 0; i < 20; i++) lastSale = sale(till.store, 10_000 + i * 100);
    const lastSaleEvent = till.store.queue({ newest_first: true, limit: 1 }).events[0]!;
    expect(lastSaleEvent.entity_id).toBe(lastSale);
    expect(till.store.queueReport().pending).toBe(20);
    // Its hello tells the backlog; its status, within a second of the verdicts, that it is sent.
    const backlog = "till back: its backlog of 20 shown";
    const sent = "till back: its backlog sent and confirmed";
    await watchFor(page, backlog, dom.deviceQueue(TILL, "^20\\b"));
    await watchFor(page, sent, dom.deviceRow(TILL, ["Connected", "nothing"]));
    const reconnectAt = Date.now();
    const lastVerdictAt = verdictReceived(till, lastSaleEvent.event_id, "confirmed");
    till.engine.setOnline(true);
    await seen(page, backlog, "Devices", "the till's engine went online", reconnectAt);
    await seen(page, sent, "Devices", "the till's engine went online", reconnectAt);
    // The same sight, from the last verdict: the status that says so waits out STATUS_MIN_INTERVAL_MS after the hello.
    const sentSeen = latencies.at(-1)!;
    latencies.push({ ...sentSeen, from: "the till received the last verdict of its backlog", latency_ms: Math.max(0, reconnectAt + sentSeen.latency_ms - (await lastVerdictAt)) });
    await drained(till);
    // Its own sales came back to it: it tells its cursor within STATUS_MIN_INTERVAL_MS, and is shown up to date.
    await page.waitForFunction((c) => (window as unknown as Recorder).__sv.holds(c), dom.deviceRow(TILL, ["up to date"]), { timeout: 5_000 });
    await shots(page, "06-devices-after");

    // ── Audit.
    await tab(page, "Audit");
    await page.waitForTimeout(500);
    await shots(page, "07-audit");

    // ── Two branches side by side: the owner signs in to the second one too.
    await page.getByRole("button", { name: "+ Sign in to a branch" }).click();
    await page.getByLabel("Branch", { exact: true }).fill(otherBranch);
    await page.getByLabel("A token").check();
    await page.getByLabel("Token", { exact: true }).fill(await tokenFor(otherBranch, DASHBOARD_OTHER, "owner"));
    await shots(page, "08-sign-in");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByTestId("devices-table").waitFor();
    await page.getByRole("button", { name: "All branches" }).click();
    await expect.poll(() => page.getByTestId("overview").locator("article").count(), { timeout: 10_000 }).toBe(2);
    await shots(page, "09-overview");

    mkdirSync(path.dirname(LATENCY), { recursive: true });
    writeFileSync(LATENCY, JSON.stringify({ measured_at: new Date().toISOString(), note: "ms from the happening to the dashboard's DOM showing it; both clocks this machine's; not asserted", happenings: latencies }, null, 2));
    expect(latencies.map((l) => l.happening)).toHaveLength(8);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 180_000);
});
