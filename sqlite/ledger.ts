/** The ledger query (the rows are `LedgerRow`, domain/ledger.ts). Pure SQL text; no I/O. */

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
