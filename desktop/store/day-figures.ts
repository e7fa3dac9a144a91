/**
 * The Z-report's figures of one business day as this device can compute them (issue 19, protocol
 * v10): the same `dayFigures` (domain/day-report.ts) over the same facts as the branch
 * (durable/core/days.ts `dayOrders`): the server-confirmed POS orders of the day (`pos_orders`),
 * which of them are voided (`pos_voids`), and each order's payment method from its entity in the
 * base (server truth). POS orders are append-only, changed by a void only, so the base's current
 * entity carries the method the order was rung with. Facts and base come from verdicts, pulls and a
 * snapshot bootstrap alike (rehydrate.ts), so a synced device's figures equal the branch's to the
 * minor unit; orders still queued here are not in them, as they are not on the branch.
 */
import { type DayFigures, type DayOrder, dayFigures, DeviceId, PosPaymentMethod } from "../../domain/index.js";
import type { StoreContext } from "./context.js";

interface OrderRow {
  entity_id: string;
  official_receipt_no: number;
  local_receipt_no: string;
  kind: DayOrder["kind"];
  device_id: string;
  currency: string;
  total_minor: number;
  voided: number;
  method: string | null;
}

/**
 * The day's orders with their methods, by `pos_orders_by_day` (migration 6): one day's rows, never
 * the ledger. The method is read from the base's JSON by SQLite, so no entity is parsed here.
 */
const DAY_ORDERS_SQL = `
  SELECT o.entity_id, o.official_receipt_no, o.local_receipt_no, o.kind, o.device_id, o.currency, o.total_minor,
         v.entity_id IS NOT NULL AS voided, b.body ->> '$.data.payment.method' AS method
    FROM pos_orders o INDEXED BY pos_orders_by_day
    LEFT JOIN pos_voids v ON v.entity_id = o.entity_id
    LEFT JOIN base_entities b ON b.entity_id = o.entity_id
   WHERE o.business_day = ?`;

/** The POS orders of `day` (`YYYY-MM-DD`, the branch's business day) as the figures read them. */
export function dayOrders(ctx: StoreContext, day: string): DayOrder[] {
  return (ctx.stmt(DAY_ORDERS_SQL).all(day) as OrderRow[]).map((row) => {
    // A fact is recorded with its entity (a verdict folds it into the base, a pull and a snapshot
    // write both), so a fact without a method is a damaged file: said, not counted as some method.
    const method = PosPaymentMethod.safeParse(row.method);
    if (!method.success) throw new Error(`POS order ${row.entity_id} (receipt ${row.official_receipt_no}) has no payment method in this device's copy of the branch: its store is damaged`);
    return {
      entity_id: row.entity_id,
      official_receipt_no: row.official_receipt_no,
      local_receipt_no: row.local_receipt_no,
      kind: row.kind,
      device_id: DeviceId.parse(row.device_id),
      currency: row.currency,
      total_minor: row.total_minor,
      method: method.data,
      voided: row.voided === 1,
    };
  });
}

/** The figures of `day` from this device's server-confirmed facts: the branch's own for the same history. */
export function dayFiguresOf(ctx: StoreContext, day: string): DayFigures {
  return dayFigures(dayOrders(ctx, day));
}
