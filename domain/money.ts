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
