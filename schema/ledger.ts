/**
 * The POS ledger: per till day, device and currency, sales + corrections − voids, in integer minor
 * units. The server, every synced desktop and every snapshot must produce identical rows (I6).
 */
import { z } from "zod";
import { DeviceId } from "./ids.js";
import { Currency, SignedAmountMinor } from "./money.js";
import { IsoDate } from "./text.js";

const count = z.int().min(0);

export const LedgerRow = z.strictObject({
  /** The till's calendar day (the date of `rung_at` in the till's own offset). */
  day: IsoDate,
  device_id: DeviceId,
  currency: Currency,
  sales_count: count,
  sales_minor: SignedAmountMinor,
  corrections_count: count,
  corrections_minor: SignedAmountMinor,
  /** Orders (sales or corrections) of that day later voided, and their total. */
  voids_count: count,
  voids_minor: SignedAmountMinor,
  /** sales + corrections − voids. */
  net_minor: SignedAmountMinor,
});
export type LedgerRow = z.infer<typeof LedgerRow>;

/**
 * The ledger query, shared so the server and the desktop compute it with the same SQL. It expects a
 * `pos_orders` table (entity_id, kind, device_id, currency, total_minor, business_day) and a
 * `pos_voids` table (entity_id), and two parameters: the day twice (or NULL twice for every day).
 */
export const LEDGER_SQL = `
  SELECT o.business_day AS day, o.device_id AS device_id, o.currency AS currency,
    SUM(o.kind = 'sale') AS sales_count,
    COALESCE(SUM(CASE WHEN o.kind = 'sale' THEN o.total_minor END), 0) AS sales_minor,
    SUM(o.kind = 'correction') AS corrections_count,
    COALESCE(SUM(CASE WHEN o.kind = 'correction' THEN o.total_minor END), 0) AS corrections_minor,
    SUM(v.entity_id IS NOT NULL) AS voids_count,
    COALESCE(SUM(CASE WHEN v.entity_id IS NOT NULL THEN o.total_minor END), 0) AS voids_minor,
    COALESCE(SUM(CASE WHEN v.entity_id IS NULL THEN o.total_minor END), 0) AS net_minor
  FROM pos_orders o LEFT JOIN pos_voids v ON v.entity_id = o.entity_id
  WHERE (? IS NULL OR o.business_day = ?)
  GROUP BY o.business_day, o.device_id, o.currency
  ORDER BY o.business_day, o.device_id, o.currency`;
