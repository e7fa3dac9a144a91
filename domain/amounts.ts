/**
 * Money arithmetic and formatting: integer minor units, never floating point. No zod and no imports,
 * so the renderer can compute totals without pulling in the validation library. The schemas
 * (Currency, AmountMinor, Money) are in money.ts.
 */

/**
 * Tax on a taxable amount at a rate in basis points (1/100 of a percent), rounded half up.
 * BigInt because taxable × rate can exceed 2^53 before the division.
 */
export function taxMinor(taxableMinor: number, rateBasisPoints: number): number {
  if (!Number.isSafeInteger(taxableMinor) || !Number.isSafeInteger(rateBasisPoints)) {
    throw new RangeError(`taxMinor needs safe integers, received ${taxableMinor} × ${rateBasisPoints} (validate amounts first)`);
  }
  const product = BigInt(taxableMinor) * BigInt(rateBasisPoints);
  return Number((product + 5_000n) / 10_000n);
}

/** Minor units for people: `410050` → `4,100.50` (two-decimal currencies). */
export function formatMinor(minor: number, currency = ""): string {
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100).toLocaleString("en-US")}.${String(abs % 100).padStart(2, "0")}${currency ? ` ${currency}` : ""}`;
}

/** A POS order's total: the sum of its lines. */
export const posLinesTotalMinor = (lines: ReadonlyArray<{ quantity: number; unit_price_minor: number }>): number =>
  lines.reduce((sum, l) => sum + l.quantity * l.unit_price_minor, 0);

export interface InvoiceTotals {
  subtotal_minor: number;
  taxable_minor: number;
  tax_minor: number;
  total_minor: number;
  paid_minor: number;
  balance_minor: number;
}

/** The one definition of an invoice's arithmetic, used by the server, the desktop and the UI. */
export function invoiceTotals(inv: {
  lines: ReadonlyArray<{ quantity: number; unit_price_minor: number }>;
  discount_minor: number;
  tax_rate_bp: number;
  payments: ReadonlyArray<{ amount_minor: number }>;
}): InvoiceTotals {
  const subtotal = inv.lines.reduce((sum, l) => sum + l.quantity * l.unit_price_minor, 0);
  const taxable = Math.max(0, subtotal - inv.discount_minor);
  const tax = taxMinor(taxable, inv.tax_rate_bp);
  const total = taxable + tax;
  const paid = inv.payments.reduce((sum, p) => sum + p.amount_minor, 0);
  return {
    subtotal_minor: subtotal,
    taxable_minor: taxable,
    tax_minor: tax,
    total_minor: total,
    paid_minor: paid,
    balance_minor: total - paid,
  };
}
