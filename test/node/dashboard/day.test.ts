/**
 * The dashboard's Close of day view (protocol v10, issue 19) in Chromium against the real server
 * under workerd: two cashiers' tills ring cash, card and e-wallet sales over the WebSocket for a
 * business day (yesterday in the branch's zone by the server's clock: the server runs on the real
 * clock, so every day here is taken from its answers, never from this machine's date or zone), a
 * manager voids one; till A reports it has nothing queued, till B goes offline with two sales
 * queued. A manager opens the dashboard: today is shown first, the day before is picked; the open
 * day's figures per till and method equal GET …/ledger; B is listed not yet confirmed. The manager
 * closes the day through the UI, counts A's drawer short, and B comes back: its late sales amend
 * the report to revision 2 live (no reload), with the difference, and B is confirmed. A viewer sees
 * the report without action buttons; a close of a day that has not begun is refused in words; the
 * print layout is the Z-report alone. axe-core on every state; screenshots at 1280×800 and 1024×700
 * in test-results/screenshots/dashboard/day-*.png.
 */
import type { Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { formatMinor } from "../../../domain/amounts.js";
import { dayIn, dayStartMs, zonedIso } from "../../../domain/clock.js";
import { DayReport } from "../../../domain/day-report.js";
import type { SyncEvent } from "../../../domain/index.js";
import { shiftDay } from "../../../dashboard/day-words.js";
import { makeEventFactory } from "../../support/events.js";
import { expectAccessible } from "../../support/ui.js";
import { dashboardHarness, DEVICES, RawDevice, token } from "./support.js";

const h = dashboardHarness();
const BRANCH = "negombo-beach";
const TILL_A = "01936f3c-0000-7000-8000-0000000a1101";
const TILL_B = "01936f3c-0000-7000-8000-0000000b1102";
/** A manager's device the test reads the branch's HTTP routes with (never a till: it reports no days). */
const READER = "01936f3c-0000-7000-8000-0000000000b0";
const VIEWER = "01936f3c-0000-7000-8000-0000000000a9";
const f = makeEventFactory(19);

let tz = "";
let today = "";
/** The business day under test: the day before the server's today, in the branch's zone. */
let day = "";
let page: Page;
let tillA: RawDevice;
let tillB: RawDevice;
let frontDesk: RawDevice;
/** Till B's two sales it keeps queued through the close, pushed when it comes back. */
let lateSales: SyncEvent[] = [];

afterAll(async () => {
  for (const d of [tillA, tillB, frontDesk]) await d?.close();
});

async function http(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = { Authorization: `Bearer ${await token(BRANCH, READER, "manager", "auditor")}`, "Content-Type": "application/json" };
  return fetch(new URL(`/v1/branches/${BRANCH}/${path}`, h.server.url), { ...init, headers });
}
const report = async (d: string) => DayReport.parse(await (await http(`days/${d}/report`)).json());
const ledger = async (d: string) => (await (await http(`ledger?day=${d}`)).json()) as { rows: Array<{ device_id: string; currency: string; sales_count: number; sales_minor: number; corrections_count: number; corrections_minor: number; voids_count: number; voids_minor: number; net_minor: number }> };

/** A sale rung on the day under test at `hour`:`minute` in the branch's zone. */
function sale(device: string, receipt: string, amountMinor: number, method: "cash" | "card" | "e_wallet", hour: number, minute = 0): SyncEvent {
  const rungAt = zonedIso(dayStartMs(day, tz) + (hour * 60 + minute) * 60_000, tz);
  return f.event(device, "pos_order", f.nextId(), "create", {
    kind: "sale",
    local_receipt_no: receipt,
    corrects_order_id: null,
    reason: null,
    currency: "LKR",
    lines: [{ sku: null, description: "Passport photos", quantity: 1, unit_price_minor: amountMinor }],
    total_minor: amountMinor,
    payment: method === "cash" ? { method, tendered_minor: amountMinor + 500, change_minor: 500 } : { method, tendered_minor: null, change_minor: null },
    rung_at: rungAt,
    cashier: device === TILL_A ? "ruwan" : "sunil",
  });
}

async function pushConfirmed(d: RawDevice, ...events: SyncEvent[]): Promise<void> {
  const verdicts = await d.push(...events);
  expect(verdicts.map((v) => v.status), JSON.stringify(verdicts).slice(0, 600)).toEqual(events.map(() => "confirmed"));
}

/** A till's account of the day under test (`status` with `pos_days`, protocol v10). */
const reportDays = (d: RawDevice, pending: number, last: string) => d.send({ type: "status", cursor: 0, queue: { pending, oldest_pending_age_ms: pending ? 60_000 : null }, pos_days: [{ day, pending, last_local_receipt_no: last }] });

const live = (p: Page) => expect.poll(() => p.getByTestId("connection").textContent(), { timeout: 20_000 }).toBe("Live");
const group = (p: Page, device: string) => p.getByTestId("day-till-figures").locator(`tbody[data-group="${device}|LKR"]`);
const proofRow = (p: Page, device: string) => p.getByTestId("day-proof-table").locator(`tr[data-till="${device}"]`);
const state = (p: Page) => p.getByTestId("day-state").textContent();

/** The report's figures per till and currency are the ledger's rows, to the minor unit, and so is what the page shows. */
async function expectLedgerEqualsReport(p: Page): Promise<void> {
  const [rows, r] = [(await ledger(day)).rows, await report(day)];
  expect(rows.length).toBeGreaterThan(0);
  const pick = (x: { sales_count: number; sales_minor: number; corrections_count: number; corrections_minor: number; voids_count: number; voids_minor: number; net_minor: number }) => [x.sales_count, x.sales_minor, x.corrections_count, x.corrections_minor, x.voids_count, x.voids_minor, x.net_minor];
  expect(r.figures.tills.map((t) => [t.device_id, t.currency, ...pick(t.total)])).toEqual(rows.map((x) => [x.device_id, x.currency, ...pick(x)]));
  for (const row of rows) await expect.poll(() => group(p, row.device_id).getByTestId("group-net").textContent()).toBe(formatMinor(row.net_minor, row.currency));
  const net = rows.reduce((sum, x) => sum + x.net_minor, 0);
  await expect.poll(() => p.getByTestId("day-totals").getByTestId("group-net").textContent()).toBe(formatMinor(net, "LKR"));
}

describe("the dashboard's Close of day", { timeout: 60_000 }, () => {
  it("seeds a day: till A rings cash, card and e-wallet and confirms; a manager voids one; till B goes offline with two sales queued", async () => {
    // The server's clock and the branch's zone, from its own answer (a report of any real day).
    const probe = await report("2026-01-01");
    tz = probe.time_zone;
    today = dayIn(Date.parse(probe.generated_at), tz);
    day = shiftDay(today, -1);

    tillA = await RawDevice.open(h.server, BRANCH, TILL_A, "cashier", "ruwan", "studiovault-desktop/0.10.0");
    const a = [sale(TILL_A, "A-000001", 450_000, "cash", 9, 30), sale(TILL_A, "A-000002", 1_250_000, "card", 11), sale(TILL_A, "A-000003", 200_000, "e_wallet", 13, 15), sale(TILL_A, "A-000004", 180_000, "cash", 16, 40)];
    await pushConfirmed(tillA, ...a);
    frontDesk = await RawDevice.open(h.server, BRANCH, DEVICES.frontDesk, "manager", "nimal", "studiovault-desktop/0.10.0");
    await pushConfirmed(frontDesk, f.event(DEVICES.frontDesk, "pos_order", a[1]!.entity_id, "void", { reason: "Card charged twice" }, { base: 1 }));
    // Till A's account of the day, made after it ended: nothing queued, its last receipt is in.
    reportDays(tillA, 0, "A-000004");

    tillB = await RawDevice.open(h.server, BRANCH, TILL_B, "cashier", "sunil", "studiovault-desktop/0.10.0");
    lateSales = [sale(TILL_B, "B-000003", 440_000, "e_wallet", 17), sale(TILL_B, "B-000004", 800_000, "cash", 18, 20)];
    reportDays(tillB, 2, "B-000004");
    await pushConfirmed(tillB, sale(TILL_B, "B-000001", 300_000, "cash", 10), sale(TILL_B, "B-000002", 600_000, "card", 12));
    await tillB.close();

    // Till A's status is not answered: the branch is asked until it has it.
    await expect.poll(async () => (await report(day)).tills.map((t) => [t.device_id, t.state]), { timeout: 10_000 }).toEqual([
      [TILL_A, "confirmed"],
      [TILL_B, "unconfirmed"],
    ]);
    expect((await report(day)).state).toBe("open");
  });

  it("opens on today in the branch's zone; the day before shows as open with its figures per till and method, equal to the ledger, and B not yet confirmed", async () => {
    ({ page } = await h.open());
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    await page.goto(new URL(`/#branch=${BRANCH}&token=${await token(BRANCH, DEVICES.dashboard, "manager", "priya")}`, h.server.url).href);
    await live(page);
    await page.getByRole("tab", { name: "Close of day" }).click();
    const picker = page.getByLabel(`Business day (${tz})`);
    // Today by the server's clock in the branch's zone (the browser is in Los Angeles); a test that
    // straddles the branch's midnight may see the next day.
    await expect.poll(() => picker.inputValue()).toMatch(new RegExp(`^(${today}|${shiftDay(today, 1)})$`));
    await page.getByTestId("day-head").waitFor();
    expect(await state(page)).toBe("Open · not closed yet");
    if ((await picker.inputValue()) !== today) await picker.fill(today);
    await page.getByRole("button", { name: "← Day before" }).click();
    await expect.poll(() => page.getByRole("heading", { level: 2, name: /^Z-report/ }).textContent()).toContain(String(Number(day.slice(8))));
    expect(await picker.inputValue()).toBe(day);
    expect(await state(page)).toBe("Open · not closed yet");
    expect(await page.getByTestId("day-studio").textContent()).toBe(BRANCH);

    // Till A: cash 2 sales, card 1 sale voided, e-wallet 1 sale.
    const a = group(page, TILL_A);
    expect(await a.locator("tr.group").textContent()).toMatch(/^ruwan · …0a1101 · LKR · receipts #\d+–#\d+$/);
    expect(await a.locator('tr[data-method="cash"]').textContent()).toBe("Cash6,300.00 (2)——6,300.00");
    expect(await a.locator('tr[data-method="card"]').textContent()).toBe("Card12,500.00 (1)—−12,500.00 (1)0.00");
    expect(await a.locator('tr[data-method="e_wallet"]').textContent()).toBe("E-wallet2,000.00 (1)——2,000.00");
    await expectLedgerEqualsReport(page);
    expect(await page.getByTestId("day-net").textContent()).toBe("17,300.00 LKR");

    // Every till's proof, B's never hidden.
    expect(await proofRow(page, TILL_A).textContent()).toContain("✓ Confirmed");
    const b = (await proofRow(page, TILL_B).textContent())!;
    expect(b).toContain("⚠ Not yet confirmed");
    expect(b).toMatch(/not yet confirmed: 2 POS changes of the day still queued at/);
    expect(b).toContain("B-000004");
    expect(await page.getByTestId("day-proof-summary").textContent()).toBe("1 of 2 tills not yet confirmed: the figures may not hold all of this day's sales yet.");
    expect(await page.getByTestId("day-revisions").count()).toBe(0);
    await expectAccessible(page, "close of day, open");
    await h.shot(page, "day-open");
    expect(errors, errors.join("\n")).toEqual([]);
  });

  it("a manager closes the day through the UI with a note: revision 1, B still listed not yet confirmed", async () => {
    await page.getByRole("button", { name: "Close day…" }).click();
    const dialog = page.getByTestId("close-day");
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain("1 till is not yet confirmed (sunil · …0b1102)");
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent), { timeout: 5_000 }).toBe("Cancel");
    await dialog.getByLabel("Note (optional, kept with the report)").fill("Closed by Priya at 19:00");
    await expectAccessible(page, "close of day, confirm");
    await dialog.getByRole("button", { name: "Close day" }).click();
    await expect.poll(() => page.getByTestId("day-outcome").textContent()).toMatch(/^Closed .* as revision 1 \(net 17,300\.00 LKR\)/);
    await expect.poll(() => state(page)).toBe("Closed · revision 1");
    expect(await page.getByTestId("day-state-words").textContent()).toContain("by priya");
    expect(await page.getByRole("button", { name: "Close day…" }).count()).toBe(0);
    expect(await page.getByTestId("day-revisions").locator("li").allTextContents()).toEqual([expect.stringMatching(/^Revision 1 · closed by priya · net 17,300\.00 LKR/)]);
    expect(await proofRow(page, TILL_B).textContent()).toContain("⚠ Not yet confirmed");
    expect(await page.getByTestId("day-head").textContent()).toContain("Closed by Priya at 19:00");
    await expectLedgerEqualsReport(page);
    // Closed already: the branch refuses a second close (409, with the report as it stands).
    const again = await http(`days/${day}/close`, { method: "POST", body: "{}" });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: string }).error).toBe("day_closed");
    await expectAccessible(page, "close of day, closed");
    await h.shot(page, "day-closed-unconfirmed");
  });

  it("counts till A's drawer: a typo is said by the amount parser, the count shows its negative variance", async () => {
    await page.getByRole("button", { name: "Count the LKR drawer of ruwan · …0a1101" }).click();
    const dialog = page.getByTestId("count-drawer");
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain("the till's cash net is 6,300.00 LKR");
    const amount = dialog.getByLabel("Counted cash (LKR)");
    await amount.fill("62,50");
    await amount.blur();
    expect(await dialog.locator("#count-amount-error").textContent()).toBe("Enter an amount like 12,500.00");
    expect(await dialog.getByRole("button", { name: "Save count" }).isDisabled()).toBe(true);
    await amount.fill("6,250");
    await dialog.getByLabel("Note (optional)").fill("Float of 5,000 taken out first");
    await dialog.getByRole("button", { name: "Save count" }).click();
    await expect.poll(() => page.getByTestId("day-outcome").textContent()).toBe("Counted 6,250.00 LKR in the drawer of ruwan · …0a1101: -50.00 LKR · short.");
    const row = page.getByTestId("day-drawers").locator(`tr[data-drawer="${TILL_A}|LKR"]`);
    await expect.poll(() => row.getByTestId("variance").textContent()).toBe("-50.00 LKR · short");
    expect(await row.getAttribute("class")).toBe("short");
    expect(await row.textContent()).toContain("6,300.00");
    expect((await report(day)).drawer_counts.map((c) => [c.device_id, c.counted_minor, c.expected_minor, c.variance_minor])).toEqual([[TILL_A, 625_000, 630_000, -5_000]]);
    await expectAccessible(page, "close of day, drawer counted");
    await h.shot(page, "day-drawer-short");
  });

  it("till B comes back: its late sales amend the report to revision 2 live (no reload) with the difference, and B is confirmed", async () => {
    await page.evaluate(() => ((window as unknown as { stillHere: boolean }).stillHere = true));
    tillB = await RawDevice.open(h.server, BRANCH, TILL_B, "cashier", "sunil", "studiovault-desktop/0.10.0");
    await pushConfirmed(tillB, ...lateSales);
    await expect.poll(() => state(page), { timeout: 10_000 }).toBe("Closed · revision 2");
    const revisions = page.getByTestId("day-revisions").locator("li");
    expect(await revisions.count()).toBe(2);
    expect(await revisions.nth(1).locator(".revision-line").textContent()).toBe("Revision 2 · late sales from till sunil · …0b1102: +12,400.00 LKR net (+2 sales)");
    expect(await revisions.nth(1).textContent()).toContain("net now 29,700.00 LKR");
    // Its queue is empty now: the next report confirms it, and the page follows (observed).
    reportDays(tillB, 0, "B-000004");
    await expect.poll(() => proofRow(page, TILL_B).textContent(), { timeout: 10_000 }).toContain("✓ Confirmed");
    await expect.poll(() => page.getByTestId("day-proof-summary").textContent()).toBe("All 2 tills confirmed: the branch has every sale they rang on this day.");
    expect(await page.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere)).toBe(true);
    expect(await page.getByTestId("day-net").textContent()).toBe("29,700.00 LKR");
    await expectLedgerEqualsReport(page);
    await expectAccessible(page, "close of day, amended");
    await h.shot(page, "day-amended");
  });

  it("prints as a clean Z-report: the studio, the day, the revision and when it was made; no navigation or buttons", async () => {
    await page.emulateMedia({ media: "print" });
    for (const hidden of ["header", ".tabs", ".branch-head", ".day-pick"]) expect(await page.locator(hidden).first().isVisible(), hidden).toBe(false);
    expect(await page.getByRole("button", { name: "Print" }).isVisible()).toBe(false);
    expect(await page.getByRole("button", { name: /Count/ }).first().isVisible()).toBe(false);
    const head = (await page.getByTestId("day-head").textContent())!;
    expect(head).toContain(BRANCH);
    expect(head).toContain("Closed · revision 2");
    expect(head).toContain("Generated");
    await h.shot(page, "day-print");
    await page.emulateMedia({ media: "screen" });
  });

  it("a viewer sees the report, and no Close or Count button", async () => {
    const { page: viewer } = await h.open();
    await viewer.goto(new URL(`/#branch=${BRANCH}&token=${await token(BRANCH, VIEWER, "viewer", "auditor")}`, h.server.url).href);
    await live(viewer);
    await viewer.getByRole("tab", { name: "Close of day" }).click();
    await viewer.getByLabel(`Business day (${tz})`).fill(day);
    await expect.poll(() => state(viewer)).toBe("Closed · revision 2");
    expect(await viewer.getByRole("button", { name: /Close day|Count/ }).count()).toBe(0);
    expect(await viewer.getByRole("columnheader", { name: "Action" }).count()).toBe(0);
    expect(await viewer.getByTestId("day-drawers").textContent()).toContain("-50.00 LKR · short");
    await expectAccessible(viewer, "close of day, viewer");
    await h.shot(viewer, "day-viewer");
  });

  it("a close of a day that has not begun is refused, said in words in the dialog", async () => {
    await page.getByLabel(`Business day (${tz})`).fill(shiftDay(today, 2));
    await expect.poll(() => state(page)).toBe("Open · not closed yet");
    await page.getByRole("button", { name: "Close day…" }).click();
    const dialog = page.getByTestId("close-day");
    await dialog.getByRole("button", { name: "Close day" }).click();
    await expect.poll(() => dialog.getByRole("alert").textContent()).toMatch(/^Not closed: .+ has not begun yet in .+ \(it is .+ there now\)\. A business day can be closed once it has begun\.$/);
    await expectAccessible(page, "close of day, refused");
    await h.shot(page, "day-close-refused");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    expect(await page.getByTestId("close-day").count()).toBe(0);
  });
});
