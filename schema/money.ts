/**
 * Money is integer minor units (cents, cents-of-rupee …) with an ISO 4217 currency code.
 * Floating point never touches an amount.
 */
import { z } from "zod";
import { MAX_AMOUNT_MINOR } from "./limits.js";

export const Currency = z
  .string()
  .length(3)
  .regex(/^[A-Z]{3}$/, "must be an ISO 4217 code such as LKR or USD");
export type Currency = z.infer<typeof Currency>;

/** A non-negative amount in minor units. */
export const AmountMinor = z.int().min(0).max(MAX_AMOUNT_MINOR);
/** A signed amount in minor units (corrections may refund). */
export const SignedAmountMinor = z.int().min(-MAX_AMOUNT_MINOR).max(MAX_AMOUNT_MINOR);

export const Money = z.strictObject({ amount_minor: AmountMinor, currency: Currency });
export type Money = z.infer<typeof Money>;

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
