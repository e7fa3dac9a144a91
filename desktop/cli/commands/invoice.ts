/** `studiovault invoice …`: invoices on this device. */
import type { InvoiceCreate, InvoiceEntity } from "../../../domain/index.js";
import { MAX_RATE_BP } from "../../../domain/amounts.js";
import { minorUnits, oneOf, parse, posLine, required, UsageError, wholeNumber } from "../args.js";
import { defineCommand } from "../command.js";
import { showPage, wrote } from "../output.js";
import { pageFlags, pageOf } from "../paging.js";

const STATUSES = ["draft", "issued", "paid"] as const;

const flags = {
  client: { type: "string", value: "NAME", help: "the client's name" },
  line: { type: "string", multiple: true, value: "DESC:QTY:PRICE", help: "a line: description, quantity, unit price (repeat for more lines)" },
  currency: { type: "string", value: "CUR", help: "the invoice currency (default LKR)" },
  "tax-bp": { type: "string", value: "N", help: "tax rate in basis points, 0-10000 (1500 = 15%)" },
  discount: { type: "string", value: "AMOUNT", help: "a discount off the total" },
  project: { type: "string", value: "ID", help: "the project it bills" },
  status: { type: "string", value: STATUSES.join("|"), help: "the invoice's status (default draft)" },
  reference: { type: "string", value: "REF", help: "your reference" },
  notes: { type: "string", value: "N", help: "free text" },
  reason: { type: "string", value: "R", help: "why it is voided" },
  ...pageFlags,
} as const;

export const invoice = defineCommand({
  name: "invoice",
  flags,
  usage: [
    {
      words: "invoice create",
      required: ["client", "line"],
      optional: ["currency", "tax-bp", "discount", "project", "status", "reference", "notes"],
      help: "a new invoice",
    },
    { words: "invoice update ID", optional: ["status", "notes", "discount", "tax-bp"], help: "change an invoice (at least one flag)" },
    { words: "invoice void ID", required: ["reason"], help: "void an invoice" },
    { words: "invoice list", optional: ["limit", "offset"], help: "the invoices on this device, a page at a time, with how many there are" },
  ],
  run(argv, ctx) {
    const [sub, ...rest] = argv;
    const { values: v, positionals } = parse(rest, flags, 1);
    // Basis points (10,000 = 100 %), read by the shared parser: `1,500` is 1500, as the app reads it.
    const taxBp = () => (v["tax-bp"] === undefined ? undefined : wholeNumber(v["tax-bp"], "--tax-bp", "basis points from 0 to 10,000 (1500 = 15%)", { max: MAX_RATE_BP }));
    const status = (fallback?: "draft") => (v.status === undefined && !fallback ? undefined : oneOf(v.status, STATUSES, "--status", fallback));
    switch (sub) {
      case "create": {
        const data: InvoiceCreate = {
          reference: v.reference ?? null,
          project_id: (v.project ?? null) as InvoiceCreate["project_id"],
          client_name: required(v.client, "--client", "the client's name"),
          currency: v.currency ?? "LKR",
          lines: (v.line ?? []).map((l) => {
            const p = posLine(l, "--line");
            return { description: p.description, quantity: p.quantity, unit_price_minor: p.unit_price_minor };
          }),
          discount_minor: v.discount === undefined ? 0 : minorUnits(v.discount, "--discount"),
          tax_rate_bp: taxBp() ?? 0,
          payments: [],
          status: status("draft")!,
          issued_on: null,
          due_on: null,
          notes: v.notes ?? "",
        };
        return wrote(ctx, ctx.store.createInvoice(data), "created invoice");
      }
      case "update": {
        const patch = Object.fromEntries(
          Object.entries({ status: status(), notes: v.notes, discount_minor: v.discount === undefined ? undefined : minorUnits(v.discount, "--discount"), tax_rate_bp: taxBp() }).filter(
            ([, value]) => value !== undefined,
          ),
        );
        if (Object.keys(patch).length === 0) throw new UsageError("nothing to change: pass at least one of --status, --notes, --discount, --tax-bp");
        return wrote(ctx, ctx.store.updateInvoice(required(positionals[0], "ID", "an invoice id"), patch), "updated invoice");
      }
      case "void":
        return wrote(ctx, ctx.store.voidInvoice(required(positionals[0], "ID", "an invoice id"), required(v.reason, "--reason", "why it is voided")), "voided invoice");
      case "list": {
        const page = pageOf(v);
        const items = ctx.store.list("invoice", page);
        const total = ctx.store.count("invoice");
        return showPage(ctx, items, page, total, (e) =>
          e.entity_type === "invoice" ? `${e.entity_id}  ${invoiceNo(e)} ${e.data.reference ?? "(no reference)"} · ${e.data.client_name} · ${e.data.status}` : e.entity_id,
        );
      }
      case undefined:
      default:
        throw new UsageError(`invoice: expected create, update, void or list; received ${JSON.stringify(sub ?? "")}`);
    }
  },
});

/** The branch's official number once it has numbered the invoice (protocol v5), else why there is none yet. */
const invoiceNo = (e: InvoiceEntity): string =>
  e.official_invoice_no !== undefined ? `no. ${e.official_invoice_no}` : e.data.status === "draft" ? "(draft, not numbered)" : e.data.status === "void" ? "(void, never numbered)" : "(not numbered yet)";
