/**
 * Issue 14, "POS history": the POS screen listed orders by receipt text and only the first 12, so
 * after 2,000 sales the sale just rung up was not there. The store's `posHistory` lists them newest
 * rung up first (ties by id), by business day in the branch's zone (I13), a page at a time with the
 * total, and finds a sale by its local or official receipt number, from an index.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { businessDay, offsetMinutes } from "../../../domain/index.js";
import type { LocalEntity, LocalStore } from "../../../desktop/store/local-store.js";
import { type PosHistoryQuery, posHistoryPlan } from "../../../desktop/store/pos-history.js";
import { DEVICES, makeCore } from "../../support/branch.js";
import { openStore, syncDirect } from "../../support/desktop.js";

const ZONE = "Asia/Colombo";
const DAYS = ["2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24", "2026-11-25"];
const SALES_PER_DAY = 400;
const SALE_GAP_MS = 90_000; // 400 sales from 08:00 to 18:00 branch time

/** The instant that is `hh:mm` on `day` in `timeZone`. */
function wallClock(day: string, hh: number, mm: number, timeZone: string): number {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  const asUtc = Date.UTC(y, m - 1, d, hh, mm);
  let ms = asUtc - offsetMinutes(asUtc, timeZone) * 60_000;
  ms = asUtc - offsetMinutes(ms, timeZone) * 60_000;
  return ms;
}

const sale = (unitPriceMinor: number) => ({
  currency: "LKR" as const,
  lines: [{ sku: null, description: "Print A4", quantity: 1, unit_price_minor: unitPriceMinor }],
  method: "card" as const,
});

const order = (e: LocalEntity) => {
  if (e.entity.entity_type !== "pos_order") throw new Error(`not a POS order: ${e.entity.entity_type}`);
  return { id: e.entity.entity_id, ...e.entity.data, official: e.official_receipt_no };
};

function ring(store: LocalStore, unitPriceMinor = 45_000): string {
  const outcome = store.posSale(sale(unitPriceMinor));
  if (!outcome.ok) throw new Error(outcome.error.message);
  return outcome.value.entity.entity_id;
}

describe("POS history over 2,000 sales on five business days", () => {
  let store: LocalStore;
  let setClock: (ms: number) => void;
  let now = 0;
  let lastSeeded = "";

  beforeAll(async () => {
    now = wallClock(DAYS[0]!, 8, 0, ZONE);
    const opened = await openStore({ device: DEVICES.A, timeZone: ZONE, nowMs: now });
    store = opened.store;
    setClock = (ms) => {
      opened.advance(ms - now);
      now = ms;
    };
    for (const day of DAYS) {
      const opening = wallClock(day, 8, 0, ZONE);
      for (let i = 0; i < SALES_PER_DAY; i++) {
        setClock(opening + i * SALE_GAP_MS);
        lastSeeded = ring(store, 6_000 + i);
      }
    }
    return () => store.close();
  }, 60_000);

  it("lists every sale, newest rung up first, and the sale just rung up is first", () => {
    const first = store.posHistory({ limit: 20, offset: 0 });
    expect(first.total).toBe(2_000);
    expect(first.items).toHaveLength(20);
    expect(order(first.items[0]!).id).toBe(lastSeeded);
    const times = first.items.map((e) => Date.parse(order(e).rung_at));
    expect(times).toEqual([...times].sort((a, b) => b - a));

    setClock(wallClock(DAYS.at(-1)!, 18, 30, ZONE));
    const justRung = ring(store);
    const after = store.posHistory({ limit: 20, offset: 0 });
    expect(after.total).toBe(2_001);
    expect(order(after.items[0]!).id).toBe(justRung);
    expect(order(after.items[1]!).id).toBe(lastSeeded);
  });

  it("Today counts only the branch's business day; another day counts its own", () => {
    expect(store.today()).toBe("2026-11-25");
    const today = store.posHistory({ day: store.today(), limit: 20, offset: 0 });
    expect(today.total).toBe(SALES_PER_DAY + 1); // the 400 seeded and the one just rung up
    for (const e of today.items) expect(businessDay(order(e).rung_at, ZONE)).toBe("2026-11-25");
    expect(store.posHistory({ day: "2026-11-23", limit: 20, offset: 0 }).total).toBe(SALES_PER_DAY);
    expect(store.posHistory({ day: "2026-11-20", limit: 20, offset: 0 })).toEqual({ items: [], total: 0 });
  });

  it("pages through every sale exactly once, in order, with the same total on every page", () => {
    const seen: string[] = [];
    let previous = Number.POSITIVE_INFINITY;
    for (let offset = 0; ; offset += 300) {
      const page = store.posHistory({ limit: 300, offset });
      expect(page.total).toBe(2_001);
      if (page.items.length === 0) break;
      for (const e of page.items) {
        const at = Date.parse(order(e).rung_at);
        expect(at).toBeLessThanOrEqual(previous);
        previous = at;
        seen.push(order(e).id);
      }
    }
    expect(seen).toHaveLength(2_001);
    expect(new Set(seen).size).toBe(2_001);
    // The last page of 20: 2,001 = 100 × 20 + 1.
    expect(store.posHistory({ limit: 20, offset: 2_000 }).items).toHaveLength(1);
  });

  it("finds a sale by its local receipt number, with or without the day filter", () => {
    const hit = store.posHistory({ search: "00a1-000042", limit: 20, offset: 0 });
    expect(hit.total).toBe(1);
    expect(order(hit.items[0]!).local_receipt_no).toBe("D00A1-000042");
    expect(store.posHistory({ search: "d00a1-000042", day: DAYS[0], limit: 20, offset: 0 }).total).toBe(1);
    expect(store.posHistory({ search: "D00A1-000042", day: DAYS[1], limit: 20, offset: 0 }).total).toBe(0);
    // A fragment matches every receipt containing it (000001, 000010–000019, 000100–000199, …).
    const fragment = store.posHistory({ search: "00001", limit: 5, offset: 0 });
    const receipts = Array.from({ length: 2_001 }, (_, i) => `D00A1-${String(i + 1).padStart(6, "0")}`);
    expect(fragment.total).toBe(receipts.filter((r) => r.includes("00001")).length);
    expect(fragment.items.every((e) => order(e).local_receipt_no.includes("00001"))).toBe(true);
    // Wildcards are text, not patterns.
    expect(store.posHistory({ search: "%", limit: 20, offset: 0 }).total).toBe(0);
  });

  it("reads pages, the day's range, search and totals from the index, never sorting the bodies", () => {
    const queries: PosHistoryQuery[] = [{ limit: 20, offset: 0 }, { day: "2026-11-25", limit: 20, offset: 20 }, { search: "42", limit: 20, offset: 0 }];
    for (const query of queries) {
      const plan = posHistoryPlan(store.path, query, ZONE);
      expect(plan.page.join("\n"), JSON.stringify(query)).toMatch(/view_pos_history/);
      expect(plan.page.join("\n"), JSON.stringify(query)).not.toMatch(/TEMP B-TREE/);
      // Without a day, the count reads the index alone; a day's range reads that day's rows too
      // (SQLite does not treat an expression over `body` as covered), bounded by the day's sales.
      expect(plan.count.join("\n"), JSON.stringify(query)).toMatch(query.day === undefined ? /COVERING INDEX view_pos_history/ : /INDEX view_pos_history \(<expr>>\? AND <expr><\?\)/);
    }
  });
});

describe("POS history ties and official numbers", () => {
  it("orders sales rung up at the same instant by id, newest id first", async () => {
    const { store } = await openStore({ device: DEVICES.B, timeZone: ZONE });
    try {
      const ids = [ring(store), ring(store), ring(store)];
      const listed = store.posHistory({ limit: 20, offset: 0 }).items.map((e) => order(e).id);
      expect(listed).toEqual([...ids].sort().reverse());
    } finally {
      store.close();
    }
  });

  it("finds a confirmed sale by its official number, with or without '#'", async () => {
    const t = makeCore(":memory:", { timeZone: ZONE });
    const { store, advance } = await openStore({ device: DEVICES.C, timeZone: ZONE });
    try {
      for (let i = 0; i < 3; i++) {
        ring(store, 6_000 * (i + 1));
        advance(60_000);
      }
      syncDirect(store, t.core);
      const all = store.posHistory({ limit: 20, offset: 0 }).items.map(order);
      expect(all.map((o) => o.official)).toEqual([3, 2, 1]);
      for (const search of ["#2", "2"]) {
        const hit = store.posHistory({ search, limit: 20, offset: 0 });
        expect(hit.items.map((e) => order(e).official), search).toEqual([2]);
      }
    } finally {
      store.close();
    }
  });
});
