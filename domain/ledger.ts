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
