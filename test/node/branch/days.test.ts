/**
 * Issue 19: closing a business day on the branch core (a real SQLite file's engine, an injected
 * clock): the Z-report's figures per till and payment method, amendments by late POS commits, the
 * proof per till and the drawer count.
 */
import { afterEach, describe, expect, it } from "vitest";
import { dayFigures, type DayReport, type LedgerRow, type SyncEvent } from "../../../domain/index.js";
import { dayOrders } from "../../../durable/core/days.js";
import * as ex from "../../fixtures/examples.js";
import { actor, DEVICES, makeCore } from "../../support/branch.js";
import { makeEventFactory } from "../../support/events.js";

const DAY = "2026-11-25";
/** 18:00 on DAY in UTC (the test branch's zone). */
const EVENING = Date.UTC(2026, 10, 25, 18, 0, 0);
const manager = actor(DEVICES.C, "manager", "manager-1");
const tillA = actor(DEVICES.A, "cashier", "cashier-a");
const tillB = actor(DEVICES.B, "cashier", "cashier-b");

let t: ReturnType<typeof makeCore>;
afterEach(() => t.close());

function setup() {
  t = makeCore(":memory:", { nowMs: EVENING });
  const f = makeEventFactory(19);
  for (const a of [manager, tillA, tillB]) t.core.admitHello(a, { app: "studiovault-desktop/test" });
  const sale = (device: string, receipt: string, amount: number, method: "cash" | "card" | "e_wallet", rungAt = `${DAY}T10:00:00.000Z`): SyncEvent =>
    f.event(device, "pos_order", f.nextId(), "create", {
      ...ex.sale,
      local_receipt_no: receipt,
      lines: [{ sku: null, description: "Print", quantity: 1, unit_price_minor: amount }],
      total_minor: amount,
      payment: method === "cash" ? { method, tendered_minor: amount, change_minor: 0 } : { method, tendered_minor: null, change_minor: null },
      rung_at: rungAt,
    });
  return { f, sale };
}

const confirmed = (events: SyncEvent[], by = tillA) => {
  const outcome = t.core.push(by, events);
  expect(outcome.verdicts.map((v) => v.status)).toEqual(events.map(() => "confirmed"));
  return outcome;
};

/** The report's totals per till and currency, as ledger rows: they must be the ledger's (I6). */
const asLedger = (report: DayReport): LedgerRow[] =>
  report.figures.tills.map((till) => ({
    day: report.day,
    device_id: till.device_id,
    currency: till.currency,
    sales_count: till.total.sales_count,
    sales_minor: till.total.sales_minor,
    corrections_count: till.total.corrections_count,
    corrections_minor: till.total.corrections_minor,
    voids_count: till.total.voids_count,
    voids_minor: till.total.voids_minor,
    net_minor: till.total.net_minor,
  }));

describe("closing a business day", () => {
  it("reports per till and payment method, with the receipt range, equal to the ledger", () => {
    const { sale, f } = setup();
    const a1 = sale(DEVICES.A, "A-1", 10_000, "cash");
    confirmed([a1, sale(DEVICES.A, "A-2", 2_500, "card"), sale(DEVICES.A, "A-3", 700, "cash")]);
    confirmed([sale(DEVICES.B, "B-1", 4_000, "e_wallet")], tillB);
    confirmed([f.voidOrder(DEVICES.C, a1.entity_id, { base: 1 })], manager);
    const closed = t.core.closeDay(manager, DAY, "end of day");
    expect(closed).toEqual({ ok: true, issued: { day: DAY, revision: 1, reason: "close" } });
    const report = t.core.dayReport(DAY, new Set());
    expect(report.state).toBe("closed");
    const a = report.figures.tills.find((x) => x.device_id === DEVICES.A)!;
    expect(a.first_receipt_no).toBe(1);
    expect(a.last_receipt_no).toBe(3);
    expect(a.by_method.cash).toEqual({ sales_count: 2, sales_minor: 10_700, corrections_count: 0, corrections_minor: 0, voids_count: 1, voids_minor: 10_000, net_minor: 700 });
    expect(a.by_method.card?.net_minor).toBe(2_500);
    expect(a.by_method.e_wallet).toBeUndefined();
    expect(report.figures.currencies).toEqual([expect.objectContaining({ currency: "LKR", first_receipt_no: 1, last_receipt_no: 4, total: expect.objectContaining({ net_minor: 7_200 }) })]);
    expect(asLedger(report)).toEqual(t.core.ledger(DAY));
    expect(report.revisions).toEqual([expect.objectContaining({ revision: 1, reason: "close", by_device: DEVICES.C, note: "end of day", changes: [] })]);
    expect(t.core.readAudit(0, 100).entries.find((e) => e.kind === "day_closed")?.message).toBe("closed business day 2026-11-25: net 72.00 LKR over 2 tills (end of day)");
  });

  it("refuses a day that has not begun (422) and a day closed already (409)", () => {
    setup();
    expect(t.core.closeDay(manager, "2026-11-26", null)).toMatchObject({ ok: false, status: 422, error: "day_not_started" });
    expect(t.core.closeDay(manager, DAY, null).ok).toBe(true);
    expect(t.core.closeDay(manager, DAY, null)).toMatchObject({ ok: false, status: 409, error: "day_closed" });
    expect(t.core.takeIssuedRevisions()).toEqual([{ day: DAY, revision: 1, reason: "close" }]);
    expect(t.core.takeIssuedRevisions()).toEqual([]);
  });

  it("a late sale for the closed day is accepted and amends the report with the difference, audited", () => {
    const { sale, f } = setup();
    const first = sale(DEVICES.A, "A-1", 10_000, "cash");
    confirmed([first]);
    t.core.closeDay(manager, DAY, null);
    t.advance(3_600_000);
    // Twenty sales rung offline during the day arrive after the close, in one push.
    const late = Array.from({ length: 20 }, (_, i) => sale(DEVICES.B, `B-${i + 1}`, 1_000 + i, i % 2 ? "card" : "cash", `${DAY}T1${i % 10}:00:00.000Z`));
    const outcome = confirmed(late, tillB);
    expect(outcome.issued).toEqual([{ day: DAY, revision: 2, reason: "late_pos" }]);
    // A sale of the next day amends nothing; a void of the closed day's order does.
    confirmed([sale(DEVICES.A, "A-2", 500, "cash", "2026-11-26T00:10:00.000Z")]);
    const voided = confirmed([f.voidOrder(DEVICES.C, first.entity_id, { base: 1 })], manager);
    expect(voided.issued).toEqual([{ day: DAY, revision: 3, reason: "late_pos" }]);

    const report = t.core.dayReport(DAY, new Set());
    expect(report.revisions.map((r) => [r.revision, r.reason, r.by_device])).toEqual([
      [1, "close", DEVICES.C],
      [2, "late_pos", DEVICES.B],
      [3, "late_pos", DEVICES.C],
    ]);
    const added = late.reduce((sum, e) => sum + (e.payload as { total_minor: number }).total_minor, 0);
    expect(report.revisions[1]!.changes).toEqual([{ device_id: DEVICES.B, currency: "LKR", total: { sales_count: 20, sales_minor: added, corrections_count: 0, corrections_minor: 0, voids_count: 0, voids_minor: 0, net_minor: added } }]);
    expect(report.revisions[2]!.changes).toEqual([{ device_id: DEVICES.A, currency: "LKR", total: { sales_count: 0, sales_minor: 0, corrections_count: 0, corrections_minor: 0, voids_count: 1, voids_minor: 10_000, net_minor: -10_000 } }]);
    expect(asLedger(report)).toEqual(t.core.ledger(DAY));
    const amended = t.core.readAudit(0, 100).entries.filter((e) => e.kind === "day_amended").map((e) => e.message);
    expect(amended).toEqual([
      `closed business day ${DAY} amended to revision 2 by late POS commits (${DEVICES.B}: +${(added / 100).toFixed(2)} LKR net); net now ${((10_000 + added) / 100).toFixed(2)} LKR`,
      `closed business day ${DAY} amended to revision 3 by late POS commits (${DEVICES.A}: -100.00 LKR net); net now ${(added / 100).toFixed(2)} LKR`,
    ]);
    // The revisions are append-only in storage too.
    expect(() => t.sql.run("UPDATE day_revisions SET note = 'x'")).toThrow(/append_only/);
  });
});

describe("amendments cost the batch, not the day", () => {
  it("a sale and its void in one late push amend the day as the day's orders say", () => {
    const { sale, f } = setup();
    confirmed([sale(DEVICES.A, "A-1", 10_000, "cash")]);
    t.core.closeDay(manager, DAY, null);
    const late = sale(DEVICES.C, "M-1", 3_000, "card");
    const outcome = confirmed([late, f.voidOrder(DEVICES.C, late.entity_id, { dep: late.id }), sale(DEVICES.C, "M-2", 500, "e_wallet")], manager);
    expect(outcome.issued).toEqual([{ day: DAY, revision: 2, reason: "late_pos" }]);
    const report = t.core.dayReport(DAY, new Set());
    expect(report.revisions[1]!.changes).toEqual([
      { device_id: DEVICES.C, currency: "LKR", total: { sales_count: 2, sales_minor: 3_500, corrections_count: 0, corrections_minor: 0, voids_count: 1, voids_minor: 3_000, net_minor: 500 } },
    ]);
    // The amended figures, made from the revision before and the batch, are those of the day's orders.
    expect(report.figures).toEqual(dayFigures(dayOrders(t.sql, DAY)));
    expect(asLedger(report)).toEqual(t.core.ledger(DAY));
  });
});

describe("the proof per till", () => {
  it("lists every till: confirmed only by a report after the close with nothing queued and its last receipt in", () => {
    const { sale } = setup();
    confirmed([sale(DEVICES.A, "A-1", 10_000, "cash")]);
    // Till A reported during the day (before the close): not a proof for the day yet.
    t.core.recordTillDays(DEVICES.A, [{ day: DAY, pending: 0, last_local_receipt_no: "A-1" }]);
    // Till B was offline all afternoon: its last report, at 14:32, said 3 sales were queued.
    t.advance(-(3 * 3_600_000 + 28 * 60_000));
    t.core.recordTillDays(DEVICES.B, [{ day: DAY, pending: 3, last_local_receipt_no: "B-3" }]);
    t.advance(3 * 3_600_000 + 28 * 60_000);
    // The manager's desk (no till days ever reported, nothing rung) is no till.
    t.core.closeDay(manager, DAY, null);
    let report = t.core.dayReport(DAY, new Set([DEVICES.A]));
    expect(report.tills.map((p) => [p.device_id, p.state, p.why])).toEqual([
      [DEVICES.A, "unconfirmed", "not yet confirmed: last seen 18:00, online"],
      [DEVICES.B, "unconfirmed", "not yet confirmed: last seen 18:00, offline"],
    ]);
    t.advance(60_000);
    t.core.recordTillDays(DEVICES.A, [{ day: DAY, pending: 0, last_local_receipt_no: "A-1" }]);
    t.core.recordTillDays(DEVICES.B, [{ day: DAY, pending: 3, last_local_receipt_no: "B-3" }]);
    report = t.core.dayReport(DAY, new Set([DEVICES.A, DEVICES.B]));
    expect(report.tills.map((p) => [p.device_id, p.state, p.why])).toEqual([
      [DEVICES.A, "confirmed", "confirmed at 18:01: nothing queued, last receipt A-1 received"],
      [DEVICES.B, "unconfirmed", "not yet confirmed: 3 POS changes of the day still queued at 18:01"],
    ]);
    // B's queue drains but its last receipt was refused and never reached the branch.
    t.core.recordTillDays(DEVICES.B, [{ day: DAY, pending: 0, last_local_receipt_no: "B-3" }]);
    expect(t.core.dayReport(DAY, new Set()).tills[1]!.why).toBe("not yet confirmed: its last receipt of the day, B-3, has not reached the branch (reported 18:01)");
    confirmed(["B-1", "B-2", "B-3"].map((r) => sale(DEVICES.B, r, 100, "card")), tillB);
    expect(t.core.dayReport(DAY, new Set()).tills[1]!.state).toBe("confirmed");
    // A till that lists no entry for the day has nothing of it: confirmed with nothing rung.
    t.core.recordTillDays(DEVICES.A, []);
    expect(t.core.dayReport(DAY, new Set()).tills[0]!.why).toBe("confirmed at 18:01: nothing rung, nothing queued");
    // ...unless its list is full (MAX_TILL_DAYS): the day may have been left out by the cap.
    const full = Array.from({ length: 64 }, (_, i) => ({ day: new Date(Date.UTC(2026, 6, 1 + i)).toISOString().slice(0, 10), pending: 1, last_local_receipt_no: null }));
    t.core.recordTillDays(DEVICES.A, full);
    expect(t.core.dayReport(DAY, new Set()).tills[0]!.why).toBe("not yet confirmed: its report lists 64 days with POS changes queued or rung, and not this one (reported 18:01)");
  });

  it("a report made once the day ended on the till's own clock proves it before any close; a till whose clock is behind must wait", () => {
    setup();
    t.advance(6 * 3_600_000 + 30 * 60_000); // 00:30 the next morning, server clock
    // Till A's clock is right; till B's is two hours behind (its hello showed it): for B it is 22:30 of the day.
    t.core.admitHello(tillA, { app: "studiovault-desktop/test", clock_ms: t.core.nowMs() });
    t.core.admitHello(tillB, { app: "studiovault-desktop/test", clock_ms: t.core.nowMs() - 2 * 3_600_000 });
    t.core.recordTillDays(DEVICES.A, []);
    t.core.recordTillDays(DEVICES.B, []);
    expect(t.core.dayReport(DAY, new Set()).tills.map((p) => [p.device_id, p.state, p.why])).toEqual([
      [DEVICES.A, "confirmed", "confirmed at 2026-11-26 00:30: nothing rung, nothing queued"],
      [DEVICES.B, "unconfirmed", "not yet confirmed: last seen 2026-11-26 00:30, offline"],
    ]);
    // After the close, any report of B's proves what it had queued then (a later sale would amend the close).
    t.core.closeDay(manager, DAY, null);
    t.advance(1_000);
    t.core.recordTillDays(DEVICES.B, []);
    expect(t.core.dayReport(DAY, new Set()).tills[1]!.state).toBe("confirmed");
  });

  it("a till whose app does not report its days is listed, never left out", () => {
    const { sale } = setup();
    confirmed([sale(DEVICES.A, "A-1", 10_000, "cash")]);
    t.core.closeDay(manager, DAY, null);
    const [proof] = t.core.dayReport(DAY, new Set()).tills;
    expect(proof).toMatchObject({ device_id: DEVICES.A, state: "unconfirmed", pending: null });
    expect(proof!.why).toMatch(/^not yet confirmed: last seen 18:00, offline; its app .* does not report its queue/);
  });
});

describe("the drawer count", () => {
  it("shows the variance against the till's cash net, the latest count counting, audited", () => {
    const { sale } = setup();
    confirmed([sale(DEVICES.A, "A-1", 10_000, "cash"), sale(DEVICES.A, "A-2", 5_000, "card")]);
    t.core.closeDay(manager, DAY, null);
    expect(t.core.countDrawer(manager, DAY, { device_id: tillA.device_id, currency: "LKR", counted_minor: 9_000 })).toEqual({ ok: true });
    expect(t.core.countDrawer(manager, DAY, { device_id: tillA.device_id, currency: "LKR", counted_minor: 9_500, note: "recounted" })).toEqual({ ok: true });
    const report = t.core.dayReport(DAY, new Set());
    expect(report.drawer_counts).toEqual([expect.objectContaining({ device_id: DEVICES.A, currency: "LKR", counted_minor: 9_500, expected_minor: 10_000, variance_minor: -500, note: "recounted" })]);
    expect(t.core.readAudit(0, 100).entries.filter((e) => e.kind === "drawer_counted").at(-1)?.message).toBe(
      `drawer of till ${DEVICES.A} for business day ${DAY}: counted 95.00 LKR, expected 100.00 LKR, variance -5.00 LKR (recounted)`,
    );
    expect(t.core.countDrawer(manager, DAY, { device_id: "01936f3c-0000-7000-8000-0000000000ff" as never, currency: "LKR", counted_minor: 1 })).toMatchObject({ ok: false, status: 404 });
    // A count is never changed or taken back, only counted again (I10): storage refuses both.
    expect(() => t.sql.run("UPDATE drawer_counts SET counted_minor = 10000")).toThrow(/append_only/);
    expect(() => t.sql.run("DELETE FROM drawer_counts")).toThrow(/append_only/);
    expect(() => t.sql.run("DELETE FROM day_revisions")).toThrow(/append_only/);
  });
});
