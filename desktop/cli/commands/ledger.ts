/** `studiovault ledger`: POS totals confirmed by the server, per business day. */
import { formatMinor } from "../../../domain/index.js";
import { formatCount } from "../../../domain/amounts.js";
import { isoDate, parse } from "../args.js";
import { defineCommand } from "../command.js";
import { print } from "../output.js";

const flags = {
  day: { type: "string", value: "YYYY-MM-DD|today", help: "one business day only (days are in the branch's time zone)" },
} as const;

export const ledger = defineCommand({
  name: "ledger",
  flags,
  usage: [{ words: "ledger", optional: ["day"], help: "POS totals confirmed by the server (days in the branch's time zone)" }],
  run(argv, ctx) {
    const { values } = parse(argv, flags);
    // "today" is the branch's business day on the store's clock, not the host's calendar (I13).
    const rows = ctx.store.ledger(values.day === "today" ? ctx.store.today() : isoDate(values.day, "--day"));
    print(ctx, rows, () =>
      rows.length === 0
        ? "no confirmed POS orders"
        : rows
            .map((r) => `${r.day} ${r.device_id} ${r.currency}: sales ${formatCount(r.sales_count)} ${formatMinor(r.sales_minor)}, corrections ${formatCount(r.corrections_count)} ${formatMinor(r.corrections_minor)}, voids ${formatCount(r.voids_count)} ${formatMinor(r.voids_minor)}, net ${formatMinor(r.net_minor)}`)
            .join("\n"),
    );
    return 0;
  },
});
