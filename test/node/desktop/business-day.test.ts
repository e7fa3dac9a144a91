/**
 * I13: a business day is a calendar day in the branch's time zone, whatever zone the till's host is
 * set to. A sale rung at 23:30 branch time belongs to that day on the till and on the server.
 */
import { afterEach, describe, expect, it } from "vitest";
import { dayIn, offsetMinutes, zonedIso } from "../../../domain/index.js";
import { DEVICES, makeCore } from "../../support/branch.js";
import { openStore, syncDirect } from "../../support/desktop.js";

/** The instant that is `hh:mm` on `day` (YYYY-MM-DD) in `timeZone`. */
function wallClock(day: string, hh: number, mm: number, timeZone: string): number {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  const asUtc = Date.UTC(y, m - 1, d, hh, mm);
  // Two steps settle a zone whose offset differs on either side of the guess (not the case here).
  let ms = asUtc - offsetMinutes(asUtc, timeZone) * 60_000;
  ms = asUtc - offsetMinutes(ms, timeZone) * 60_000;
  return ms;
}

const hostZone = process.env.TZ;
afterEach(() => {
  // Node re-reads TZ when it is assigned: restore the host's zone for the tests after these.
  if (hostZone === undefined) delete process.env.TZ;
  else process.env.TZ = hostZone;
});

const sale = { currency: "LKR" as const, lines: [{ sku: null, description: "Passport photos", quantity: 1, unit_price_minor: 80_000 }], method: "card" as const };

describe("business days are days in the branch's time zone (I13)", () => {
  // Branches east and west of UTC, each with tills whose hosts are set to other zones.
  const branches = ["Asia/Colombo", "America/Los_Angeles", "Pacific/Kiritimati", "UTC"];
  const hosts = ["UTC", "America/Los_Angeles", "Asia/Colombo", "Pacific/Kiritimati"];

  for (const branchZone of branches) {
    it.each(hosts)(`a sale at 23:30 in ${branchZone} lands on that day on the till and on the server (host in %s)`, async (host) => {
      process.env.TZ = host;
      const at = wallClock("2026-11-25", 23, 30, branchZone);
      const t = makeCore(":memory:", { timeZone: branchZone, nowMs: at });
      const { store, advance } = await openStore({ device: DEVICES.A, timeZone: branchZone, nowMs: at });
      try {
        expect(store.today()).toBe("2026-11-25");
        const late = store.posSale(sale);
        if (!late.ok) throw new Error(late.error.message);
        const late_rung = (late.value.entity.data as { rung_at: string }).rung_at;
        // rung_at keeps the branch's offset: the receipt shows the branch's wall-clock time.
        expect(late_rung).toBe(zonedIso(at, branchZone));
        expect(late_rung.slice(11, 16)).toBe("23:30");

        advance(60 * 60_000); // 00:30 the next morning, branch time
        expect(store.today()).toBe("2026-11-26");
        const early = store.posSale({ ...sale, lines: [{ ...sale.lines[0]!, unit_price_minor: 6_000 }] });
        if (!early.ok) throw new Error(early.error.message);

        syncDirect(store, t.core);
        const byDay = (rows: Array<{ day: string; net_minor: number }>) => Object.fromEntries(rows.map((r) => [r.day, r.net_minor]));
        const expected = { "2026-11-25": 80_000, "2026-11-26": 6_000 };
        expect(byDay(store.ledger())).toEqual(expected);
        expect(byDay(t.core.ledger(null))).toEqual(expected);
        expect(store.ledger("2026-11-25")).toEqual(t.core.ledger("2026-11-25"));
        // The host's own calendar says otherwise for at least one of these hosts; it is not asked.
        expect(dayIn(at, branchZone)).toBe("2026-11-25");
      } finally {
        store.close();
        t.close();
      }
    });
  }

  it("the till learns its branch's zone from the server, and keeps it", async () => {
    const { store } = await openStore({ device: DEVICES.B });
    try {
      store.setTimeZone("Asia/Colombo");
      expect(store.timeZone()).toBe("Asia/Colombo");
      store.setTimeZone("Not/AZone"); // never from a well-formed welcome; ignored all the same
      expect(store.timeZone()).toBe("Asia/Colombo");
      expect(store.init({ server_url: "http://127.0.0.1:8787", token: store.config()!.token, time_zone: "Mars/Olympus" })).toEqual({
        ok: false,
        error: 'time zone "Mars/Olympus" is not an IANA time zone (e.g. Asia/Colombo)',
      });
    } finally {
      store.close();
    }
  });
});
