/**
 * Sync in a cashier's words, confirmations before anything is destroyed, and browser mode's link
 * (issue 14, "Smaller" + "Sync panel"), in Debian's Chromium against browser mode: the pill and the
 * sync panel in every state a till can reach here (live, offline, server unreachable with a countdown
 * that follows the core's clock, signed out), ids and internal names only under "Details for
 * support", the delete and dismiss confirmations, a link that survives a restart, and the page an
 * out-of-date link opens. axe-core finds no serious or critical problem in any of them.
 * Screenshots go to test-results/screenshots/words/ (not committed).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { statSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { DesktopCore } from "../../../desktop/app/core.js";
import { browserKeyFor, browserKeyPath } from "../../../desktop/browser/key.js";
import type { EngineTimers } from "../../../desktop/sync/engine.js";
import { corruptQueuedPayload, openStore, tempDbPath } from "../../support/desktop.js";
import { type Desktop, desktop, freePort, waitUntil } from "../../support/e2e.js";
import { expectAccessible, openScreen, uiHarness } from "../../support/ui.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const C = "01936f3c-0000-7000-8000-0000000000c3";

const root = path.resolve(import.meta.dirname, "../../..");
const ui = uiHarness("words");
/** The app on `store` in a browser page: core + browser bridge. */
const open = (store: Desktop["store"], core: DesktopCore): Promise<Page> => ui.page(core, store);

/** Timers that never fire: the sync machine stays in `backoff` until the test presses Retry now. */
const heldTimers: EngineTimers = { setTimeout: () => ({}), clearTimeout: () => undefined, setInterval: () => ({}), clearInterval: () => undefined };

const screen = openScreen;
const pill = (page: Page) => page.getByTestId("sync-pill");
const words = (page: Page) => page.getByTestId("sync-words");

const shot = (page: Page, name: string) => ui.shot(page, name);

/** Ids and internal names a person should not have to read. */
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const INTERNAL = /\b(backoff|auth_failed|update_required|unauthorized|token_expired|device_revoked|install_conflict|connection_lost|http_\d+|1006|4001|4015)\b/;

/** What the header and the sync panel show with "Details for support" closed: no id, no internal name. */
async function expectPlainWords(page: Page): Promise<void> {
  const details = page.getByTestId("support-details");
  expect(await details.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
  const visible = `${await page.locator("header").innerText()}\n${await page.locator("main").innerText()}`;
  expect(visible).not.toMatch(UUID);
  expect(visible).not.toMatch(INTERNAL);
}

/** Opens "Details for support" and returns its text; closes it again. */
async function supportDetails(page: Page, screenshot?: string): Promise<string> {
  const details = page.getByTestId("support-details");
  await details.getByText("Details for support").click();
  const text = await details.innerText();
  if (screenshot) await shot(page, screenshot);
  await details.getByText("Details for support").click();
  return text;
}

describe("sync in words a cashier understands", () => {
  it("live and offline: the pill and the panel in words, a link to rejected changes, ids only in the details", async () => {
    const { store } = await desktop(ui.server, `ui-words-live-${Date.now().toString(36)}`, A, "manager", 31, { nowMs: Date.now() });
    const page = await open(store, new DesktopCore(store));
    await expect.poll(() => pill(page).textContent(), { timeout: 20_000 }).toBe("Live · up to date");
    await screen(page, "Sync");
    expect(await words(page).textContent()).toBe("Up to date");
    await expectPlainWords(page);
    await expectAccessible(page, "sync panel, live");
    await shot(page, "live");
    const details = await supportDetails(page, "live-details-open");
    expect(details).toContain(A);
    expect(details).toContain("live");

    await page.getByRole("button", { name: "Work offline" }).click();
    await expect.poll(() => pill(page).textContent()).toBe("Offline");
    expect(await words(page).textContent()).toBe("Working offline — sync is switched off; sales and changes are kept on this computer");
    // A sale the server will not take (unreadable here): it becomes a rejected change to review.
    const line = { currency: "LKR", lines: [{ sku: null, description: "Print A4", quantity: 1, unit_price_minor: 45_000 }], method: "card" as const };
    const damaged = store.posSale(line);
    if (!damaged.ok) throw new Error(damaged.error.message);
    corruptQueuedPayload(store, damaged.value.event.id, '{"kind":"sale","lines":[{"sku":nu');
    await expect.poll(() => pill(page).textContent()).toBe("Offline · 1 pending");
    await expectPlainWords(page);
    await expectAccessible(page, "sync panel, offline");
    await shot(page, "offline");

    await page.getByRole("button", { name: "Go online" }).click();
    const rejected = page.getByTestId("sync-rejected");
    await expect.poll(() => rejected.textContent(), { timeout: 20_000 }).toBe("1 change was not accepted by the server — review it in the conflict inbox. Open the conflict inbox");
    await expect.poll(() => pill(page).textContent(), { timeout: 20_000 }).toBe("Live · up to date");
    await expectPlainWords(page);
    await expectAccessible(page, "sync panel, a rejected change");
    await shot(page, "rejected-change-link");

    // The link leads to the inbox. The unreadable sale is kept for a manager (issue 14): this device
    // cannot drop it, and it says why (it never reached the server, so no resolution can be recorded).
    await rejected.getByRole("button", { name: "Open the conflict inbox" }).click();
    await page.getByTestId("conflict").waitFor();
    expect(await page.getByTestId("conflict").getByRole("button").count()).toBe(0);
    expect(await page.getByTestId("conflict").innerText()).toContain("Your new POS order could not be read back on this device, so it was never sent to the server.");
    expect(await page.getByTestId("conflict-manager").textContent()).toMatch(/^This sale could not be read on this till, so it never reached the server/);
    await expectAccessible(page, "an unreadable sale kept for a manager");
    await shot(page, "unreadable-sale-kept");
    expect(store.summary().conflicts_open).toBe(1);
  }, 90_000);

  it("server unreachable: says so, and counts down to the next try on the core's clock", async () => {
    const port = await freePort(); // nothing listens there
    const { store, advance } = await openStore({ branch: "ui-words-down", device: A, role: "manager", serverUrl: `http://127.0.0.1:${port}`, nowMs: Date.now() });
    // Jitter 0.5: each wait is 0.75 of its ceiling, so attempt 6 waits 0.75 × 16 s = 12 s. Held
    // timers: the retry never fires by itself, so only the store's clock moves the countdown.
    const core = new DesktopCore(store, { engine: { random: () => 0.5, timers: heldTimers } });
    const page = await open(store, core);
    await screen(page, "Sync");
    const attempt = () => {
      const s = core.status().sync;
      return s.kind === "backoff" ? s.attempt : 0;
    };
    await waitUntil("the first attempt failed", () => attempt() === 1, 10_000);
    await expect.poll(() => pill(page).textContent()).toBe("Server unreachable · retrying");
    for (let n = 2; n <= 6; n++) {
      await page.getByRole("button", { name: "Retry now" }).click();
      await waitUntil(`attempt ${n} failed`, () => attempt() === n, 10_000);
    }
    await expect.poll(() => words(page).textContent()).toBe("Server unreachable — retrying in 12 s");
    await expectPlainWords(page);
    await expectAccessible(page, "sync panel, server unreachable");
    await shot(page, "unreachable-12s");
    const details = await supportDetails(page, "unreachable-details-open");
    expect(details).toMatch(/attempt\s+6/);
    expect(details).toMatch(/last close\s+1006/);

    advance(5_000);
    await expect.poll(() => words(page).textContent(), { timeout: 5_000 }).toBe("Server unreachable — retrying in 7 s");
    await shot(page, "unreachable-7s");
    advance(7_000);
    await expect.poll(() => words(page).textContent(), { timeout: 5_000 }).toBe("Server unreachable — retrying now");
    expect(await pill(page).textContent()).toBe("Server unreachable · retrying");
  }, 60_000);

  it("signed out: names what happened and who can fix it, with the codes only in the details", async () => {
    const branch = `ui-words-auth-${Date.now().toString(36)}`;
    // Bound with a token signed by another secret than the server's: the server refuses it.
    const { store } = await openStore({ branch, device: C, role: "cashier", serverUrl: ui.server.url.origin, nowMs: Date.now() });
    const page = await open(store, new DesktopCore(store));
    await expect.poll(() => pill(page).textContent(), { timeout: 20_000 }).toBe("Signed out");
    await screen(page, "Sync");
    const alert = page.getByRole("alert");
    expect(await alert.textContent()).toBe("Signed out: this device's sign-in was refused — ask a manager for a new sign-in");
    expect(await page.getByRole("button", { name: "Retry now" }).count()).toBe(0);
    await expectPlainWords(page);
    await expectAccessible(page, "sync panel, signed out");
    await shot(page, "signed-out");
    expect(await supportDetails(page, "signed-out-details-open")).toMatch(/reason\s+unauthorized/);
  }, 60_000);
});

describe("asking before destroying", () => {
  it("deleting a project asks first with the safe choice focused: cancel keeps it, confirm deletes it", async () => {
    const { store } = await desktop(ui.server, `ui-words-delete-${Date.now().toString(36)}`, A, "manager", 32, { nowMs: Date.now() });
    const page = await open(store, new DesktopCore(store, { online: false }));
    await screen(page, "Projects");
    await page.getByLabel("Title").fill("Perera wedding");
    await page.getByLabel("Client").fill("Anusha Perera");
    await page.getByRole("button", { name: "Create project" }).click();
    await expect.poll(() => page.getByTestId("project-row").count()).toBe(1);

    await page.getByRole("button", { name: "Delete Perera wedding" }).click();
    const dialog = page.getByRole("alertdialog", { name: 'Delete the project "Perera wedding"?' });
    await dialog.waitFor();
    expect(await dialog.locator("#confirm-detail").textContent()).toContain("removed from this till and, once sent, from every till in the branch");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Keep project");
    await expectAccessible(page, "delete confirmation");
    await shot(page, "delete-confirm");
    await dialog.getByRole("button", { name: "Keep project" }).click();
    await dialog.waitFor({ state: "detached" });
    expect(await page.getByTestId("project-row").count()).toBe(1);
    expect(store.list("project")).toHaveLength(1);
    // Escape keeps it too.
    await page.getByRole("button", { name: "Delete Perera wedding" }).click();
    await dialog.waitFor();
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    expect(store.list("project")).toHaveLength(1);

    await page.getByRole("button", { name: "Delete Perera wedding" }).click();
    await dialog.getByRole("button", { name: "Delete project" }).click();
    await expect.poll(() => page.getByTestId("project-row").count()).toBe(0);
    expect(store.list("project")).toHaveLength(0);
    await shot(page, "deleted");

    // Voiding a sale names what will happen before asking why.
    await screen(page, "POS");
    await page.getByRole("button", { name: "Add Print A4" }).click();
    await page.getByLabel("Card").check();
    await page.getByRole("button", { name: "Charge 450.00 LKR" }).click();
    await page.getByRole("button", { name: /^Void sale / }).click();
    const question = page.getByRole("dialog", { name: "Why is this sale voided?" });
    await question.waitFor();
    expect(await question.textContent()).toMatch(/Voiding cancels sale \S+ \(450\.00 LKR\) for good/);
    await expectAccessible(page, "void question");
    await shot(page, "void-question");
    await question.getByRole("button", { name: "Cancel" }).click();
    await question.waitFor({ state: "detached" });
    expect(store.list("pos_order").every((o) => o.entity.entity_type === "pos_order" && !o.entity.void)).toBe(true);
  }, 60_000);
});

describe("browser mode's link", () => {
  /** `npm run desktop:browser` (without the build): resolves with the printed link once it listens. */
  function launch(db: string, port: number): Promise<{ url: string; child: ChildProcess }> {
    const child = spawn(process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), "scripts/desktop-browser.ts", "--db", db, "--port", String(port), "--offline"], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    return new Promise((resolve, reject) => {
      let out = "";
      let err = "";
      child.stdout!.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const url = /browser mode\): (\S+)/.exec(out)?.[1];
        if (url) resolve({ url, child });
      });
      child.stderr!.on("data", (chunk: Buffer) => void (err += chunk.toString()));
      child.once("exit", (code) => reject(new Error(`desktop:browser exited ${code}: ${err || out}`)));
    });
  }
  const stop = (child: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });

  it("stays the same across restarts for the same database, kept beside it in a 0600 file", async () => {
    const db = tempDbPath("browser");
    const { store } = await openStore({ branch: "ui-words-link", device: A, role: "manager", path: db });
    store.close();
    const port = await freePort();
    const first = await launch(db, port);
    ui.onClose(() => stop(first.child));
    await stop(first.child);
    const second = await launch(db, port);
    ui.onClose(() => stop(second.child));
    expect(second.url).toBe(first.url);
    expect(new URL(first.url).searchParams.get("key")).toBe(browserKeyFor(db));
    if (process.platform !== "win32") expect(statSync(browserKeyPath(db)).mode & 0o777).toBe(0o600);
    // Another database, another key.
    expect(browserKeyFor(tempDbPath("other"))).not.toBe(browserKeyFor(db));

    // The link from before the restart opens the till.
    const page = await ui.browser.newPage({ viewport: { width: 1280, height: 860 } });
    ui.onClose(() => page.close());
    await page.goto(first.url);
    await expect.poll(() => pill(page).textContent(), { timeout: 10_000 }).toBe("Offline");

    // A link with another key: a full page that says so, not an empty till.
    const stale = new URL(first.url);
    stale.searchParams.set("key", "0".repeat(32));
    await page.goto(stale.href);
    const notice = page.getByTestId("stale-link");
    await notice.waitFor();
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("This link is out of date");
    expect(await notice.textContent()).toContain("Open the link printed by the app");
    expect(await page.getByRole("navigation", { name: "Screens" }).count()).toBe(0);
    expect(await page.getByTestId("sync-pill").count()).toBe(0);
    await expectAccessible(page, "stale link");
    await shot(page, "stale-link");
    await stop(second.child);
  }, 60_000);
});
