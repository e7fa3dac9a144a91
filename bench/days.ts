/**
 * End of day (issue 19): what closing and amending a business day costs the branch, against the
 * bare baseline in the same run (the same pushes to a day that is not closed). The branch core runs
 * on the Node SQLite adapter (the Durable Object's SQL, without the network).
 *
 * - a day of ORDERS sales over four tills: the open day's report (figures computed from the orders),
 *   the close, and the closed day's report (read from its latest revision);
 * - late pushes to the closed day (one sale, and 100) against the same pushes to an open day: an
 *   amendment adds the batch's orders to the latest revision, so it costs the batch, not the day;
 * - the till's side: `LocalStore.tillDays` (sent with every status) on a store holding the day.
 *
 *   npx tsx bench/days.ts [--quick]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { nodeSqlStore } from "../durable/adapters/node-sqlite.js";
import { BranchCore } from "../durable/core/branch.js";
import type { BranchId, DeviceId, Role, SyncEvent, UserId } from "../domain/index.js";
import { LocalStore } from "../desktop/store/local-store.js";
import { deviceToken } from "../test/support/desktop.js";
import { makeEventFactory } from "../test/support/events.js";
import { summary } from "./lib/stats.js";

const quick = process.argv.includes("--quick");
const ORDERS = quick ? 2_000 : 10_000;
const REPS = quick ? 5 : 20;
const DAY = "2026-11-25";
const NEXT = "2026-11-26";
const TILLS = ["01936f3c-0000-7000-8000-0000000000a1", "01936f3c-0000-7000-8000-0000000000a2", "01936f3c-0000-7000-8000-0000000000a3", "01936f3c-0000-7000-8000-0000000000a4"];
const actor = (device: string, role: Role = "cashier") => ({ device_id: device as DeviceId, user_id: `user-${device.slice(-2)}` as UserId, role });
const METHODS = ["cash", "card", "e_wallet"] as const;

const dir = mkdtempSync(path.join(tmpdir(), "sv-bench-days-"));
try {
  const sql = nodeSqlStore(path.join(dir, "branch.sqlite"));
  let nowMs = Date.UTC(2026, 10, 26, 9);
  const core = new BranchCore(sql, "bench-days" as BranchId, () => nowMs, { defaultTimeZone: "UTC" });
  const f = makeEventFactory(19);
  const sale = (till: string, i: number, day: string): SyncEvent => {
    const method = METHODS[i % 3]!;
    const amount = 1_000 + (i % 997);
    return f.event(till, "pos_order", f.nextId(), "create", {
      kind: "sale",
      local_receipt_no: `T${till.slice(-1)}-${i}`,
      corrects_order_id: null,
      reason: null,
      currency: "LKR",
      lines: [{ sku: null, description: "Prints", quantity: 1, unit_price_minor: amount }],
      total_minor: amount,
      payment: method === "cash" ? { method, tendered_minor: amount, change_minor: 0 } : { method, tendered_minor: null, change_minor: null },
      rung_at: `${day}T10:00:00.000Z`,
      cashier: "nimal",
    });
  };
  for (let i = 0; i < ORDERS; i += 100) {
    const till = TILLS[(i / 100) % TILLS.length]!;
    core.push(actor(till), Array.from({ length: 100 }, (_, j) => sale(till, i + j, DAY)));
  }
  const timed = (n: number, fn: (i: number) => void) => {
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      fn(i);
      ms.push(performance.now() - s);
    }
    return summary(ms);
  };
  let seq = ORDERS;
  const none = new Set<string>();
  const figures = {
    orders: ORDERS,
    open_report_ms: timed(REPS, () => core.dayReport(DAY, none)),
    baseline_push_1_open_day_ms: timed(REPS * 5, () => core.push(actor(TILLS[0]!), [sale(TILLS[0]!, ++seq, NEXT)])),
    baseline_push_100_open_day_ms: timed(REPS, () => core.push(actor(TILLS[0]!), Array.from({ length: 100 }, () => sale(TILLS[0]!, ++seq, NEXT)))),
    close_ms: timed(1, () => {
      nowMs += 1;
      core.closeDay(actor("01936f3c-0000-7000-8000-0000000000e1", "manager"), DAY, null);
    }),
    closed_report_ms: timed(REPS, () => core.dayReport(DAY, none)),
    late_push_1_amends_ms: timed(REPS * 5, () => core.push(actor(TILLS[1]!), [sale(TILLS[1]!, ++seq, DAY)])),
    late_push_100_amends_ms: timed(REPS, () => core.push(actor(TILLS[1]!), Array.from({ length: 100 }, () => sale(TILLS[1]!, ++seq, DAY)))),
    revisions: core.dayReport(DAY, none).revisions.length,
    till_days_ms: { median: 0, p99: 0, min: 0, max: 0, n: 0 },
  };
  // The till's side: tillDays on a store whose queue holds the day's orders (sent with every status).
  const store = LocalStore.open(path.join(dir, "till.sqlite"), { clockMs: () => Date.UTC(2026, 10, 25, 18) });
  const bound = store.init({ server_url: "http://127.0.0.1:9", token: await deviceToken("bench-days", TILLS[0]!, "cashier"), time_zone: "UTC" });
  if (!bound.ok) throw new Error(bound.error);
  for (let i = 0; i < ORDERS / 5; i++) store.posSale({ currency: "LKR", lines: [{ sku: null, description: "Prints", quantity: 1, unit_price_minor: 1_000 + i }], method: "card" });
  figures.till_days_ms = timed(REPS * 5, () => store.tillDays());
  store.close();
  sql.close();

  const row = (label: string, s: { median: number; p99: number }) => console.log(`  ${label.padEnd(58)} median ${String(s.median).padStart(7)} ms   p99 ${String(s.p99).padStart(7)} ms`);
  console.log(`end of day on a day of ${ORDERS.toLocaleString("en-US")} sales over ${TILLS.length} tills (the core on SQLite, no network):`);
  row("open day: the report (figures from the orders)", figures.open_report_ms);
  row("the close (revision 1)", figures.close_ms);
  row("closed day: the report (its latest revision)", figures.closed_report_ms);
  row("baseline: a one-sale push to an open day", figures.baseline_push_1_open_day_ms);
  row("a one-sale late push to the closed day (amends it)", figures.late_push_1_amends_ms);
  row("baseline: a 100-sale push to an open day", figures.baseline_push_100_open_day_ms);
  row("a 100-sale late push to the closed day (amends it)", figures.late_push_100_amends_ms);
  row(`a till's pos_days (tillDays), ${(ORDERS / 5).toLocaleString("en-US")} sales queued`, figures.till_days_ms);
  console.log(`  ${figures.revisions} revisions issued`);
  mkdirSync("bench/results", { recursive: true });
  writeFileSync(`bench/results/days${quick ? "-quick" : ""}.json`, `${JSON.stringify(figures, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
