/**
 * Issue 19, "Close of day" in the desktop app, in Debian's Chromium against browser mode and the real
 * server (workerd), with real SQLite stores: a manager's till (A) and a cashier's till (B) ring sales
 * on 2026-11-25 (their clocks are pinned there: test/support/desktop.ts); B goes offline with a late
 * sale queued; the manager closes the day and sees revision 1 with B not yet confirmed and why;
 * counts A's drawer and sees the variance; B comes back, its late sale re-issues the report as
 * revision 2 and the difference appears on A's screen without a click. A future day cannot be closed
 * (the error in words); printed, only the Z-report is on the paper; offline the screen shows A's own
 * figures labelled as not the branch's report, with no close button; a cashier's till sees the report
 * read-only. Every state passes axe-core. Screenshots: test-results/screenshots/day/app-day-*.png.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { SaleInput } from "../../../desktop/store/writes.js";
import { DesktopCore } from "../../../desktop/app/core.js";
import { openStore } from "../../support/desktop.js";
import { desktop, freePort, waitUntil } from "../../support/e2e.js";
import { tokenFor } from "../../support/server.js";
import { expectAccessible, openScreen, uiHarness } from "../../support/ui.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const B = "01936f3c-0000-7000-8000-0000000000b2";
const C = "01936f3c-0000-7000-8000-0000000000c3";
const DAY = "2026-11-25";

const ui = uiHarness("day");
const shot = (page: Page, name: string) => ui.shot(page, `app-day-${name}`);

const sale = (description: string, unit_price_minor: number, method: SaleInput["method"]): SaleInput => ({
  currency: "LKR",
  lines: [{ sku: null, description, quantity: 1, unit_price_minor }],
  method,
  tendered_minor: null,
});

/** The studio that heads the report, set over HTTP by another manager before the tills connect. */
async function setStudio(branch: string) {
  const response = await fetch(new URL(`/v1/branches/${branch}/settings`, ui.server.url), {
    method: "PUT",
    headers: { Authorization: `Bearer ${await tokenFor(branch, "01936f3c-0000-7000-8000-0000000000e1", "manager")}`, "Content-Type": "application/json" },
    body: JSON.stringify({ studio: { name: "Lanka Light Studio", address: "12 Galle Road\nColombo 3", phone: "+94 11 234 5678", tax_id: null } }),
  });
  expect(response.status).toBe(200);
}

const text = (page: Page, testId: string) => page.getByTestId(testId).first().innerText();

describe("Close of day in the app", () => {
  it("a manager closes the day, counts a drawer, sees a late sale amend it; offline shows this till's copy; a cashier reads it only", async () => {
    const branch = `ui-day-${Date.now().toString(36)}`;
    await setStudio(branch);
    const { page, core } = await ui.app(branch, A, "manager", 51);
    await expect.poll(() => page.getByTestId("sync-pill").textContent(), { timeout: 20_000 }).toContain("Live");

    // Till A (this app): a cash and a card sale. Till B: a cash sale, synced, then offline with one more.
    for (const input of [sale("Passport photos (4)", 80_000, "cash"), sale("Frame A4", 250_000, "card")]) {
      const written = await core.handle({ method: "write", action: { kind: "pos_sale", input } });
      if (written === null || !("ok" in written) || !written.ok) throw new Error("A's sale was refused");
    }
    const b = await desktop(ui.server, branch, B, "cashier", 52);
    ui.onClose(() => b.close());
    if (!b.store.posSale(sale("Print A4", 45_000, "cash")).ok) throw new Error("B's sale was refused");
    b.start();
    await waitUntil("B's sale is confirmed", () => b.store.summary().pending === 0 && b.store.cursor() > 0, 20_000);
    await waitUntil("A's sales are confirmed", () => core.store.summary().pending === 0, 20_000);
    b.engine.setOnline(false);
    await waitUntil("B is offline", () => b.engine.status().kind === "offline", 10_000);
    if (!b.store.posSale(sale("Print 4×6", 6_000, "cash")).ok) throw new Error("B's late sale was refused");

    // The open day: figures so far per currency and till, every till's proof, no revisions yet.
    await openScreen(page, "Close of day");
    await expect.poll(() => text(page, "day-state"), { timeout: 20_000 }).toBe("Open");
    expect(await page.getByLabel("Business day").inputValue()).toBe(DAY);
    const currencies = await text(page, "day-currency-LKR");
    expect(currencies).toMatch(/Cash\s+2 · 1,250\.00\s+—\s+—\s+1,250\.00/);
    expect(currencies).toMatch(/Card\s+1 · 2,500\.00\s+—\s+—\s+2,500\.00/);
    expect(currencies).toMatch(/Total\s+3 · 3,750\.00\s+—\s+—\s+3,750\.00/);
    expect(currencies).toMatch(/Receipts 1–3/);
    expect(await text(page, "day-head")).toMatch(/^Open\s+Lanka Light Studio · 2026-11-25/);
    expect(await page.getByTestId("day-till").count()).toBe(2);
    expect(await page.getByTestId("day-proof").count()).toBe(2);
    expect(await page.getByRole("button", { name: `Close day ${DAY}` }).isVisible()).toBe(true);
    expect(await text(page, "day-this-till")).toMatch(/^This till: /);
    await expectAccessible(page, "open day");
    await shot(page, "open");

    // Close, with a note: revision 1; B is listed, not yet confirmed, and why.
    await page.getByLabel("Note for the close (optional)").fill("closed by Priya");
    await page.getByRole("button", { name: `Close day ${DAY}` }).click();
    const confirm = page.getByRole("alertdialog", { name: `Close business day ${DAY}?` });
    await confirm.waitFor();
    await confirm.getByRole("button", { name: "Close day" }).click();
    await expect.poll(() => text(page, "day-state"), { timeout: 20_000 }).toBe("Closed");
    expect(await text(page, "day-revision-no")).toBe("· revision 1");
    expect(await text(page, "day-message")).toBe(`Closed ${DAY}: revision 1 recorded.`);
    expect(await page.getByRole("button", { name: `Close day ${DAY}` }).count()).toBe(0);
    // This till answered the close with its account of the day (nothing queued): confirmed, live.
    const proofA = page.getByTestId("day-proof").filter({ hasText: "This till" });
    await expect.poll(() => proofA.innerText(), { timeout: 20_000 }).toMatch(/^confirmed\s+This till \(0000a1\) · online\s+confirmed at .*: nothing queued, last receipt [0-9A-F]{5}-000002 received$/);
    expect(await text(page, "day-this-till")).toBe(`This till: confirmed for ${DAY}`);
    const proofB = page.getByTestId("day-proof").filter({ hasText: "Till 0000b2" });
    expect(await proofB.innerText()).toMatch(/^not yet confirmed\s+Till 0000b2 \(e2e\) · offline\s+not yet confirmed: /);
    expect(await text(page, "day-unconfirmed")).toMatch(/not yet confirmed/);
    expect(await page.getByTestId("day-revision").count()).toBe(1);
    expect(await text(page, "day-revision")).toMatch(/Revision 1: Closed[\s\S]*by e2e[\s\S]*Note: closed by Priya/);
    await expectAccessible(page, "closed, B unconfirmed");
    await shot(page, "closed-unconfirmed");

    // Count A's drawer: 750.00 against 800.00 cash expected is 50.00 short.
    await page.getByRole("button", { name: "Count drawer of This till (0000a1), LKR" }).click();
    const counted = page.getByLabel("Counted cash (LKR)");
    await counted.fill("12,50");
    await counted.blur();
    expect(await page.getByRole("button", { name: "Save count" }).isDisabled()).toBe(true);
    await counted.fill("750");
    await page.getByTestId("drawer-form").getByLabel("Note (optional)").fill("float removed");
    await page.getByRole("button", { name: "Save count" }).click();
    const drawerA = page.getByTestId("day-drawer").filter({ hasText: "This till" });
    await expect.poll(() => drawerA.innerText(), { timeout: 20_000 }).toMatch(/800\.00\s+750\.00\s+−50\.00 \(short 50\.00 LKR\)/);
    expect(await drawerA.innerText()).toContain("float removed");
    await expectAccessible(page, "drawer counted");
    await shot(page, "drawer-variance");

    // B comes back: its late sale is accepted and re-issues the report as revision 2, live on A's screen.
    b.engine.setOnline(true);
    await expect.poll(() => text(page, "day-revision-no"), { timeout: 30_000 }).toBe("· revision 2");
    expect(await page.getByTestId("day-revision").count()).toBe(2);
    const amended = page.getByTestId("day-revision").nth(1);
    expect(await amended.innerText()).toMatch(/Revision 2: Amended: late sales[\s\S]*from Till 0000b2/);
    expect(await amended.getByTestId("day-changes").innerText()).toMatch(/Till 0000b2[^\n]*, LKR\s+\+1 · \+60\.00\s+—\s+—\s+\+60\.00 LKR/);
    expect(await text(page, "day-currency-LKR")).toMatch(/Total\s+4 · 3,810\.00\s+—\s+—\s+3,810\.00/);
    // B answered the amendment with its account of the day: nothing queued any more, confirmed.
    await expect.poll(() => proofB.innerText(), { timeout: 20_000 }).toMatch(/^confirmed\s+Till 0000b2 \(e2e\) · online\s+confirmed at /);
    expect(await page.getByTestId("day-unconfirmed").count()).toBe(0);
    await expectAccessible(page, "amended, revision 2");
    await shot(page, "amended-revision-2");

    // The printed Z-report: studio, day, revision, generated at, the tables; on paper only the report.
    await page.getByRole("button", { name: "Print Z-report" }).click();
    const sheet = page.getByRole("dialog", { name: `Z-report ${DAY}` });
    await sheet.waitFor();
    expect(await text(page, "zreport-title")).toBe(`Z-report · business day ${DAY}`);
    expect(await text(page, "zreport-revision")).toMatch(/^Revision 2 \(amended by late sales\) · closed 2026-\d\d-\d\d \d\d:\d\d by e2e$/);
    const paper = await page.getByTestId("print-paper").innerText();
    expect(paper.split("\n").map((l) => l.trim()).filter(Boolean).slice(0, 4)).toEqual(["Lanka Light Studio", "12 Galle Road", "Colombo 3", "Tel. +94 11 234 5678"]);
    expect(paper).toMatch(/Till 0000a1 \(e2e\), LKR/);
    expect(paper).not.toContain("This till");
    expect(paper).toMatch(/Generated \d{4}-\d\d-\d\d \d\d:\d\d \(Asia\/Colombo\)/);
    expect(paper).toMatch(/Total\s+4 · 3,810\.00/);
    await expectAccessible(page, "Z-report print view");
    await page.emulateMedia({ media: "print" });
    try {
      expect(await page.locator("#app").isVisible()).toBe(false);
      expect(await page.getByTestId("print-paper").isVisible()).toBe(true);
      await shot(page, "print");
    } finally {
      await page.emulateMedia({ media: "screen" });
    }
    await sheet.getByRole("button", { name: "Close" }).click();
    await sheet.waitFor({ state: "detached" });

    // A day that has not begun cannot be closed: the server's 422 in words.
    await page.getByLabel("Business day").fill("2099-01-01");
    await expect.poll(() => text(page, "day-state"), { timeout: 20_000 }).toBe("Open");
    await page.getByRole("button", { name: "Close day 2099-01-01" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Close day" }).click();
    await expect.poll(() => text(page, "day-message"), { timeout: 20_000 }).toBe(
      "2099-01-01 has not begun yet in the branch's time zone (Asia/Colombo), so it cannot be closed. A day is closed on or after it.",
    );
    expect(await page.getByTestId("day-message").getAttribute("role")).toBe("alert");
    await expectAccessible(page, "error: day not begun");
    await shot(page, "error-not-begun");
    await page.getByRole("button", { name: `Today (${DAY})` }).click();
    await expect.poll(() => text(page, "day-revision-no"), { timeout: 20_000 }).toBe("· revision 2");

    // Offline: this till's own figures, labelled; no close, no drawer count, no proof.
    await openScreen(page, "Sync");
    await page.getByRole("button", { name: "Work offline" }).click();
    await openScreen(page, "Close of day");
    await expect.poll(() => text(page, "day-local-label"), { timeout: 20_000 }).toContain("This till's copy, not the branch's report: proof per till needs the server.");
    expect(await page.getByTestId("day-state").count()).toBe(0);
    expect(await page.getByRole("button", { name: /^Close day/ }).count()).toBe(0);
    expect(await page.getByRole("button", { name: /^Count drawer/ }).count()).toBe(0);
    expect(await page.getByTestId("day-proof").count()).toBe(0);
    // A synced B's late sale as every change: its copy equals the branch's to the minor unit.
    expect(await text(page, "day-currency-LKR")).toMatch(/Total\s+4 · 3,810\.00\s+—\s+—\s+3,810\.00/);
    await expectAccessible(page, "offline, this till's copy");
    await shot(page, "offline-local");

    // A cashier's till reads the branch's report: no close, no drawer count, no print.
    const cashier = await ui.app(branch, C, "cashier", 53);
    await expect.poll(() => cashier.page.getByTestId("sync-pill").textContent(), { timeout: 20_000 }).toContain("Live");
    await openScreen(cashier.page, "Close of day");
    await expect.poll(() => text(cashier.page, "day-state"), { timeout: 20_000 }).toBe("Closed");
    expect(await text(cashier.page, "day-revision-no")).toBe("· revision 2");
    expect(await cashier.page.getByTestId("day-proof").count()).toBe(2);
    expect(await cashier.page.getByRole("button", { name: /^Close day/ }).count()).toBe(0);
    expect(await cashier.page.getByRole("button", { name: /^Count drawer/ }).count()).toBe(0);
    expect(await cashier.page.getByRole("button", { name: "Print Z-report" }).count()).toBe(0);
    expect(await cashier.page.getByTestId("day-drawer").filter({ hasText: "Till 0000a1" }).innerText()).toMatch(/−50\.00 \(short 50\.00 LKR\)/);
    await expectAccessible(cashier.page, "cashier view");
    await shot(cashier.page, "cashier");
  }, 180_000);

  it("with the server out of reach: this till's own figures, labelled as not the branch's report, its queued sale counted, and no close", async () => {
    // Nothing listens on this port: every request is refused at once (ECONNREFUSED).
    const { store } = await openStore({ branch: `ui-day-off-${Date.now().toString(36)}`, device: A, role: "manager", seed: 54, serverUrl: `http://127.0.0.1:${await freePort()}`, timeZone: "Asia/Colombo" });
    if (!store.posSale(sale("Passport photos (4)", 80_000, "cash")).ok) throw new Error("the sale was refused");
    const page = await ui.page(new DesktopCore(store), store);
    await openScreen(page, "Close of day");
    const label = page.getByTestId("day-local-label");
    await expect.poll(() => label.isVisible(), { timeout: 20_000 }).toBe(true);
    expect(await label.innerText()).toMatch(/^This till's copy, not the branch's report: proof per till needs the server\.\nThe server cannot be reached \(ECONNREFUSED\)/);
    expect(await text(page, "day-this-till")).toBe(`This till: 1 POS change of ${DAY} waiting to be confirmed by the branch`);
    // Not confirmed by the branch yet, so not in this till's confirmed facts: no figures to show.
    expect(await text(page, "day-local-pending")).toBe("Sales the branch has confirmed only: 1 POS change of this day queued on this till is not in these figures yet.");
    expect(await text(page, "day-no-sales")).toBe("No sales of this day confirmed by the branch on this till yet.");
    expect(await page.getByRole("button", { name: /^Close day/ }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Print Z-report" }).count()).toBe(0);
    await expectAccessible(page, "server unreachable");
    await shot(page, "unreachable");
  }, 60_000);
});
