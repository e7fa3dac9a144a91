/**
 * Print views and the payment dialog (issue 14), in Chromium against the real server: the receipt
 * of the sale just rung up (provisional while offline) and from the POS history (official once
 * synced), and an invoice's detail view, each headed with the studio the manager set; printed, only
 * the receipt or invoice is on the paper (print media emulated, screenshots). The "Record payment"
 * dialog checks the amount as it is typed. Every state passes axe-core.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { tokenFor } from "../../support/server.js";
import { expectAccessible, openScreen, uiHarness } from "../../support/ui.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const ui = uiHarness("print");

/** The manager's studio details, set over HTTP before the till connects (it learns them in its welcome). */
async function setStudio(branch: string) {
  const response = await fetch(new URL(`/v1/branches/${branch}/settings`, ui.server.url), {
    method: "PUT",
    headers: { Authorization: `Bearer ${await tokenFor(branch, "01936f3c-0000-7000-8000-0000000000e1", "manager")}`, "Content-Type": "application/json" },
    body: JSON.stringify({ studio: { name: "Lanka Light Studio", address: "12 Galle Road\nColombo 3", phone: "+94 11 234 5678", tax_id: "VAT 114-7" } }),
  });
  expect(response.status).toBe(200);
}

/** What is visible on screen and on paper: the sheet shows, the app behind it is hidden when printing. */
async function expectPrintsOnlyTheSheet(page: Page, shot: string) {
  await ui.shot(page, `${shot}-screen`);
  expect(await page.locator("#app").isVisible()).toBe(true);
  await page.emulateMedia({ media: "print" });
  try {
    expect(await page.locator("#app").isVisible()).toBe(false);
    expect(await page.getByRole("navigation", { name: "Screens" }).isVisible()).toBe(false);
    expect(await page.getByRole("button", { name: "Print", exact: true }).isVisible()).toBe(false);
    expect(await page.getByTestId("print-paper").isVisible()).toBe(true);
    await ui.shot(page, `${shot}-print`);
  } finally {
    await page.emulateMedia({ media: "screen" });
  }
}

describe("print views", () => {
  it("a receipt: the sale just rung up (provisional offline), then from the history with its official number", async () => {
    const branch = `ui-print-r-${Date.now().toString(36)}`;
    await setStudio(branch);
    const { page } = await ui.app(branch, A, "cashier", 31);
    await expect.poll(() => page.getByTestId("sync-pill").textContent(), { timeout: 20_000 }).toContain("Live");
    await openScreen(page, "Sync");
    await page.getByRole("button", { name: "Work offline" }).click();
    await expect.poll(() => page.getByTestId("sync-pill").textContent()).toContain("Offline");

    await openScreen(page, "POS");
    await page.getByRole("button", { name: "Add Passport photos (4)" }).click();
    await page.getByRole("button", { name: "Add Passport photos (4)" }).click();
    await page.getByRole("button", { name: "Add Frame A4" }).click();
    await page.getByLabel("Tendered").fill("5000");
    await page.getByRole("button", { name: "Charge 4,100.00 LKR" }).click();
    await page.getByRole("button", { name: "Print receipt" }).click();

    const sheet = page.getByRole("dialog", { name: /^Receipt / });
    await sheet.waitFor();
    const paper = page.getByTestId("print-paper");
    const text = (await paper.innerText()).split("\n").map((l) => l.trim()).filter(Boolean);
    expect(text.slice(0, 5)).toEqual(["Lanka Light Studio", "12 Galle Road", "Colombo 3", "Tel. +94 11 234 5678", "Tax reg. no. VAT 114-7"]);
    expect(await page.getByTestId("print-receipt-no").textContent()).toMatch(/^Receipt [0-9A-F]{5}-000001 \(provisional\)$/);
    // The till's clock is 2026-11-25 04:00 UTC (test/support/desktop.ts): 09:30 in the branch's zone, whatever the browser's.
    expect(text).toContain("2026-11-25 09:30 (Asia/Colombo) · Cashier e2e");
    expect(text).toContain("Not yet confirmed by the branch: the official number comes when this till syncs.");
    expect(await paper.innerText()).toMatch(/Passport photos \(4\)\s+2\s+1,600\.00/);
    expect(await paper.innerText()).toMatch(/Frame A4\s+1\s+2,500\.00/);
    expect(await page.getByTestId("print-total").textContent()).toBe("4,100.00 LKR");
    expect(await paper.innerText()).toMatch(/Tendered \(cash\)\s+5,000\.00\s+Change\s+900\.00/);
    // The print button has the focus: Enter prints at once.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Print");
    await expectAccessible(page, "receipt print view, provisional");
    await expectPrintsOnlyTheSheet(page, "receipt-provisional");
    await sheet.getByRole("button", { name: "Close" }).click();
    await sheet.waitFor({ state: "detached" });

    await openScreen(page, "Sync");
    await page.getByRole("button", { name: "Go online" }).click();
    await openScreen(page, "POS");
    await expect.poll(() => page.getByTestId("receipt").textContent(), { timeout: 20_000 }).toContain("Official no. 1");
    await page.getByTestId("history-row").first().getByRole("button", { name: /^Receipt / }).click();
    await sheet.waitFor();
    expect(await page.getByTestId("print-receipt-no").textContent()).toBe("Receipt no. 1");
    expect(await paper.innerText()).toMatch(/Till receipt [0-9A-F]{5}-000001/);
    await expectAccessible(page, "receipt print view from the history, official");
    await expectPrintsOnlyTheSheet(page, "receipt-official");
    await page.keyboard.press("Escape");
    await sheet.waitFor({ state: "detached" });
  }, 120_000);

  it("an invoice: the payment dialog checks the amount as it is typed; the detail view has number, client, lines, tax, totals, payments and balance", async () => {
    const branch = `ui-print-i-${Date.now().toString(36)}`;
    await setStudio(branch);
    const { page } = await ui.app(branch, A, "manager", 32);
    await expect.poll(() => page.getByTestId("sync-pill").textContent(), { timeout: 20_000 }).toContain("Live");
    await openScreen(page, "Invoices");
    await page.getByLabel("Client").fill("Anusha Perera");
    await page.getByLabel("Reference").fill("INV-0042");
    await page.getByLabel("Line 1 description").fill("Gold package");
    await page.getByLabel("Unit price").first().fill("250000");
    await page.getByRole("button", { name: "Add line" }).click();
    await page.getByLabel("Line 2 description").fill("Extra album");
    await page.getByLabel("Qty").nth(1).fill("2");
    await page.getByLabel("Unit price").nth(1).fill("15000");
    await page.getByLabel("Tax %").fill("15");
    await page.getByLabel("Discount").fill("10000");
    await page.getByRole("button", { name: "Issue invoice" }).click();
    await expect.poll(() => page.getByTestId("invoice-number").first().textContent(), { timeout: 20_000 }).toBe("Invoice no. 1");

    // The payment dialog: its message beside the field as it is typed, OK disabled while it is wrong.
    await page.getByRole("button", { name: "Record payment" }).click();
    const dialog = page.getByRole("dialog", { name: "Payment amount (LKR)" });
    const field = dialog.getByRole("textbox");
    const ok = dialog.getByRole("button", { name: "OK" });
    const problem = dialog.getByTestId("ask-problem");
    await field.pressSequentially("12,50");
    expect(await problem.textContent()).toBe("Enter an amount like 12,500.00");
    expect(await ok.isDisabled()).toBe(true);
    expect(await field.getAttribute("aria-invalid")).toBe("true");
    await expectAccessible(page, "payment dialog, bad amount");
    await ui.shot(page, "payment-bad-amount");
    await field.fill("");
    await field.pressSequentially("400,000");
    expect(await problem.textContent()).toBe("That is more than the balance: at most 310,500.00 LKR is still due");
    expect(await ok.isDisabled()).toBe(true);
    await page.keyboard.press("Enter"); // refused: nothing is recorded
    expect(await dialog.isVisible()).toBe(true);
    await ui.shot(page, "payment-over-balance");
    await field.fill("");
    await field.pressSequentially("100,000.50");
    expect(await problem.textContent()).toBe("");
    expect(await ok.isEnabled()).toBe(true);
    await ok.click();
    await dialog.waitFor({ state: "detached" });
    await expect.poll(() => page.getByTestId("invoice-row").textContent()).toContain("balance 210,499.50");

    await page.getByRole("button", { name: "View invoice for Anusha Perera" }).click();
    const sheet = page.getByRole("dialog", { name: "Invoice for Anusha Perera" });
    await sheet.waitFor();
    const paper = await page.getByTestId("print-paper").innerText();
    expect(paper).toMatch(/^Lanka Light Studio\n/);
    expect(await page.getByTestId("print-invoice-no").textContent()).toBe("Invoice no. 1");
    expect(paper).toMatch(/Bill to\s+Anusha Perera\s+Reference\s+INV-0042\s+Issued\s+2026-11-25/);
    expect(paper).toMatch(/Gold package\s+1\s+250,000\.00\s+250,000\.00/);
    expect(paper).toMatch(/Extra album\s+2\s+15,000\.00\s+30,000\.00/);
    // 280,000 − 10,000 = 270,000; + 15 % = 310,500; − 100,000.50 paid = 210,499.50.
    expect(paper).toMatch(/Subtotal\s+280,000\.00\s+Discount\s+−10,000\.00\s+Tax \(15 %\)\s+40,500\.00\s+Total\s+310,500\.00 LKR/);
    expect(paper).toMatch(/Paid 2026-11-25 \(Cash\)\s+−100,000\.50/);
    expect(await page.getByTestId("print-balance").textContent()).toBe("210,499.50 LKR");
    expect(paper).not.toMatch(/NaN/);
    await expectAccessible(page, "invoice detail view");
    await expectPrintsOnlyTheSheet(page, "invoice");
    await sheet.getByRole("button", { name: "Close" }).click();
    await sheet.waitFor({ state: "detached" });
  }, 120_000);
});
