/**
 * The store refuses a bad write in the server's words, which name fields by their path
 * (`The change was not valid: tax_rate_bp: Too small: expected number to be >=0`). A screen names
 * them as its labels do: each screen lists the paths of the fields it shows and a sentence for each;
 * any other refusal keeps the store's message. The store's messages stay as they are: other devices,
 * the CLI and the server's logs read them too.
 */
import type { WriteResult } from "../app/api.js";
import { formatMinor } from "../../domain/amounts.js";
import { MAX_AMOUNT_MINOR, MAX_LINE_QUANTITY, MAX_UNIT_PRICE_MINOR } from "../../domain/limits.js";

type Refusal = Extract<WriteResult, { ok: false }>["error"];
/** The refused value (when the detail carries one) → a sentence naming the field as the screen does. */
type Sentence = (received: string | number | null, match: RegExpExecArray) => string;
export type FieldMessages = ReadonlyArray<readonly [RegExp, Sentence]>;

/** The sentence for a refusal's field, or the store's own message when the screen has none for it. */
export function describeRefusal(error: Refusal, fields: FieldMessages): string {
  const field = error.code === "invalid_payload" ? error.detail?.field ?? null : null;
  if (field === null) return error.message;
  for (const [pattern, sentence] of fields) {
    const m = pattern.exec(field);
    if (m) return sentence(error.detail?.received ?? null, m);
  }
  return error.message;
}

const lineNo = (m: RegExpExecArray) => `Line ${Number(m[1]) + 1}`;
const inRange = (v: string | number | null, min: number, max: number) => typeof v === "number" && v >= min && v <= max;

const unitPrice: Sentence = (_, m) => `${lineNo(m)}: unit price must be between 0.00 and ${formatMinor(MAX_UNIT_PRICE_MINOR)}`;
const description: Sentence = (_, m) => `${lineNo(m)}: enter a description of at most 200 characters`;

export const INVOICE_FIELDS: FieldMessages = [
  // tax_rate_bp is also where the schema reports a total past the limit (the rate is fine then).
  [/^tax_rate_bp$/, (v) => (inRange(v, 0, 10_000) ? `The invoice total must be at most ${formatMinor(MAX_AMOUNT_MINOR)}` : "Tax rate must be between 0 and 100%")],
  [/^discount_minor$/, (v) => (inRange(v, 0, MAX_AMOUNT_MINOR) ? "Discount must not be more than the subtotal" : "Discount must be an amount of 0 or more")],
  [/^lines\.(\d+)\.unit_price_minor$/, unitPrice],
  [/^lines\.(\d+)\.quantity$/, (_, m) => `${lineNo(m)}: quantity must be a whole number from 1 to ${MAX_LINE_QUANTITY.toLocaleString("en-US")}`],
  [/^lines\.(\d+)\.description$/, description],
  [/^lines$/, () => "An issued invoice needs at least one line (at most 500)"],
  [/^client_name$/, () => "Client must be a name of at most 200 characters"],
  [/^reference$/, () => "Reference must be at most 64 characters"],
  [/^payments(\.\d+\.amount_minor)?$/, () => "Payments must add up to no more than the invoice total"],
  [/^status$/, () => "A paid invoice must be paid in full"],
];

export const POS_FIELDS: FieldMessages = [
  [/^(payment\.)?tendered_minor$/, () => "Tendered must be at least the total"],
  // The store computes change as tendered − total: a negative change is a short tendered amount.
  [/^payment\.change_minor$/, (v) => (typeof v === "number" && v < 0 ? "Tendered must be at least the total" : "Change must be tendered minus the total")],
  [/^lines\.(\d+)\.unit_price_minor$/, unitPrice],
  [/^lines\.(\d+)\.quantity$/, (_, m) => `${lineNo(m)}: quantity must be from 1 to ${MAX_LINE_QUANTITY.toLocaleString("en-US")}`],
  [/^lines$/, () => "A sale needs 1 to 200 lines"],
];

/** The project form's fields (create and edit say the same thing). */
export const PROJECT_FIELDS: FieldMessages = [
  [/^title$/, () => "Title must be 1 to 200 characters on one line"],
  [/^client\.name$/, () => "Client name must be 1 to 200 characters on one line"],
  [/^client\.email$/, () => "Email must be an email address like name@example.com"],
  [/^client\.phone$/, () => "Phone must be a phone number: digits, spaces, +, ( ) and -"],
  [/^status$/, () => "Choose a status from the list"],
  // The schema reports "an end date needs a start date" at starts_on (received: null), a bad day as itself.
  [/^starts_on$/, (v) => (v === null ? "An end date needs a start date" : "Starts on must be a date like 2026-11-25")],
  [/^ends_on$/, () => "Ends on must not be before the start date"],
  [/^location$/, () => "Location must be at most 500 characters on one line"],
  [/^package\.name$/, () => "Package name must be 1 to 100 characters on one line"],
  [/^package\.price\.amount_minor$/, () => `Price must be between 0.00 and ${formatMinor(MAX_AMOUNT_MINOR)}`],
  [/^package\.price\.currency$/, () => "Currency must be a 3-letter code like LKR"],
  [/^notes$/, () => "Notes must be at most 20,000 characters, without control characters"],
];
