/**
 * The end of a business day on the desktop (issue 19, protocol v10), on real SQLite files against a
 * real branch core: the till's account of its days (`LocalStore.tillDays`, what hello and `status`
 * carry as `pos_days`) and the Z-report's figures from the device's own facts (`LocalStore.dayFigures`),
 * equal to the branch's report for the same history, also on a device bootstrapped from a snapshot.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { LocalStore } from "../../../desktop/store/local-store.js";
import type { SnapshotItem } from "../../../desktop/store/rehydrate.js";
import { tillDaysQueryPlan } from "../../../desktop/store/till-days.js";
import { dayIn, MAX_TILL_DAYS, type PosLine, TILL_DAYS_WINDOW } from "../../../domain/index.js";
import { SnapshotLine } from "../../../protocol/index.js";
import { makeCore } from "../../support/branch.js";
import { openStore, syncDirect } from "../../support/desktop.js";
import * as ex from "../../fixtures/examples.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const B = "01936f3c-0000-7000-8000-0000000000b2";
const C = "01936f3c-0000-7000-8000-0000000000c3";
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const lines = (minor: number): PosLine[] => [{ sku: null, description: "Prints", quantity: 1, unit_price_minor: minor }];
const cleanup: Array<() => void> = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

const ok = <T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T => {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const receiptOf = (w: { entity: { entity_type: string; data: unknown } }) => (w.entity.data as { local_receipt_no: string }).local_receipt_no;

/**
 * A branch in Asia/Colombo (UTC+05:30) and tills whose host would say another day: at 2026-11-25
 * 20:00 UTC it is already the 26th in Colombo. Clocks of branch and tills move together.
 */
async function setup(timeZone = "Asia/Colombo", startMs = Date.UTC(2026, 10, 25, 4, 0, 0)) {
  const server = makeCore(":memory:", { timeZone, nowMs: startMs });
  const open = async (device: string, role: "cashier" | "manager", seed: number) => {
    const s = await openStore({ branch: "test-branch", device, role, seed, timeZone, nowMs: startMs });
    cleanup.push(() => s.store.close());
    return s;
  };
  const a = await open(A, "cashier", 1);
  const b = await open(B, "manager", 2);
  cleanup.push(() => server.close());
  const advance = (ms: number) => {
    server.advance(ms);
    a.advance(ms);
    b.advance(ms);
  };
  return { server, a: a.store, b: b.store, open, advance, timeZone };
}

/** A new device of the branch started from a snapshot of it now: entities, POS facts and voids. */
async function bootstrapped(server: ReturnType<typeof makeCore>, open: (device: string, role: "cashier" | "manager", seed: number) => Promise<{ store: LocalStore }>) {
  const { store } = await open(C, "manager", 3);
  const staging = store.stageSnapshot();
  const seq = server.core.head();
  const counts = { project: 0, invoice: 0, pos_order: 0, tombstones: 0, pos_facts: 0, pos_voids: 0 };
  const parsed = [...server.core.snapshotLines(seq, counts)].map((text) => SnapshotLine.parse(JSON.parse(text)));
  staging.stage(
    parsed.flatMap((l): SnapshotItem[] =>
      l.kind === "entity"
        ? [{ kind: "entity" as const, entity: l.entity }]
        : l.kind === "pos_order"
          ? [{ kind: "pos_order" as const, fact: l.pos }]
          : l.kind === "pos_void"
            ? [{ kind: "pos_void" as const, entity_id: l.entity_id, seq: l.seq }]
            : [],
    ),
  );
  staging.swap(seq, "test snapshot");
  return store;
}

describe("a till's account of its business days (pos_days)", () => {
  it("lists the days with POS events waiting and the last receipt issued, and drops a day once everything of it is confirmed", async () => {
    const { server, a, advance } = await setup();
    const today = "2026-11-25";
    expect(a.tillDays()).toEqual([]);
    const first = ok(a.posSale({ currency: "LKR", lines: lines(1_000), method: "cash" }));
    const second = ok(a.posSale({ currency: "LKR", lines: lines(2_000), method: "card" }));
    expect(a.tillDays()).toEqual([{ day: today, pending: 2, last_local_receipt_no: receiptOf(second) }]);
    // Sent (a batch out, no verdict yet) still waits.
    expect(a.nextBatch()).not.toBeNull();
    expect(a.tillDays()).toEqual([{ day: today, pending: 2, last_local_receipt_no: receiptOf(second) }]);
    syncDirect(a, server.core);
    // Confirmed: nothing waits, the day stays listed (the window) with its last receipt.
    expect(a.tillDays()).toEqual([{ day: today, pending: 0, last_local_receipt_no: receiptOf(second) }]);
    expect(receiptOf(first)).not.toBe(receiptOf(second));
    // Project and invoice events are no POS events: not counted.
    ok(a.createInvoice({ ...ex.invoice, project_id: null, status: "draft", payments: [], issued_on: null }));
    expect(a.tillDays()).toEqual([{ day: today, pending: 0, last_local_receipt_no: receiptOf(second) }]);
    // The next day: yesterday stays in the window, today's new sale waits.
    advance(DAY);
    const third = ok(a.posSale({ currency: "LKR", lines: lines(3_000), method: "cash" }));
    expect(a.tillDays()).toEqual([
      { day: today, pending: 0, last_local_receipt_no: receiptOf(second) },
      { day: "2026-11-26", pending: 1, last_local_receipt_no: receiptOf(third) },
    ]);
  });

  it("names the last receipt that was not refused: a refused order is no receipt of the day, and a day of refused orders only has none", async () => {
    const { server, a, b, advance } = await setup();
    const sale = ok(a.posSale({ currency: "LKR", lines: lines(1_000), method: "cash" }));
    syncDirect(a, server.core);
    advance(DAY);
    // B voids the sale; A, not having heard, corrects it: the branch refuses the correction (its order is void).
    syncDirect(b, server.core);
    ok(b.posVoid(sale.entity.entity_id, "wrong item"));
    syncDirect(b, server.core);
    const refused = ok(a.posCorrection(sale.entity.entity_id, { lines: lines(500), method: "cash", reason: "one more print" }));
    expect(a.tillDays()).toEqual([
      { day: "2026-11-25", pending: 0, last_local_receipt_no: receiptOf(sale) },
      { day: "2026-11-26", pending: 1, last_local_receipt_no: receiptOf(refused) },
    ]);
    syncDirect(a, server.core);
    expect(a.queue({ status: "rejected" }).total).toBe(1);
    // The 26th: an order was issued and refused, so it is listed with no receipt; the 25th keeps its sale.
    expect(a.tillDays()).toEqual([
      { day: "2026-11-25", pending: 0, last_local_receipt_no: receiptOf(sale) },
      { day: "2026-11-26", pending: 0, last_local_receipt_no: null },
    ]);
    // A later sale the same day is its last receipt; the refused one never is.
    const later = ok(a.posSale({ currency: "LKR", lines: lines(700), method: "card" }));
    syncDirect(a, server.core);
    expect(a.tillDays().at(-1)).toEqual({ day: "2026-11-26", pending: 0, last_local_receipt_no: receiptOf(later) });
  });

  it("counts a void on the day of the order it voids, another till's order of another day", async () => {
    const { server, a, b, advance } = await setup();
    const order = ok(a.posSale({ currency: "LKR", lines: lines(1_000), method: "cash" }));
    syncDirect(a, server.core);
    advance(2 * DAY);
    syncDirect(b, server.core);
    ok(b.posVoid(order.entity.entity_id, "wrong item"));
    // B issued nothing: the day is listed for its waiting void only, with no receipt of B's.
    expect(b.tillDays()).toEqual([{ day: "2026-11-25", pending: 1, last_local_receipt_no: null }]);
    syncDirect(b, server.core);
    expect(b.tillDays()).toEqual([]);
  });

  it("counts days in the branch's zone, not UTC's: 20:00 UTC is the next day in Colombo", async () => {
    const { a, advance } = await setup("Asia/Colombo", Date.UTC(2026, 10, 25, 20, 0, 0));
    const sale = ok(a.posSale({ currency: "LKR", lines: lines(1_000), method: "cash" }));
    expect(dayIn(a.nowMs(), "UTC")).toBe("2026-11-25");
    expect(a.tillDays()).toEqual([{ day: "2026-11-26", pending: 1, last_local_receipt_no: receiptOf(sale) }]);
    // 23 hours on it is 00:30 on the 27th in Colombo (still the 26th in UTC): the sale stays on the 26th.
    advance(23 * HOUR);
    expect([a.today(), dayIn(a.nowMs(), "UTC")]).toEqual(["2026-11-27", "2026-11-26"]);
    expect(a.tillDays(a.nowMs())).toEqual([{ day: "2026-11-26", pending: 1, last_local_receipt_no: receiptOf(sale) }]);
  });

  it("keeps receipts of the last TILL_DAYS_WINDOW days only, but every day with events waiting however old", async () => {
    const { server, a, advance } = await setup();
    ok(a.posSale({ currency: "LKR", lines: lines(1_000), method: "cash" })); // 2026-11-25, confirmed below
    syncDirect(a, server.core);
    advance(DAY);
    const waiting = ok(a.posSale({ currency: "LKR", lines: lines(1_000), method: "cash" })); // 2026-11-26, stays queued
    advance(TILL_DAYS_WINDOW * DAY); // today is 2026-12-27: the 26th is exactly TILL_DAYS_WINDOW days before
    expect(a.today()).toBe("2026-12-27");
    expect(a.tillDays()).toEqual([{ day: "2026-11-26", pending: 1, last_local_receipt_no: receiptOf(waiting) }]);
    advance(DAY);
    syncDirect(a, server.core);
    // Confirmed and out of the window: nothing to tell.
    expect(a.tillDays()).toEqual([]);
  });

  it("lists at most MAX_TILL_DAYS, the days with events waiting first, then the newest", async () => {
    const { a, advance } = await setup("UTC", Date.UTC(2026, 0, 1, 12, 0, 0));
    // 70 days with a queued sale each, then 20 days of the window with confirmed ones would not fit.
    for (let i = 0; i < MAX_TILL_DAYS + 6; i++) {
      ok(a.posSale({ currency: "LKR", lines: lines(1_000), method: "cash" }));
      advance(DAY);
    }
    const days = a.tillDays();
    expect(days).toHaveLength(MAX_TILL_DAYS);
    expect(days.every((d) => d.pending === 1)).toBe(true);
    // The newest kept, sorted by day.
    expect(days.at(-1)!.day).toBe(dayIn(a.nowMs() - DAY, "UTC"));
    expect(days.map((d) => d.day)).toEqual([...days.map((d) => d.day)].sort());
  });

  it("reads one index, covering: the waiting events and each day's range from queue_pos_days, never a scan of the queue nor a payload", async () => {
    const { a } = await setup();
    ok(a.posSale({ currency: "LKR", lines: lines(1_000), method: "cash" }));
    const plan = tillDaysPlan(a);
    const reads = plan.filter((line) => /\b(q|sync_queue)\b/.test(line) && /^(SEARCH|SCAN)/.test(line));
    expect(reads).toEqual([
      "SEARCH q USING COVERING INDEX queue_pos_days (entity_type=? AND sync_status=?)",
      "SEARCH q USING COVERING INDEX queue_pos_days (entity_type=? AND sync_status=? AND <expr>>? AND <expr><?)",
      // The last receipt's row: one per day, by position.
      "SEARCH sync_queue USING INTEGER PRIMARY KEY (rowid=?)",
      "SEARCH q USING COVERING INDEX queue_pos_days (entity_type=? AND sync_status=? AND <expr>>? AND <expr><?)",
    ]);
  });
});

describe("the day's figures on the desktop (dayFigures)", () => {
  it("equal the branch's report for the same day on every till, a device that only pulled, and a snapshot bootstrap", async () => {
    const { server, a, b, open, advance } = await setup();
    const day = "2026-11-25";
    const cash = ok(a.posSale({ currency: "LKR", lines: lines(150_000), method: "cash", tendered_minor: 200_000 }));
    const card = ok(a.posSale({ currency: "LKR", lines: lines(90_000), method: "card" }));
    ok(a.posSale({ currency: "USD", lines: lines(4_000), method: "e_wallet" }));
    ok(b.posSale({ currency: "LKR", lines: lines(55_000), method: "card" }));
    syncDirect(a, server.core);
    syncDirect(b, server.core);
    ok(b.posVoid(cash.entity.entity_id, "rang twice"));
    ok(b.posCorrection(card.entity.entity_id, { lines: [{ sku: null, description: "Frame", quantity: 1, unit_price_minor: 7_500 }], method: "cash", reason: "added a frame" }));
    syncDirect(b, server.core);
    // Another day's sale, which is not in the 25th's figures.
    advance(DAY);
    ok(a.posSale({ currency: "LKR", lines: lines(9_999), method: "cash" }));
    syncDirect(a, server.core);
    syncDirect(b, server.core);

    const report = server.core.dayReport(day, new Set());
    expect(report.figures.tills).toHaveLength(3); // A in LKR and USD, B in LKR
    expect(report.figures.currencies.find((c) => c.currency === "LKR")!.total).toMatchObject({ voids_count: 1, voids_minor: 150_000, corrections_count: 1 });
    expect(a.dayFigures(day)).toEqual(report.figures);
    expect(b.dayFigures(day)).toEqual(report.figures);
    const c = await bootstrapped(server, open);
    expect(c.dayFigures(day)).toEqual(report.figures);
    expect(c.dayFigures("2026-11-26")).toEqual(server.core.dayReport("2026-11-26", new Set()).figures);
    // A sale still queued is not in them, as it is not on the branch.
    ok(a.posSale({ currency: "LKR", lines: lines(1), method: "cash" }));
    expect(a.dayFigures("2026-11-26")).toEqual(server.core.dayReport("2026-11-26", new Set()).figures);
  });
});

/** SQLite's plan of tillDays' statements, through a read-only connection on the store's file. */
const tillDaysPlan = (store: LocalStore) => tillDaysQueryPlan(store.path);
