/** `studiovault pos …`: the till: sales, corrections, voids and the list of orders on this device. */
import { formatMinor, type PosPaymentMethod } from "../../../domain/index.js";
import { minorUnits, oneOf, parse, posLine, required, UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { showPage, wrote } from "../output.js";
import { pageFlags, pageOf } from "../paging.js";

const METHODS: readonly PosPaymentMethod[] = ["cash", "card", "e_wallet"];

const flags = {
  item: { type: "string", multiple: true, value: "DESC:QTY:PRICE", help: "a line: description, quantity, unit price (repeat for more lines)" },
  method: { type: "string", value: METHODS.join("|"), help: "how the customer pays" },
  tendered: { type: "string", value: "AMOUNT", help: "cash handed over, for the change" },
  currency: { type: "string", value: "CUR", help: "the sale's currency (default LKR)" },
  reason: { type: "string", value: "R", help: "why it is corrected or voided" },
  ...pageFlags,
} as const;

export const pos = defineCommand({
  name: "pos",
  flags,
  usage: [
    { words: "pos sale", required: ["item", "method"], optional: ["tendered", "currency"], help: "ring up a sale" },
    { words: "pos correct ORDER_ID", required: ["item", "method", "reason"], help: "replace a sale's lines (a correction, kept in the ledger)" },
    { words: "pos void ORDER_ID", required: ["reason"], help: "void an order" },
    { words: "pos list", optional: ["limit", "offset"], help: "the orders on this device, with official receipt numbers once synced, a page at a time" },
  ],
  run(argv, ctx) {
    const [sub, ...rest] = argv;
    const { values: v, positionals } = parse(rest, flags, 1);
    const items = () => {
      const list = (v.item ?? []).map((i) => posLine(i));
      if (list.length === 0) throw new UsageError("--item: at least one DESC:QTY:PRICE is needed");
      return list;
    };
    switch (sub) {
      case "sale":
        return wrote(
          ctx,
          ctx.store.posSale({
            currency: v.currency ?? "LKR",
            lines: items(),
            method: oneOf(v.method, METHODS, "--method"),
            tendered_minor: v.tendered === undefined ? null : minorUnits(v.tendered, "--tendered"),
          }),
          "sale",
        );
      case "correct":
        return wrote(
          ctx,
          ctx.store.posCorrection(required(positionals[0], "ORDER_ID", "the order to correct"), {
            lines: items(),
            method: oneOf(v.method, METHODS, "--method"),
            reason: required(v.reason, "--reason", "why it is corrected"),
          }),
          "correction of",
        );
      case "void":
        return wrote(ctx, ctx.store.posVoid(required(positionals[0], "ORDER_ID", "the order to void"), required(v.reason, "--reason", "why it is voided")), "voided");
      case "list": {
        const page = pageOf(v);
        const items = ctx.store.list("pos_order", page);
        const total = ctx.store.count("pos_order");
        return showPage(ctx, items, page, total, (e) =>
          e.entity_type === "pos_order"
            ? `${e.entity_id}  ${e.data.local_receipt_no} ${e.official_receipt_no ? `#${e.official_receipt_no}` : "(no official number yet)"} ${e.data.kind} ${formatMinor(e.data.total_minor, e.data.currency)}${e.void ? " VOID" : ""}`
            : e.entity_id,
        );
      }
      case undefined:
      default:
        throw new UsageError(`pos: expected sale, correct, void or list; received ${JSON.stringify(sub ?? "")}`);
    }
  },
});
