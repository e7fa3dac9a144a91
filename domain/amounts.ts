/**
 * Money arithmetic, formatting and parsing: integer minor units, never floating point. No zod, and
 * imports only from lib/ and limits.ts, so the renderer can compute totals and read what people type
 * without pulling in the validation library. The schemas (Currency, AmountMinor, Money) are in money.ts.
 */
import { err, ok, type Result } from "../lib/result.js";
import { MAX_AMOUNT_MINOR, MAX_LINE_QUANTITY } from "./limits.js";

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

/**
 * A count for people, grouped by thousands: `1234` → `1,234`. Every count the app and the CLI print
 * in words goes through this one function, so none is left as `1234`.
 */
export const formatCount = (n: number): string => n.toLocaleString("en-US");

/** `n` and the noun, singular for exactly 1: `plural(1234, "change")` → `1,234 changes`. */
export const plural = (n: number, one: string, many = `${one}s`): string => `${formatCount(n)} ${n === 1 ? one : many}`;

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

// ───────────────────── reading what people type ─────────────────────

/** The one wording for a number that is not a number: the screens show it next to the field. */
export const AMOUNT_EXAMPLE = "Enter an amount like 12,500.00";
const QUANTITY_EXAMPLE = "Enter a whole number like 2";

/**
 * A decimal number as people type it, read exactly (no floating point):
 * - digits, optionally grouped by thousands with "," or with spaces (a space, a no-break space or a
 *   narrow no-break space, as locales print them) — commas or spaces, not both, in groups of 3;
 * - then optionally "." and 1 to `decimals` digits;
 * - an optional leading "-" (refused or allowed by the caller); spaces around are ignored.
 * `12,50` is refused rather than guessed: in some locales it means 12.50, in others a typo of 12,500.
 */
const NUMBER = /^(-?)(\d+|[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d{0,2}(?:[ \u00A0\u202F]\d{3})+)(?:\.(\d+))?$/;

type Problem = "empty" | "form" | "decimals";

/** `text` × 10^decimals as an exact integer and its sign (BigInt: a long string of digits must not round). */
function readScaled(text: string, decimals: number): Result<{ negative: boolean; magnitude: bigint }, Problem> {
  const trimmed = text.trim();
  if (trimmed === "") return err("empty");
  const m = NUMBER.exec(trimmed);
  if (!m) return err("form");
  const fraction = m[3] ?? "";
  if (fraction.length > decimals) return err(decimals === 0 ? "form" : "decimals");
  const whole = m[2]!.replace(/[^\d]/g, "");
  return ok({ negative: m[1] === "-", magnitude: BigInt(whole + fraction.padEnd(decimals, "0")) });
}

export interface AmountOptions {
  /** The largest amount accepted, in minor units; default MAX_AMOUNT_MINOR. */
  maxMinor?: number;
  /** What an empty field means (e.g. 0 for "no discount"); absent: an empty field is refused. */
  whenEmpty?: number;
}

/**
 * An amount typed by a person → integer minor units (two decimals): `12,500`, `12 500`, `12500.50`,
 * `12,500.5`, ` 800 ` are accepted; letters, `12,50`, `1.2.3`, `1.005`, negatives and amounts above
 * the limit are refused with a short sentence for people. Never throws; never returns NaN.
 */
export function parseAmountMinor(text: string, opts: AmountOptions = {}): Result<number, string> {
  const max = opts.maxMinor ?? MAX_AMOUNT_MINOR;
  const read = readScaled(text, 2);
  if (!read.ok) {
    if (read.error === "empty") return opts.whenEmpty !== undefined ? ok(opts.whenEmpty) : err("Enter an amount");
    return err(read.error === "decimals" ? "Use at most 2 decimals, like 12,500.50" : AMOUNT_EXAMPLE);
  }
  if (read.value.negative) return err("Enter an amount of 0 or more");
  if (read.value.magnitude > BigInt(max)) return err(`Enter at most ${formatMinor(max)}`);
  return ok(Number(read.value.magnitude));
}

export interface QuantityOptions {
  /** Allow negative quantities (a correction takes items back); 0 is always refused. */
  signed?: boolean;
  /** The largest quantity accepted (and, signed, the most negative); default MAX_LINE_QUANTITY. */
  max?: number;
}

/** A quantity typed by a person: a whole number from 1 (`2`, `1,000`, ` 3 `). Never throws. */
export function parseQuantity(text: string, opts: QuantityOptions = {}): Result<number, string> {
  const max = opts.max ?? MAX_LINE_QUANTITY;
  const read = readScaled(text, 0);
  if (!read.ok) return err(read.error === "empty" ? "Enter a quantity" : QUANTITY_EXAMPLE);
  const { negative, magnitude } = read.value;
  if (magnitude === 0n || (negative && !opts.signed)) return err(opts.signed ? "Enter a quantity other than 0" : "Enter a quantity of 1 or more");
  if (magnitude > BigInt(max)) return err(`Enter at most ${max.toLocaleString("en-US")}`);
  return ok(negative ? -Number(magnitude) : Number(magnitude));
}

/**
 * A whole number typed by a person, from `min` (default 0) to `max`: `1500`, `1,500`, ` 12 500 `.
 * For the counts, offsets, seconds, ids and basis points command lines take: `1e3`, `0x10`, `2.5`
 * and `12,50` are refused, where `Number()` would have read some of them as something else.
 */
export function parseWholeNumber(text: string, opts: { min?: number; max?: number } = {}): Result<number, string> {
  const min = opts.min ?? 0;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  const read = readScaled(text, 0);
  if (!read.ok) return err(read.error === "empty" ? "Enter a number" : "Enter a whole number like 1,500");
  const { negative, magnitude } = read.value;
  const value = negative ? -magnitude : magnitude;
  if (value < BigInt(min)) return err(`Enter a number of ${formatCount(min)} or more`);
  if (value > BigInt(max)) return err(`Enter at most ${formatCount(max)}`);
  return ok(Number(value));
}

/** The largest rate a percent field takes: 100 %, in basis points (the invoice schema's bound). */
export const MAX_RATE_BP = 10_000;

/** A percent typed by a person → basis points: `15` → 1500, `7.25` → 725; 0 to 100, at most 2 decimals. */
export function parsePercentBp(text: string, opts: { whenEmpty?: number } = {}): Result<number, string> {
  const read = readScaled(text, 2);
  const outOfRange = "Enter a rate between 0 and 100%";
  if (!read.ok) {
    if (read.error === "empty") return opts.whenEmpty !== undefined ? ok(opts.whenEmpty) : err("Enter a rate, like 15");
    return err(read.error === "decimals" ? "Use at most 2 decimals, like 7.25" : "Enter a rate like 15 or 7.5");
  }
  if (read.value.negative || read.value.magnitude > BigInt(MAX_RATE_BP)) return err(outOfRange);
  return ok(Number(read.value.magnitude));
}
