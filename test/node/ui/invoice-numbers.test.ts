/**
 * Invoice numbers in the app (issue 14), in Chromium against the real server: an invoice issued
 * offline says it is not numbered yet, in words; once the branch commits its issue the row shows the
 * official number. Screenshots of both states, axe-core on each.
 */
import { describe, expect, it } from "vitest";
import { expectAccessible, openScreen, uiHarness } from "../../support/ui.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const ui = uiHarness("invoice-numbers");

describe("invoice numbers in the app", () => {
  it("an invoice issued offline is 'not numbered yet'; online it gets the branch's number", async () => {
    const branch = `ui-invno-${Date.now().toString(36)}`;
    const { page } = await ui.app(branch, A, "manager", 21);
    await expect.poll(() => page.getByTestId("sync-pill").textContent(), { timeout: 20_000 }).toContain("Live");
    await openScreen(page, "Sync");
    await page.getByRole("button", { name: "Work offline" }).click();
    await expect.poll(() => page.getByTestId("sync-pill").textContent()).toContain("Offline");

    await openScreen(page, "Invoices");
    await page.getByLabel("Client").fill("Anusha Perera");
    await page.getByLabel("Line 1 description").fill("Gold package");
    await page.getByLabel("Unit price").first().fill("250000");
    await page.getByRole("button", { name: "Save draft" }).click();
    await expect.poll(() => page.getByTestId("invoice-number").first().textContent()).toBe("Draft (numbered when issued)");
    await page.getByLabel("Client").fill("Nimal Silva");
    await page.getByLabel("Line 1 description").fill("Passport photos");
    await page.getByLabel("Unit price").first().fill("800");
    await page.getByRole("button", { name: "Issue invoice" }).click();
    await expect.poll(() => page.getByTestId("invoice-number").allTextContents()).toContain("Not numbered yet (the branch numbers it when it syncs)");
    await expectAccessible(page, "invoices offline, not numbered yet");
    await ui.shot(page, "invoice-not-numbered-yet");

    await openScreen(page, "Sync");
    await page.getByRole("button", { name: "Go online" }).click();
    await openScreen(page, "Invoices");
    await expect.poll(() => page.getByTestId("invoice-number").allTextContents(), { timeout: 20_000 }).toContain("Invoice no. 1");
    expect(await page.getByTestId("invoice-number").allTextContents()).toContain("Draft (numbered when issued)");
    await expectAccessible(page, "invoices online, numbered");
    await ui.shot(page, "invoice-numbered");
  }, 120_000);
});
