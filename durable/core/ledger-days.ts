/**
 * The POS ledger per business day, till and currency as running totals (`ledger_days`, layout 7):
 * the dashboard's money view reads a range of days as its rows. Updated in the commit of each sale,
 * correction and void (commit.ts), so the totals are always those LEDGER_SQL computes from
 * `pos_orders` and `pos_voids` (I6): a sale or correction adds to its kind and to the net; a void
 * adds the voided order's total to the voids of the order's day and till, and takes it off the net.
 * This module owns the `ledger_days` table.
 */
import type { LedgerRow } from "../../domain/index.js";
import { storedDeviceId } from "./ids.js";
import type { SqlStore } from "./sql.js";

/** A committed POS order (sale or correction): its day, till and currency's totals grow. */
export function ledgerAddOrder(sql: SqlStore, order: { day: string; device_id: string; currency: string; kind: "sale" | "correction"; total_minor: number }): void {
  const sale = order.kind === "sale";
  sql.run(
    `INSERT INTO ledger_days (day, device_id, currency, sales_count, sales_minor, corrections_count, corrections_minor, voids_count, voids_minor, net_minor)
     VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, ?)
     ON CONFLICT (day, device_id, currency) DO UPDATE SET
       sales_count = sales_count + excluded.sales_count, sales_minor = sales_minor + excluded.sales_minor,
       corrections_count = corrections_count + excluded.corrections_count, corrections_minor = corrections_minor + excluded.corrections_minor,
       net_minor = net_minor + excluded.net_minor`,
    order.day,
    order.device_id,
    order.currency,
    sale ? 1 : 0,
    sale ? order.total_minor : 0,
    sale ? 0 : 1,
    sale ? 0 : order.total_minor,
    order.total_minor,
  );
}

/** A committed void of the order `entityId`: counted on that order's day and till, off the net. */
export function ledgerAddVoid(sql: SqlStore, entityId: string): void {
  const order = sql.one<{ day: string; device_id: string; currency: string; total_minor: number }>(
    "SELECT business_day AS day, device_id, currency, total_minor FROM pos_orders WHERE entity_id = ?",
    entityId,
  );
  if (!order) return; // a void commits only for an order the branch has (decide.ts); nothing to count otherwise
  sql.run(
    "UPDATE ledger_days SET voids_count = voids_count + 1, voids_minor = voids_minor + ?, net_minor = net_minor - ? WHERE day = ? AND device_id = ? AND currency = ?",
    order.total_minor,
    order.total_minor,
    order.day,
    order.device_id,
    order.currency,
  );
}

/** The ledger rows of the days in [from, to], in LEDGER_SQL's order (day, till, currency). */
export function ledgerDays(sql: SqlStore, from: string, to: string): LedgerRow[] {
  return sql
    .all<Omit<LedgerRow, "device_id"> & { device_id: string }>(
      `SELECT day, device_id, currency, sales_count, sales_minor, corrections_count, corrections_minor, voids_count, voids_minor, net_minor
       FROM ledger_days WHERE day >= ? AND day <= ? ORDER BY day, device_id, currency`,
      from,
      to,
    )
    .map((row) => ({ ...row, device_id: storedDeviceId(row.device_id) }));
}
