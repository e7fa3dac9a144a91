/**
 * Issue 14 in Debian's Chromium against browser mode, offline:
 * - Sync activity: a till with 1,270 queued changes in every state (confirmed and rejected by a real
 *   branch core, sent and unanswered, and 1,2xx waiting) shows them newest first in words, filtered
 *   by state and by kind of record, 50 a page with the total; a rejected one links to the conflict
 *   inbox; ids only under "Details for support"; the pill counts with a thousands separator.
 * - Editing a project: every field, each saved on its own, persisted and queued as an update of that
 *   field alone; refusals in the same words as when creating.
 * axe-core finds no serious or critical problem in any state. Screenshots go to
 * test-results/screenshots/activity/ (not committed).
 */
import Database from "better-sqlite3";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { DesktopCore } from "../../../desktop/app/core.js";
import type { LocalStore } from "../../../desktop/store/local-store.js";
import type { ProjectData } from "../../../domain/index.js";
import { makeCore } from "../../support/branch.js";
import { openStore, syncDirect, tempDbPath } from "../../support/desktop.js";
import { expectAccessible, openScreen, uiHarness } from "../../support/ui.js";
import { newProject } from "../../../desktop/renderer/defaults.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const B = "01936f3c-0000-7000-8000-0000000000b2";
/** The branch's zone: 04:00 UTC is 09:30 on the till's screen. */
const ZONE = "Asia/Colombo";
const YESTERDAY_MS = Date.UTC(2026, 10, 24, 4, 0);
const TODAY_MS = Date.UTC(2026, 10, 25, 4, 0);
const CONFIRMED_SALES = 20;
const WAITING = { sales: 1_200, projects: 30, invoices: 17 };
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

const ui = uiHarness("activity");

const project = (title: string, client = "Nimali Silva"): ProjectData => newProject(title, client);

function must<T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

const sale = (store: LocalStore, price = 6_000) =>
  must(store.posSale({ currency: "LKR", lines: [{ sku: "PR-4X6", description: "Print 4×6", quantity: 1, unit_price_minor: price }], method: "cash", tendered_minor: null }));

/**
 * Yesterday: a project and 20 sales, confirmed by a branch core (the class the Durable Object hosts);
 * another device deletes the project and this one's later edit of it is rejected. Today: 3 changes
 * sent and unanswered, then 1,247 waiting.
 */
async function seed(path: string): Promise<{ store: LocalStore; total: number; waiting: number }> {
  const server = makeCore(":memory:", { timeZone: ZONE, nowMs: YESTERDAY_MS });
  const { store, advance } = await openStore({ device: A, role: "manager", path, nowMs: YESTERDAY_MS, timeZone: ZONE, seed: 7 });
  const other = await openStore({ device: B, role: "owner", nowMs: YESTERDAY_MS, timeZone: ZONE, seed: 8 });
  try {
    const wedding = must(store.createProject(project("Wedding Silva"))).entity.entity_id;
    for (let i = 0; i < CONFIRMED_SALES; i++) sale(store);
    syncDirect(store, server.core);
    syncDirect(other.store, server.core);
    must(other.store.deleteProject(wedding, "client cancelled"));
    syncDirect(other.store, server.core);
    advance(60_000);
    must(store.updateProject(wedding, { notes: "two cameras" }));
    syncDirect(store, server.core);
    // Today: three sent in a batch the server has not answered yet, then the rest waiting.
    advance(TODAY_MS - YESTERDAY_MS - 60_000);
    must(store.createProject(project("Perera engagement", "Anusha Perera")));
    sale(store);
    sale(store);
    expect(store.nextBatch(3)?.events).toHaveLength(3);
    for (let i = 0; i < WAITING.sales; i++) sale(store);
    for (let i = 0; i < WAITING.projects; i++) must(store.createProject(project(`Portrait ${i + 1}`, "Walk-in")));
    for (let i = 0; i < WAITING.invoices; i++) {
      must(
        store.createInvoice({
          reference: `INV-${String(i + 1).padStart(3, "0")}`,
          project_id: null,
          client_name: "Fernando",
          currency: "LKR",
          lines: [{ description: "Album", quantity: 1, unit_price_minor: 500_000 }],
          discount_minor: 0,
          tax_rate_bp: 0,
          payments: [],
          status: "draft",
          issued_on: null,
          due_on: null,
          notes: "",
        }),
      );
    }
    advance(5 * 60_000);
    const counts = store.queueCounts();
    return { store, total: counts.pending + counts.sent + counts.confirmed + counts.rejected, waiting: counts.pending + counts.sent };
  } finally {
    other.store.close();
    server.close();
  }
}

const range = (page: Page) => page.getByTestId("activity-range").textContent();
const rows = (page: Page) => page.getByTestId("activity-row");
const cell = (page: Page, row: number, col: number) => rows(page).nth(row).locator("td").nth(col);
/** What a row shows without opening its details: no ids, no codes. */
const visible = (page: Page, row: number) => rows(page).nth(row).evaluate((tr) => (tr as HTMLElement).innerText);

describe("Sync activity", () => {
  it("every queued change in words, newest first, by state and kind, 50 a page with the total", async () => {
    const { store, total, waiting } = await seed(tempDbPath("activity"));
    expect(total).toBe(1 + CONFIRMED_SALES + 1 + 3 + WAITING.sales + WAITING.projects + WAITING.invoices);
    const page = await ui.page(new DesktopCore(store, { online: false }), store);
    const n = (x: number) => x.toLocaleString("en-US");

    // The pill counts with a thousands separator.
    await expect.poll(() => page.getByTestId("sync-pill").textContent()).toBe(`Offline · ${n(waiting)} pending`);

    // From the Sync panel.
    await openScreen(page, "Sync");
    expect(await page.getByTestId("pending").textContent()).toBe(`${n(waiting)} changes`);
    await expectAccessible(page, "sync panel, 1,2xx waiting");
    await ui.shot(page, "0-sync-panel");
    await page.getByRole("button", { name: "See every change (Sync activity)" }).click();
    await expect.poll(() => range(page)).toBe(`1–50 of ${n(total)}`);
    expect(await page.getByRole("navigation", { name: "Screens" }).getByRole("button", { name: "Activity" }).getAttribute("aria-current")).toBe("page");
    // Newest first: the last invoice written, today at 09:30 in the branch's zone.
    expect(await cell(page, 0, 0).innerText()).toMatch(/^New invoice INV-017\b/);
    expect(await cell(page, 0, 1).innerText()).toBe("Waiting to send");
    expect(await cell(page, 0, 2).innerText()).toBe("Written 09:30");
    expect(await rows(page).count()).toBe(50);
    expect(await visible(page, 0)).not.toMatch(UUID);
    await expectAccessible(page, "activity, every change");
    await ui.shot(page, "1-every-change");

    // Paging forward and back, the total kept.
    await page.getByRole("button", { name: "Next" }).click();
    await expect.poll(() => range(page)).toBe(`51–100 of ${n(total)}`);
    await page.getByRole("button", { name: "Previous" }).click();
    await expect.poll(() => range(page)).toBe(`1–50 of ${n(total)}`);
    expect(await page.getByRole("button", { name: "Previous" }).isDisabled()).toBe(true);

    // Only sales: a page of them, the total of sales.
    await page.getByLabel("Record").selectOption({ label: "Sales" });
    await expect.poll(() => range(page)).toBe(`1–50 of ${n(CONFIRMED_SALES + 2 + WAITING.sales)}`);
    expect(await cell(page, 0, 0).innerText()).toMatch(/^Sale D00A1-001222\b/);

    // Confirmed sales: yesterday's, with their receipt numbers and the date shown.
    await page.getByLabel("State", { exact: true }).selectOption({ label: "Confirmed" });
    await expect.poll(() => range(page)).toBe(`1–${CONFIRMED_SALES} of ${CONFIRMED_SALES}`);
    expect(await cell(page, 0, 0).innerText()).toMatch(/^Sale D00A1-000020\b/);
    expect(await cell(page, 0, 1).innerText()).toBe("Confirmed as receipt #20");
    expect(await cell(page, 0, 2).innerText()).toBe("Written 2026-11-24 09:30 · sent 2026-11-24 09:30 · decided 2026-11-24 09:30");
    expect(await page.getByRole("button", { name: "Next" }).isDisabled()).toBe(true);
    await expectAccessible(page, "activity, confirmed sales");
    await ui.shot(page, "2-confirmed-sales");

    // Sent, waiting for the server: today's batch of three, any kind.
    await page.getByLabel("Record").selectOption({ label: "All records" });
    await page.getByLabel("State", { exact: true }).selectOption({ label: "Sent, waiting for the server" });
    await expect.poll(() => range(page)).toBe("1–3 of 3");
    expect(await cell(page, 2, 0).innerText()).toMatch(/^New project Perera engagement\b/);
    expect(await cell(page, 2, 1).innerText()).toBe("Sent, waiting for the server");
    expect(await cell(page, 2, 2).innerText()).toBe("Written 09:30 · sent 09:30");
    // "Sent" is the batch's range, not a status on each row (store layout 7): the same words, the same time.
    await expectAccessible(page, "activity, sent and unanswered");
    await ui.shot(page, "2b-sent-unanswered");

    // Rejected: the deleted project keeps its name; the reason in words; a link to the inbox.
    await page.getByLabel("State", { exact: true }).selectOption({ label: "Rejected" });
    await expect.poll(() => range(page)).toBe("1–1 of 1");
    expect(await cell(page, 0, 0).innerText()).toMatch(/^Update of project Wedding Silva\b/);
    expect(await cell(page, 0, 1).innerText()).toBe("Rejected: Project was deleted remotely Review in the conflict inbox");
    expect(await visible(page, 0)).not.toMatch(/stale_base|entity_deleted|rejected update|UUID/);
    // The ids and the code are there for support, once opened.
    await rows(page).nth(0).getByText("Details for support").click();
    const support = await rows(page).nth(0).locator("details code").innerText();
    expect(support).toMatch(UUID);
    expect(support).toMatch(/code \w+/);
    await expectAccessible(page, "activity, rejected, details open");
    await ui.shot(page, "3-rejected-details");
    await page.getByRole("button", { name: "Review in the conflict inbox" }).click();
    await expect.poll(() => page.getByTestId("conflict").first().textContent()).toContain("Project was deleted remotely");

    // Nothing of a kind in a state: said in words.
    await openScreen(page, "Activity");
    await page.getByLabel("State", { exact: true }).selectOption({ label: "Rejected" });
    await page.getByLabel("Record").selectOption({ label: "Invoices" });
    await expect.poll(() => range(page)).toBe("No changes match");
    expect(await rows(page).count()).toBe(0);
    await expectAccessible(page, "activity, nothing matches");
    await ui.shot(page, "4-nothing-matches");
  }, 120_000);
});

/** The queued update's payload, read from the database file as it is (real SQLite, read only). */
function lastQueued(path: string): { operation: string; payload: Record<string, unknown> } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare("SELECT operation, payload_json FROM sync_queue ORDER BY position DESC LIMIT 1").get() as { operation: string; payload_json: string };
    return { operation: row.operation, payload: JSON.parse(row.payload_json) as Record<string, unknown> };
  } finally {
    db.close();
  }
}

describe("Editing a project", () => {
  it("edits every field, each persisted and queued alone; refusals in the create form's words", async () => {
    const path = tempDbPath("project-edit");
    const { store } = await openStore({ device: A, role: "manager", path, nowMs: TODAY_MS, timeZone: ZONE, seed: 9 });
    const id = must(store.createProject(project("Wedding Silva"))).entity.entity_id;
    const page = await ui.page(new DesktopCore(store, { online: false }), store);
    await openScreen(page, "Projects");

    const current = () => {
      const v = store.get(id);
      if (!v || v.entity.entity_type !== "project" || !v.entity.data) throw new Error("the project is gone");
      return v.entity.data;
    };
    const edit = async () => {
      await page.getByRole("button", { name: `Edit ${current().title}` }).click();
      await page.getByRole("heading", { name: /^Edit project/ }).waitFor();
    };
    const save = async () => {
      await page.getByRole("button", { name: "Save changes" }).click();
      await page.getByRole("heading", { name: "Projects" }).waitFor();
    };

    // Each field on its own: the form sends that field only, the store keeps it, the queue holds it.
    const steps: Array<{ change: () => Promise<unknown>; sent: Partial<ProjectData> }> = [
      { change: () => page.getByLabel("Title").fill("Wedding Silva & Perera"), sent: { title: "Wedding Silva & Perera" } },
      { change: () => page.getByLabel("Status").selectOption({ label: "Booked" }), sent: { status: "booked" } },
      { change: () => page.getByLabel("Starts on").fill("2026-12-05"), sent: { starts_on: "2026-12-05" } },
      { change: () => page.getByLabel("Ends on").fill("2026-12-06"), sent: { ends_on: "2026-12-06" } },
      { change: () => page.getByLabel("Location").fill("Galle Face Hotel"), sent: { location: "Galle Face Hotel" } },
      { change: () => page.getByLabel("Client name").fill("Nimali Perera"), sent: { client: { name: "Nimali Perera", email: null, phone: null } } },
      { change: () => page.getByLabel("Email").fill("nimali@example.com"), sent: { client: { name: "Nimali Perera", email: "nimali@example.com", phone: null } } },
      { change: () => page.getByLabel("Phone").fill("+94 77 123 4567"), sent: { client: { name: "Nimali Perera", email: "nimali@example.com", phone: "+94 77 123 4567" } } },
      {
        change: async () => {
          await page.getByLabel("Package name").fill("Gold");
          await page.getByLabel("Price").fill("150,000");
        },
        sent: { package: { name: "Gold", price: { amount_minor: 15_000_000, currency: "LKR" } } },
      },
      { change: () => page.getByLabel("Currency").fill("USD"), sent: { package: { name: "Gold", price: { amount_minor: 15_000_000, currency: "USD" } } } },
      { change: () => page.getByLabel("Notes").fill("Two cameras, drone at the beach"), sent: { notes: "Two cameras, drone at the beach" } },
    ];
    for (const [i, step] of steps.entries()) {
      await edit();
      expect(await page.getByRole("button", { name: "Save changes" }).isDisabled(), `step ${i}: nothing changed yet`).toBe(true);
      await step.change();
      if (i === 8) {
        await expectAccessible(page, "project edit, package typed");
        await ui.shot(page, "5-project-edit-package");
      }
      await save();
      expect(current(), `step ${i}`).toMatchObject(step.sent);
      expect(lastQueued(path), `step ${i}`).toEqual({ operation: "update", payload: step.sent });
    }
    expect(store.queueCounts().pending).toBe(1 + steps.length);
    expect(await page.getByTestId("project-row").textContent()).toContain("Wedding Silva & Perera");

    // The form shows what is stored (the price in the shared format) and refuses in words.
    await edit();
    expect(await page.getByLabel("Price").inputValue()).toBe("150,000.00");
    await page.getByLabel("Price").fill("12,50");
    await page.getByLabel("Price").blur();
    expect(await page.getByText("Enter an amount like 12,500.00").isVisible()).toBe(true);
    expect(await page.getByRole("button", { name: "Save changes" }).isDisabled()).toBe(true);
    await page.getByLabel("Price").fill("150,000");
    // A day that does not exist, said beside the field by the shared parser; nothing can be saved.
    await page.getByLabel("Starts on").fill("2026-02-30");
    expect(await page.getByText("Enter a date like 2026-11-25").isVisible()).toBe(true);
    expect(await page.getByRole("button", { name: "Save changes" }).isDisabled()).toBe(true);
    await page.getByLabel("Starts on").fill("2026-12-05");
    await page.getByLabel("Email").fill("nimali@");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("Email must be an email address like name@example.com");
    await page.getByLabel("Email").fill("nimali@example.com");
    await page.getByLabel("Ends on").fill("2026-12-01");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("Ends on must not be before the start date");
    await expectAccessible(page, "project edit, refused");
    await ui.shot(page, "6-project-edit-refused");
    expect(store.queueCounts().pending).toBe(1 + steps.length);
    await page.getByRole("button", { name: "Cancel" }).click();

    // Creating says it the same way.
    await page.getByLabel("Title").fill("x".repeat(201));
    await page.getByLabel("Client").fill("Walk-in");
    await page.getByRole("button", { name: "Create project" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("Title must be 1 to 200 characters on one line");
  }, 120_000);
});
