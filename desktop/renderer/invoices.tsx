/** Invoices: lines, tax, discount, payments, issue, void. Amounts are entered in major units. */
import { useEffect, useState } from "preact/hooks";
import type { EntityView } from "../app/api.js";
import type { InvoiceData, InvoiceLine } from "../../domain/entities/invoice.js";
// Runtime values from their own modules, never the schema barrel (note: both still import zod).
import { formatMinor, invoiceTotals, parseAmountMinor, parsePercentBp, parseQuantity } from "../../domain/amounts.js";
import { MAX_UNIT_PRICE_MINOR } from "../../domain/limits.js";
import { err, type Result } from "../../lib/result.js";
import { AmountInput } from "./amount-input.js";
import { INVOICE_FIELDS } from "./field-messages.js";
import { useApi, useRevision, useStatus, useWrite } from "./hooks.js";
import { useAsk } from "./ask.js";
import { invoiceNumberWords } from "./invoice-number.js";
import { LeaseNote, whileLeased } from "./lease-note.js";
import { InvoicePrint } from "./print.js";

/** A line as typed: text, read by the one parser of amounts (domain/amounts.ts) on every render. */
interface LineText {
  description: string;
  quantity: string;
  price: string;
}
const blankLine = (): LineText => ({ description: "", quantity: "1", price: "" });
/** A line nobody has started (the quantity's "1" is pre-filled): left out of the invoice. */
const isBlank = (l: LineText) => l.description.trim() === "" && l.price.trim() === "";

interface ReadLine {
  description: Result<string, string>;
  quantity: Result<number, string>;
  price: Result<number, string>;
}
function readLine(l: LineText): ReadLine {
  const description = l.description.trim();
  return {
    description: description === "" ? err("Enter a description") : { ok: true, value: description },
    quantity: parseQuantity(l.quantity),
    price: parseAmountMinor(l.price, { maxMinor: MAX_UNIT_PRICE_MINOR }),
  };
}
const errorOf = (r: Result<unknown, string>): string | null => (r.ok ? null : r.error);

export function InvoicesScreen() {
  const api = useApi();
  const revision = useRevision();
  const appStatus = useStatus();
  // Dates and times come from the core's clock in the status (I13): the branch's day, never the browser's.
  const today = appStatus?.clock.today ?? null;
  const nowIso = () => new Date(appStatus?.clock.now_ms ?? 0).toISOString();
  const [items, setItems] = useState<EntityView[]>([]);
  // The invoice open in its detail and print view (print.tsx), if any.
  const [viewing, setViewing] = useState<EntityView | null>(null);
  const [client, setClient] = useState("");
  const [reference, setReference] = useState("");
  const [lines, setLines] = useState([blankLine()]);
  const [taxPercent, setTaxPercent] = useState("0");
  const [discount, setDiscount] = useState("");
  const { write, error, setError } = useWrite(INVOICE_FIELDS);
  const ask = useAsk();
  useEffect(() => void api.call({ method: "list", type: "invoice", limit: 200 }).then(setItems), [api, revision]);

  // Totals come only from parsed values: while any field of the form is unreadable there is no
  // total to show and nothing to save.
  const read = lines.map((l) => (isBlank(l) ? null : readLine(l)));
  const parsedLines: InvoiceLine[] = read.flatMap((r) =>
    r && r.description.ok && r.quantity.ok && r.price.ok ? [{ description: r.description.value, quantity: r.quantity.value, unit_price_minor: r.price.value }] : [],
  );
  const linesOk = read.every((r) => r === null || (r.description.ok && r.quantity.ok && r.price.ok));
  const taxBp = parsePercentBp(taxPercent, { whenEmpty: 0 });
  const discountParsed = parseAmountMinor(discount, { whenEmpty: 0 });
  const subtotal = linesOk ? invoiceTotals({ lines: parsedLines, discount_minor: 0, tax_rate_bp: 0, payments: [] }).subtotal_minor : null;
  const discountMinor: Result<number, string> =
    discountParsed.ok && subtotal !== null && discountParsed.value > subtotal ? err(`Discount must not be more than the subtotal, ${formatMinor(subtotal)}`) : discountParsed;
  const draft = linesOk && taxBp.ok && discountMinor.ok ? { lines: parsedLines, discount_minor: discountMinor.value, tax_rate_bp: taxBp.value, payments: [] } : null;
  const totals = draft ? invoiceTotals(draft) : null;

  const create = async (status: "draft" | "issued") => {
    if (!draft) return;
    const { ok } = await write({
      kind: "invoice_create",
      data: { reference: reference || null, project_id: null, client_name: client, currency: "LKR", ...draft, status, issued_on: status === "issued" ? today : null, due_on: null, notes: "" },
    });
    if (ok) {
      setClient("");
      setReference("");
      setLines([blankLine()]);
      setDiscount("");
    }
  };
  // Payments and status are the invoice's guarded `payment` group: held on the branch while the
  // amount is asked, released once it is saved or the dialog is cancelled.
  const pay = (inv: InvoiceData, id: string) => whileLeased(api, id, "payment", () => takePayment(inv, id));
  const takePayment = async (inv: InvoiceData, id: string) => {
    const balance = invoiceTotals(inv).balance_minor;
    // Checked as it is typed (the dialog keeps OK disabled meanwhile), with the one amount parser.
    const problem = (text: string): string | null => {
      const parsed = parseAmountMinor(text);
      if (!parsed.ok) return parsed.error;
      if (parsed.value === 0) return "Enter more than 0.00";
      if (parsed.value > balance) return `That is more than the balance: at most ${formatMinor(balance, inv.currency)} is still due`;
      return null;
    };
    const amount = await ask({
      label: `Payment amount (${inv.currency})`,
      detail: `Balance due: ${formatMinor(balance, inv.currency)}`,
      note: <LeaseNote entityId={id} group="payment" editing />,
      inputMode: "decimal",
      validate: problem,
    });
    if (!amount) return;
    const parsed = parseAmountMinor(amount);
    const refused = problem(amount);
    if (!parsed.ok || refused !== null) return setError(`Payment amount: ${refused ?? "not an amount"}`);
    const payments = [...inv.payments, { method: "cash" as const, amount_minor: parsed.value, paid_at: nowIso(), reference: null }];
    const paidInFull = invoiceTotals({ ...inv, payments }).balance_minor === 0;
    await write({ kind: "invoice_update", id, patch: { payments, ...(paidInFull ? { status: "paid" } : {}) } });
  };

  return (
    <div style="display:grid;gap:1rem">
      <section class="card" aria-labelledby="new-invoice-title">
        <h2 id="new-invoice-title">New invoice</h2>
        <div class="row">
          <label>
            Client
            <input value={client} onInput={(e) => setClient((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            Reference
            <input value={reference} onInput={(e) => setReference((e.target as HTMLInputElement).value)} />
          </label>
        </div>
        {lines.map((l, i) => {
          const r = read[i];
          const set = (patch: Partial<LineText>) => setLines((all) => all.map((x, j) => (j === i ? { ...x, ...patch } : x)));
          return (
            <div class="row" key={i} style="margin-top:.5rem">
              <AmountInput label={`Line ${i + 1} description`} inputMode="text" text={l.description} onText={(description) => set({ description })} error={r ? errorOf(r.description) : null} />
              <AmountInput label="Qty" inputMode="numeric" size={4} text={l.quantity} onText={(quantity) => set({ quantity })} error={r ? errorOf(r.quantity) : null} />
              <AmountInput label="Unit price" size={10} text={l.price} onText={(price) => set({ price })} error={r ? errorOf(r.price) : null} />
            </div>
          );
        })}
        <div class="row" style="margin-top:.5rem">
          <button class="secondary" onClick={() => setLines([...lines, blankLine()])}>Add line</button>
          <AmountInput label="Tax %" size={5} text={taxPercent} onText={setTaxPercent} error={errorOf(taxBp)} />
          <AmountInput label="Discount" size={10} text={discount} onText={setDiscount} error={errorOf(discountMinor)} />
        </div>
        <p data-testid="invoice-draft-total">
          {totals
            ? `Subtotal ${formatMinor(totals.subtotal_minor)} · tax ${formatMinor(totals.tax_minor)} · total ${formatMinor(totals.total_minor, "LKR")}`
            : "Subtotal — · tax — · total — (correct the fields marked above)"}
        </p>
        {error && <p class="error" role="alert">{error}</p>}
        <div class="row">
          <button class="secondary" disabled={!client || !draft} onClick={() => void create("draft")}>Save draft</button>
          <button class="primary" disabled={!client || !draft || parsedLines.length === 0} onClick={() => void create("issued")}>Issue invoice</button>
        </div>
      </section>
      <section class="card" aria-labelledby="invoices-title">
        <h2 id="invoices-title">Invoices</h2>
        <table aria-label="Invoices">
          <tbody>
            {items.map((it) => {
              if (it.entity.entity_type !== "invoice") return null;
              const inv = it.entity.data;
              const t = invoiceTotals(inv);
              return (
                <tr key={it.entity.entity_id} data-testid="invoice-row">
                  <td>
                    <span data-testid="invoice-number">{invoiceNumberWords(it.entity)}</span> · <strong>{inv.reference ?? "(no reference)"}</strong> · {inv.client_name} · {inv.status} {it.status !== "synced" && <span class={`badge ${it.status}`}>{it.status}</span>}
                  </td>
                  <td class="num">{formatMinor(t.total_minor)}</td>
                  <td class="num">balance {formatMinor(t.balance_minor)}</td>
                  <td>
                    <button class="secondary" aria-label={`View invoice for ${inv.client_name}`} onClick={() => setViewing(it)}>
                      View
                    </button>{" "}
                    {inv.status === "draft" && <button class="secondary" onClick={() => void write({ kind: "invoice_update", id: it.entity.entity_id, patch: { status: "issued", issued_on: today } })}>Issue</button>}{" "}
                    {inv.status === "issued" && <button class="secondary" onClick={() => void pay(inv, it.entity.entity_id)}>Record payment</button>}{" "}
                    {inv.status !== "void" && (
                      <button
                        class="secondary"
                        onClick={() =>
                          void whileLeased(api, it.entity.entity_id, "payment", async () => {
                            const reason = await ask({
                              label: "Why is this invoice voided?",
                              detail: `Voiding cancels invoice ${inv.reference ?? "(no reference)"} for ${inv.client_name} (${formatMinor(t.total_minor, inv.currency)}) for good: it stays in the records, marked void, and cannot be issued or paid again.`,
                              note: <LeaseNote entityId={it.entity.entity_id} group="payment" editing />,
                            });
                            if (reason) await write({ kind: "invoice_void", id: it.entity.entity_id, reason });
                          })
                        }
                      >
                        Void
                      </button>
                    )}
                    {/* Where the payment controls are: who else is taking a payment or changing the status, and for how long. */}
                    <LeaseNote entityId={it.entity.entity_id} group="payment" compact />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
      {viewing && <InvoicePrint invoice={items.find((i) => i.entity.entity_id === viewing.entity.entity_id) ?? viewing} onClose={() => setViewing(null)} />}
    </div>
  );
}
