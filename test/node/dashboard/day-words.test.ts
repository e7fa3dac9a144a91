/**
 * The Close of day view's pure parts, in plain Node: today in the branch's zone from the server's
 * clock (whatever this machine's zone), the days around it, a revision, a change and a variance in
 * words, and the drawers a manager may count.
 */
import { describe, expect, it } from "vitest";
import type { DayReport, DayRevision, MethodFigures } from "../../../domain/day-report.js";
import { changeWords, drawersOf, revisionWords, shiftDay, todayIn, varianceWords } from "../../../dashboard/day-words.js";

const A = "01936f3c-0000-7000-8000-0000000a1101" as DayReport["tills"][number]["device_id"];
const B = "01936f3c-0000-7000-8000-0000000b1102" as DayReport["tills"][number]["device_id"];
const zero: MethodFigures = { sales_count: 0, sales_minor: 0, corrections_count: 0, corrections_minor: 0, voids_count: 0, voids_minor: 0, net_minor: 0 };
const f = (p: Partial<MethodFigures>): MethodFigures => ({ ...zero, ...p });
const name = (id: string) => (id === A ? "ruwan · …0a1101" : "sunil · …0b1102");

describe("the Close of day view's words", () => {
  it("today is the branch's day at the server's now: 2026-11-25 18:45 UTC is already the 26th in Colombo, still the 25th in Los Angeles", () => {
    const at = Date.UTC(2026, 10, 25, 18, 45);
    expect(todayIn(at, "Asia/Colombo")).toBe("2026-11-26");
    expect(todayIn(at, "America/Los_Angeles")).toBe("2026-11-25");
    expect(shiftDay("2026-11-26", -1)).toBe("2026-11-25");
    expect(shiftDay("2026-12-31", 1)).toBe("2027-01-01");
    expect(shiftDay("2028-03-01", -1)).toBe("2028-02-29");
  });

  it("a close and an amendment in one line each, the amendment with its difference", () => {
    const figures = { tills: [], currencies: [{ currency: "LKR", first_receipt_no: 1, last_receipt_no: 6, by_method: {}, total: f({ sales_count: 6, sales_minor: 2_980_000, net_minor: 1_730_000 }) }] };
    const close: DayRevision = { revision: 1, reason: "close", at: "2026-11-25T13:30:00.000Z", by_device: A, by_user: "priya" as DayRevision["by_user"], through_seq: 7, note: null, figures, changes: [] };
    expect(revisionWords(close, name)).toBe("Revision 1 · closed by priya · net 17,300.00 LKR");
    const late: DayRevision = { ...close, revision: 2, reason: "late_pos", by_device: B, by_user: "sunil" as DayRevision["by_user"], changes: [{ device_id: B, currency: "LKR", total: f({ sales_count: 2, sales_minor: 1_240_000, net_minor: 1_240_000 }) }] };
    expect(revisionWords(late, name)).toBe("Revision 2 · late sales from till sunil · …0b1102: +12,400.00 LKR net (+2 sales)");
    // A late void of another till's order names that till.
    const voided = { ...late, revision: 3, changes: [{ device_id: A, currency: "LKR", total: f({ voids_count: 1, voids_minor: 1_250_000, net_minor: -1_250_000 }) }] };
    expect(revisionWords(voided, name)).toBe("Revision 3 · late sales from till sunil · …0b1102: ruwan · …0a1101 -12,500.00 LKR net (+1 void)");
    expect(changeWords({ device_id: A, currency: "USD", total: f({ sales_count: -1, net_minor: -4_000 }) })).toBe("-40.00 USD net (−1 sale)");
  });

  it("a variance: short is negative and bad, over is warned, zero is balanced", () => {
    expect(varianceWords(-5_000, "LKR")).toEqual({ text: "-50.00 LKR · short", tone: "bad" });
    expect(varianceWords(20_000, "LKR")).toEqual({ text: "+200.00 LKR · over", tone: "warn" });
    expect(varianceWords(0, "LKR")).toEqual({ text: "0.00 LKR · balanced", tone: "ok" });
  });

  it("every till and currency of the figures is a drawer, expected its cash net, with its latest count beside it", () => {
    const till = (device_id: typeof A, cash: number) => ({ device_id, currency: "LKR", first_receipt_no: 1, last_receipt_no: 2, by_method: { cash: f({ net_minor: cash }), card: f({ net_minor: 99 }) }, total: f({}) });
    const report = {
      figures: { tills: [till(A, 630_000), { ...till(B, 0), by_method: {} }], currencies: [] },
      drawer_counts: [{ device_id: A, currency: "LKR", counted_minor: 625_000, expected_minor: 630_000, variance_minor: -5_000, at: "2026-11-25T13:40:00.000Z", by_user: "priya", note: null }],
    } as unknown as DayReport;
    expect(drawersOf(report).map((d) => [d.device_id, d.expected_minor, d.count?.variance_minor ?? null])).toEqual([
      [A, 630_000, -5_000],
      [B, 0, null],
    ]);
  });
});
