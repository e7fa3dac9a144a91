/** Invoices: lines, tax, discount, payments, issue, void. Amounts are entered in major units. */
import { useEffect, useState } from "preact/hooks";
import type { EntityView } from "../app/api.js";
import type { InvoiceData, InvoiceLine } from "../../domain/entities/invoice.js";
// Runtime values from their own modules, never the schema barrel (note: both still import zod).
import { invoiceTotals } from "../../domain/amounts.js";
import { formatMinor } from "../../domain/amounts.js";
import { useApi, useRevision, useStatus, useWrite } from "./hooks.js";
import { useAsk } from "./ask.js";

const minor = (text: string) => Math.round(Number(text || "0") * 100);
const blankLine = () => ({ description: "", quantity: "1", price: "" });

export function InvoicesScreen() {
  const api = useApi();
  const revision = useRevision();
  const appStatus = useStatus();
  // Dates and times come from the core's clock in the status (I13): the branch's day, never the browser's.
  const today = appStatus?.clock.today ?? null;
  const nowIso = () => new Date(appStatus?.clock.now_ms ?? 0).toISOString();
  const [items, setItems] = useState<EntityView[]>([]);
  const [client, setClient] = useState("");
  const [reference, setReference] = useState("");
  const [lines, setLines] = useState([blankLine()]);
  const [taxPercent, setTaxPercent] = useState("0");
  const [discount, setDiscount] = useState("");
  const { write, error } = useWrite();
  const ask = useAsk();
  useEffect(() => void api.call({ method: "list", type: "invoice", limit: 200 }).then(setItems), [api, revision]);

  const parsedLines: InvoiceLine[] = lines
    .filter((l) => l.description.trim() !== "")
    .map((l) => ({ description: l.description.trim(), quantity: Math.max(1, Math.round(Number(l.quantity) || 1)), unit_price_minor: minor(l.price) }));
  const draft = { lines: parsedLines, discount_minor: minor(discount), tax_rate_bp: Math.round(Number(taxPercent || "0") * 100), payments: [] };
  const totals = invoiceTotals(draft);

  const create = async (status: "draft" | "issued") => {
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
  const pay = async (inv: InvoiceData, id: string) => {
    const amount = await ask({ label: "Payment amount (LKR)", inputMode: "decimal" });
    if (!amount) return;
    const payments = [...inv.payments, { method: "cash" as const, amount_minor: minor(amount), paid_at: nowIso(), reference: null }];
    const paidInFull = invoiceTotals({ ...inv, payments }).balance_minor === 0;
    void write({ kind: "invoice_update", id, patch: { payments, ...(paidInFull ? { status: "paid" } : {}) } });
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
        {lines.map((l, i) => (
          <div class="row" key={i} style="margin-top:.5rem">
            <label>
              Line {i + 1} description
              <input value={l.description} onInput={(e) => setLines(lines.map((x, j) => (j === i ? { ...x, description: (e.target as HTMLInputElement).value } : x)))} />
            </label>
            <label>
              Qty
              <input inputMode="numeric" size={4} value={l.quantity} onInput={(e) => setLines(lines.map((x, j) => (j === i ? { ...x, quantity: (e.target as HTMLInputElement).value } : x)))} />
            </label>
            <label>
              Unit price
              <input inputMode="decimal" size={10} value={l.price} onInput={(e) => setLines(lines.map((x, j) => (j === i ? { ...x, price: (e.target as HTMLInputElement).value } : x)))} />
            </label>
          </div>
        ))}
        <div class="row" style="margin-top:.5rem">
          <button class="secondary" onClick={() => setLines([...lines, blankLine()])}>Add line</button>
          <label>
            Tax %
            <input inputMode="decimal" size={5} value={taxPercent} onInput={(e) => setTaxPercent((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            Discount
            <input inputMode="decimal" size={10} value={discount} onInput={(e) => setDiscount((e.target as HTMLInputElement).value)} />
          </label>
        </div>
        <p data-testid="invoice-draft-total">
          Subtotal {formatMinor(totals.subtotal_minor)} · tax {formatMinor(totals.tax_minor)} · total {formatMinor(totals.total_minor, "LKR")}
        </p>
        {error && <p class="error" role="alert">{error}</p>}
        <div class="row">
          <button class="secondary" disabled={!client} onClick={() => void create("draft")}>Save draft</button>
          <button class="primary" disabled={!client || parsedLines.length === 0} onClick={() => void create("issued")}>Issue invoice</button>
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
                    <strong>{inv.reference ?? "(no reference)"}</strong> · {inv.client_name} · {inv.status} {it.status !== "synced" && <span class={`badge ${it.status}`}>{it.status}</span>}
                  </td>
                  <td class="num">{formatMinor(t.total_minor)}</td>
                  <td class="num">balance {formatMinor(t.balance_minor)}</td>
                  <td>
                    {inv.status === "draft" && <button class="secondary" onClick={() => void write({ kind: "invoice_update", id: it.entity.entity_id, patch: { status: "issued", issued_on: today } })}>Issue</button>}{" "}
                    {inv.status === "issued" && <button class="secondary" onClick={() => void pay(inv, it.entity.entity_id)}>Record payment</button>}{" "}
                    {inv.status !== "void" && (
                      <button
                        class="secondary"
                        onClick={async () => {
                          const reason = await ask({ label: "Why is this invoice voided?" });
                          if (reason) void write({ kind: "invoice_void", id: it.entity.entity_id, reason });
                        }}
                      >
                        Void
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
    </div>
  );
}
