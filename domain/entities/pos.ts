/**
 * POS orders: walk-in sales and corrections. Append-only (I6): a POS order is created once and never
 * edited or deleted. A correction is a new order that references the original; a void is a separate
 * logged fact. Branch totals are sales + corrections − voids.
 *
 * Offline receipts cannot take the branch's official sequential number, so a sale carries a
 * device-local receipt number and the server assigns `official_receipt_no` when it commits.
 */
import { z } from "zod";
import { posLinesTotalMinor } from "../amounts.js";
import { DeviceId, EntityId, UserId } from "../ids.js";
import { MAX_LINE_QUANTITY, MAX_UNIT_PRICE_MINOR } from "../limits.js";
import { AmountMinor, Currency, SignedAmountMinor } from "../money.js";
import { IsoDateTime, line } from "../text.js";

export const PosOrderKind = z.enum(["sale", "correction"]);
export type PosOrderKind = z.infer<typeof PosOrderKind>;

export const PosPaymentMethod = z.enum(["cash", "card", "e_wallet"]);
export type PosPaymentMethod = z.infer<typeof PosPaymentMethod>;

export const PosLine = z.strictObject({
  sku: line(64).nullable(),
  description: line(200),
  /** Positive on a sale. On a correction, negative takes items back and positive adds them. */
  quantity: z
    .int()
    .min(-MAX_LINE_QUANTITY)
    .max(MAX_LINE_QUANTITY)
    .refine((q) => q !== 0, "quantity must not be 0"),
  unit_price_minor: z.int().min(0).max(MAX_UNIT_PRICE_MINOR),
});
export type PosLine = z.infer<typeof PosLine>;

export const PosPayment = z.strictObject({
  method: PosPaymentMethod,
  /** Cash only: what the customer handed over. */
  tendered_minor: AmountMinor.nullable(),
  /** Cash only: tendered − total. */
  change_minor: AmountMinor.nullable(),
});
export type PosPayment = z.infer<typeof PosPayment>;

/** Payload of a POS `create`: what the till records. Never changes afterwards. */
export const PosOrderCreate = z
  .strictObject({
    kind: PosOrderKind,
    /** Device-local receipt number printed on an offline receipt, e.g. `T2-000042`. */
    local_receipt_no: z.string().min(1).max(32).regex(/^[A-Za-z0-9-]+$/, "must be letters, digits and '-'"),
    /** Required on a correction: the sale (or earlier correction) it corrects. */
    corrects_order_id: EntityId.nullable(),
    /** Required on a correction: why. */
    reason: line(500).nullable(),
    currency: Currency,
    lines: z.array(PosLine).min(1).max(200),
    /** Must equal the sum of the lines; stored so receipts and ledgers never recompute differently. */
    total_minor: SignedAmountMinor,
    payment: PosPayment,
    rung_at: IsoDateTime,
    cashier: UserId,
  })
  .superRefine((order, ctx) => {
    const total = posLinesTotalMinor(order.lines);
    if (order.total_minor !== total) {
      ctx.addIssue({
        code: "custom",
        path: ["total_minor"],
        message: `must equal the sum of the lines (expected ${total}, received ${order.total_minor})`,
      });
    }
    if (order.kind === "sale") {
      if (order.corrects_order_id !== null) {
        ctx.addIssue({ code: "custom", path: ["corrects_order_id"], message: "a sale corrects nothing" });
      }
      order.lines.forEach((l, i) => {
        if (l.quantity < 0) {
          ctx.addIssue({ code: "custom", path: ["lines", i, "quantity"], message: "a sale line must be positive" });
        }
      });
    } else {
      if (order.corrects_order_id === null) {
        ctx.addIssue({ code: "custom", path: ["corrects_order_id"], message: "a correction must name the order it corrects" });
      }
      if (order.reason === null) {
        ctx.addIssue({ code: "custom", path: ["reason"], message: "a correction needs a reason" });
      }
    }
    const { method, tendered_minor, change_minor } = order.payment;
    if (method === "cash" && order.kind === "sale") {
      if (tendered_minor === null || change_minor === null) {
        ctx.addIssue({ code: "custom", path: ["payment"], message: "a cash sale records tendered and change" });
      } else if (tendered_minor < total) {
        ctx.addIssue({ code: "custom", path: ["payment", "tendered_minor"], message: "tendered is less than the total" });
      } else if (change_minor !== tendered_minor - total) {
        ctx.addIssue({
          code: "custom",
          path: ["payment", "change_minor"],
          message: `change must be tendered − total (expected ${tendered_minor - total}, received ${change_minor})`,
        });
      }
    } else if (tendered_minor !== null || change_minor !== null) {
      ctx.addIssue({ code: "custom", path: ["payment"], message: "tendered and change apply to cash sales only" });
    }
  });
export type PosOrderCreate = z.infer<typeof PosOrderCreate>;

/** The separate, logged fact that an order was voided. */
export const PosVoid = z.strictObject({
  reason: line(500),
  voided_by_device: DeviceId,
  voided_by_user: UserId,
  /** The branch sequence number of the void's commit. */
  seq: z.int().min(1),
});
export type PosVoid = z.infer<typeof PosVoid>;
