/**
 * Issue 14, "POS history", in Debian's Chromium against browser mode: with 2,000 sales on the till
 * over five business days, the sale just rung up through the screen is the first row; "Today" shows
 * only today's, "All days" every one; paging moves 20 at a time and back; a receipt number finds its
 * sale. axe-core finds no serious or critical problem in any state. The 2,000 are rung up through the
 * store directly (seconds, not minutes); the app runs offline so they stay on this till.
 * Screenshots go to test-results/screenshots/pos-history/ (not committed).
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { DesktopCore } from "../../../desktop/app/core.js";
import { openStore, tempDbPath } from "../../support/desktop.js";
import { desktop } from "../../support/e2e.js";
import { expectAccessible, openScreen, uiHarness } from "../../support/ui.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const DAYS = ["2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24", "2026-11-25"];
const SALES_PER_DAY = 400;
/** The till's clock while the app runs: 19:00 UTC on the last day, after every seeded sale. */
const NOW_MS = Date.UTC(2026, 10, 25, 19, 0);

const ui = uiHarness("pos-history");

/** A store on `path` with 400 sales a day from 08:00 (UTC, the branch's zone here), 90 s apart. */
async function seed(branch: string, path: string): Promise<void> {
  let now = Date.UTC(2026, 10, 21, 8, 0);
  const { store, advance } = await openStore({ branch, device: A, role: "manager", path, nowMs: now, seed: 41 });
  try {
    for (const day of DAYS) {
      const opening = Date.parse(`${day}T08:00:00Z`);
      for (let i = 0; i < SALES_PER_DAY; i++) {
        advance(opening + i * 90_000 - now);
        now = opening + i * 90_000;
        const outcome = store.posSale({ currency: "LKR", lines: [{ sku: "PR-4X6", description: "Print 4×6", quantity: 1 + (i % 3), unit_price_minor: 6_000 }], method: "cash", tendered_minor: null });
        if (!outcome.ok) throw new Error(outcome.error.message);
      }
    }
  } finally {
    store.close();
  }
}

const range = (page: Page) => page.getByTestId("history-range").textContent();
const firstRow = (page: Page) => page.getByTestId("history-row").first().textContent();
const shot = (page: Page, name: string) => ui.shot(page, name);

describe("POS history with 2,000 sales", () => {
  it("shows the newest first, today's or all days', a page at a time, and finds a receipt", async () => {
    const branch = `ui-pos-history-${Date.now().toString(36)}`;
    const path = tempDbPath("pos-history");
    await seed(branch, path);
    const d = await desktop(ui.server, branch, A, "manager", 42, { nowMs: NOW_MS, path });
    const core = new DesktopCore(d.store, { online: false });
    const page = await ui.page(core, d.store);
    await openScreen(page, "POS");

    // Today, before the new sale: today's 400 seeded sales, the last of them (17:58:30) first.
    const history = page.getByRole("table", { name: "Sales history" });
    await expect.poll(() => range(page)).toBe("Showing 1–20 of 400");
    expect(await page.getByRole("button", { name: "Today" }).getAttribute("aria-pressed")).toBe("true");
    expect(await firstRow(page)).toContain("D00A1-002000");
    expect(await history.getByRole("row").nth(1).textContent()).toContain("17:58");

    // Ring one up through the screen: it is the first row at once (pending, offline).
    await page.getByRole("button", { name: "Add Print A4" }).click();
    await page.getByLabel("Card").check();
    await page.getByRole("button", { name: "Charge 450.00 LKR" }).click();
    await expect.poll(() => range(page)).toBe("Showing 1–20 of 401");
    const newest = await firstRow(page);
    expect(newest).toContain("D00A1-002001");
    expect(newest).toContain("pending");
    expect(newest).toContain("19:00");
    expect(newest).toContain("450.00");
    expect(await page.getByTestId("history-row").count()).toBe(20);
    expect(await page.getByRole("button", { name: "Previous" }).isDisabled()).toBe(true);
    await expectAccessible(page, "history, today, after a sale");
    await shot(page, "1-today-after-sale");

    // All days: every sale, the new one still first.
    await page.getByRole("button", { name: "All days" }).click();
    await expect.poll(() => range(page)).toBe("Showing 1–20 of 2,001");
    expect(await page.getByRole("button", { name: "All days" }).getAttribute("aria-pressed")).toBe("true");
    expect(await firstRow(page)).toContain("D00A1-002001");
    await expectAccessible(page, "history, all days");
    await shot(page, "2-all-days");

    // Page forward twice and back once.
    await page.getByRole("button", { name: "Next" }).click();
    await expect.poll(() => range(page)).toBe("Showing 21–40 of 2,001");
    expect(await firstRow(page)).toContain("D00A1-001981");
    await page.getByRole("button", { name: "Next" }).click();
    await expect.poll(() => range(page)).toBe("Showing 41–60 of 2,001");
    await page.getByRole("button", { name: "Previous" }).click();
    await expect.poll(() => range(page)).toBe("Showing 21–40 of 2,001");
    expect(await firstRow(page)).toContain("D00A1-001981");
    expect(await page.getByRole("button", { name: "Previous" }).isEnabled()).toBe(true);
    await expectAccessible(page, "history, page 2");
    await shot(page, "3-all-days-page-2");

    // Search by receipt number: back to the first page, one match, from the first day.
    await page.getByLabel("Search receipt no.").fill("000042");
    await expect.poll(() => range(page)).toBe("Showing 1–1 of 1");
    const found = await firstRow(page);
    expect(found).toContain("D00A1-000042");
    expect(found).toContain("2026-11-21");
    expect(await page.getByRole("button", { name: "Next" }).isDisabled()).toBe(true);
    await expectAccessible(page, "history, search");
    await shot(page, "4-search-found");

    // The same search today: nothing, said in words.
    await page.getByRole("button", { name: "Today" }).click();
    await expect.poll(() => range(page)).toBe("No receipt matching “000042” today");
    expect(await page.getByTestId("history-row").count()).toBe(0);
    await expectAccessible(page, "history, search, nothing today");
    await shot(page, "5-search-none-today");

    // Clearing the search brings today's back, newest first.
    await page.getByLabel("Search receipt no.").fill("");
    await expect.poll(() => range(page)).toBe("Showing 1–20 of 401");
    expect(await firstRow(page)).toContain("D00A1-002001");
  }, 120_000);
});
