/** An invoice: lines, tax, discount, payments and a status. Voiding is an operation, not an edit. */
import { z } from "zod";
import { EntityId } from "../ids.js";
import { MAX_AMOUNT_MINOR, MAX_LINE_QUANTITY, MAX_LINES, MAX_UNIT_PRICE_MINOR } from "../limits.js";
import { invoiceTotals } from "../amounts.js";
import { AmountMinor, Currency } from "../money.js";
import { IsoDate, IsoDateTime, line, prose } from "../text.js";

export const InvoiceLine = z.strictObject({
  description: line(200),
  quantity: z.int().min(1).max(MAX_LINE_QUANTITY),
  unit_price_minor: z.int().min(0).max(MAX_UNIT_PRICE_MINOR),
});
export type InvoiceLine = z.infer<typeof InvoiceLine>;

export const PaymentMethod = z.enum(["cash", "card", "e_wallet", "bank_transfer"]);
export type PaymentMethod = z.infer<typeof PaymentMethod>;

export const InvoicePayment = z.strictObject({
  method: PaymentMethod,
  amount_minor: AmountMinor.min(1),
  paid_at: IsoDateTime,
  reference: line(100).nullable(),
});
export type InvoicePayment = z.infer<typeof InvoicePayment>;

/** Statuses a device may set. `void` is reached only through the `void` operation. */
export const EditableInvoiceStatus = z.enum(["draft", "issued", "paid"]);
export const InvoiceStatus = z.enum(["draft", "issued", "paid", "void"]);
export type InvoiceStatus = z.infer<typeof InvoiceStatus>;

const editableFields = {
  reference: line(64).nullable(),
  project_id: EntityId.nullable(),
  client_name: line(200),
  currency: Currency,
  lines: z.array(InvoiceLine).max(MAX_LINES),
  discount_minor: AmountMinor,
  tax_rate_bp: z.int().min(0).max(10_000),
  payments: z.array(InvoicePayment).max(100),
  status: EditableInvoiceStatus,
  issued_on: IsoDate.nullable(),
  due_on: IsoDate.nullable(),
  notes: prose(10_000),
};

function checkInvoice(inv: z.infer<z.ZodObject<typeof editableFields>>, ctx: z.RefinementCtx) {
  const totals = invoiceTotals(inv);
  if (inv.discount_minor > totals.subtotal_minor) {
    ctx.addIssue({ code: "custom", path: ["discount_minor"], message: "discount exceeds the subtotal" });
  }
  if (totals.total_minor > MAX_AMOUNT_MINOR) {
    // Lines alone stay safe integers (limits.ts); tax can double them past 2^53.
    ctx.addIssue({ code: "custom", path: ["tax_rate_bp"], message: `the invoice total exceeds ${MAX_AMOUNT_MINOR} minor units` });
  }
  if (totals.paid_minor > totals.total_minor) {
    ctx.addIssue({ code: "custom", path: ["payments"], message: "payments exceed the invoice total" });
  }
  if (inv.status === "paid" && totals.paid_minor !== totals.total_minor) {
    ctx.addIssue({ code: "custom", path: ["status"], message: "a paid invoice must be paid in full" });
  }
  if (inv.status !== "draft" && inv.lines.length === 0) {
    ctx.addIssue({ code: "custom", path: ["lines"], message: "an issued invoice needs at least one line" });
  }
  if (inv.due_on !== null && inv.issued_on !== null && inv.due_on < inv.issued_on) {
    ctx.addIssue({ code: "custom", path: ["due_on"], message: "must not be before issued_on" });
  }
}

/** Payload of `create`, and the shape every merged update must satisfy. */
// Zod runs refinements even when a field already failed its own bounds (a quantity of 1e308 is
// reported as "too big" and still reaches the refinement): totals are only computed, with BigInt tax,
// on an invoice whose fields all passed, so hostile numbers get an issue, never an exception (I12).
export const InvoiceCreate = z.strictObject(editableFields).superRefine(checkInvoice, { when: (payload) => payload.issues.length === 0 });
export type InvoiceCreate = z.infer<typeof InvoiceCreate>;

/** Payload of `update`: top-level fields to replace; the merged invoice must satisfy InvoiceCreate. */
export const InvoicePatch = z
  .strictObject(editableFields)
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, "an update must change at least one field");
export type InvoicePatch = z.infer<typeof InvoicePatch>;

/** An invoice as the server holds it: the editable fields, plus `void` status and its reason. */
export const InvoiceData = z.strictObject({
  ...editableFields,
  status: InvoiceStatus,
  void_reason: line(500).nullable(),
});
export type InvoiceData = z.infer<typeof InvoiceData>;
