/**
 * POS walk-in billing. A sale is written locally at once (it works offline); its receipt shows the
 * device-local number, and the official number as soon as the server has confirmed it. Voids and
 * corrections are new entries, never edits. Keyboard: every control is a button or an input.
 */
import { useEffect, useState } from "preact/hooks";
import type { EntityView, LedgerRow } from "../app/api.js";
import type { PosLine, PosPaymentMethod } from "../../domain/entities/pos.js";
// From its own module, never the schema barrel (note: money.ts still imports zod).
import { formatMinor, parseAmountMinor, posLinesTotalMinor } from "../../domain/amounts.js";
import { err, ok, type Result } from "../../lib/result.js";
import { AmountInput } from "./amount-input.js";
import { POS_FIELDS } from "./field-messages.js";
import { useApi, useRevision, useStatus, useWrite } from "./hooks.js";
import { LeaseNote, whileLeased } from "./lease-note.js";
import { useAsk } from "./ask.js";
import { PosHistory } from "./pos-history.js";
import { ReceiptPrint } from "./print.js";

/** The studio's walk-in price list (minor units, LKR). */
const CATALOGUE: ReadonlyArray<{ sku: string; description: string; unit_price_minor: number }> = [
  { sku: "PP-2X2", description: "Passport photos (4)", unit_price_minor: 80_000 },
  { sku: "PR-4X6", description: "Print 4×6", unit_price_minor: 6_000 },
  { sku: "PR-A4", description: "Print A4", unit_price_minor: 45_000 },
  { sku: "FR-A4", description: "Frame A4", unit_price_minor: 250_000 },
  { sku: "SCAN", description: "Photo scan", unit_price_minor: 15_000 },
  { sku: "USB", description: "USB copy of a shoot", unit_price_minor: 350_000 },
];
const METHODS: ReadonlyArray<[PosPaymentMethod, string]> = [
  ["cash", "Cash"],
  ["card", "Card"],
  ["e_wallet", "E-wallet"],
];

export function PosScreen() {
  const api = useApi();
  const revision = useRevision();
  const status = useStatus();
  const [cart, setCart] = useState<PosLine[]>([]);
  const [method, setMethod] = useState<PosPaymentMethod>("cash");
  const [tendered, setTendered] = useState("");
  const { write, error } = useWrite(POS_FIELDS);
  const ask = useAsk();
  // The last receipt stays on screen across screen changes (the cashier comes back to print it).
  const [lastSale, setLastSaleState] = useState<string | null>(() => sessionStorage.getItem("studiovault.lastSale"));
  const setLastSale = (id: string) => {
    sessionStorage.setItem("studiovault.lastSale", id);
    setLastSaleState(id);
  };
  const [ledger, setLedger] = useState<LedgerRow[]>([]);

  const [receipt, setReceipt] = useState<EntityView | null>(null);
  const [printing, setPrinting] = useState(false);
  // The branch's business day, from the core's clock (never the browser's: I13); re-read at midnight.
  const today = status?.clock.today ?? null;
  useEffect(() => {
    if (today) void api.call({ method: "ledger", day: today }).then(setLedger);
    // Read the receipt by id: in a busy branch it is not among the first orders of a list.
    if (lastSale) void api.call({ method: "get", id: lastSale }).then(setReceipt);
  }, [api, revision, lastSale, today]);

  const total = posLinesTotalMinor(cart);
  const cash = method === "cash";
  // Cash: what was handed over, as typed (empty: the exact total), read by the one parser of amounts.
  // The sale is charged only from a parsed amount of at least the total, so change is never negative.
  const tenderedMinor: Result<number, string> = (() => {
    const parsed = parseAmountMinor(tendered, { whenEmpty: total });
    if (!parsed.ok) return parsed;
    return parsed.value < total ? err(`Tendered must be at least the total, ${formatMinor(total)}`) : ok(parsed.value);
  })();
  const canCharge = cart.length > 0 && (!cash || tenderedMinor.ok);

  const add = (item: (typeof CATALOGUE)[number]) =>
    setCart((c) => {
      const at = c.findIndex((l) => l.sku === item.sku);
      if (at < 0) return [...c, { sku: item.sku, description: item.description, quantity: 1, unit_price_minor: item.unit_price_minor }];
      return c.map((l, i) => (i === at ? { ...l, quantity: l.quantity + 1 } : l));
    });

  const charge = async () => {
    if (!canCharge) return;
    const outcome = await write({ kind: "pos_sale", input: { currency: "LKR", lines: cart, method, tendered_minor: cash && tenderedMinor.ok ? tenderedMinor.value : null } });
    if (!outcome.ok) return;
    setCart([]);
    setTendered("");
    setLastSale(outcome.value.entity.entity_id);
  };

  // A void is the sale's guarded `correction` group: held on the branch while the reason is asked.
  const voidOrder = (id: string, receiptNo: string, totalMinor: number) =>
    whileLeased(api, id, "correction", async () => {
      const reason = await ask({
        label: "Why is this sale voided?",
        detail: `Voiding cancels sale ${receiptNo} (${formatMinor(totalMinor, "LKR")}) for good: a void entry is added and the sale no longer counts in today's takings.`,
        note: <LeaseNote entityId={id} group="correction" editing />,
      });
      if (!reason) return;
      await write({ kind: "pos_void", id, reason });
    });


  const mine = ledger.filter((r) => r.device_id === status?.identity?.device_id);
  const net = (rows: LedgerRow[]) => rows.reduce((s, r) => s + r.net_minor, 0);

  return (
    <div class="cols">
      <section class="card" aria-labelledby="pos-title">
        <h2 id="pos-title">New sale</h2>
        <div class="catalogue">
          {CATALOGUE.map((item) => (
            // The name is the action ("Add Print A4") and must contain every word shown on the button
            // (WCAG 2.5.3, axe label-content-name-mismatch): the price is drawn over the button's foot
            // from outside it (clicks pass through) and describes it.
            <div class="item" key={item.sku}>
              <button onClick={() => add(item)} aria-label={`Add ${item.description}`} aria-describedby={`price-${item.sku}`}>
                {item.description}
              </button>
              <span class="muted price" id={`price-${item.sku}`}>
                {formatMinor(item.unit_price_minor)}
              </span>
            </div>
          ))}
        </div>
        <table aria-label="Cart" style="margin-top:1rem">
          <tbody>
            {cart.map((l, i) => (
              <tr key={l.sku}>
                <td>{l.description}</td>
                <td class="num">
                  <button aria-label={`Remove one ${l.description}`} onClick={() => setCart((c) => c.flatMap((x, j) => (j !== i ? [x] : x.quantity > 1 ? [{ ...x, quantity: x.quantity - 1 }] : [])))}>−</button>{" "}
                  {l.quantity}
                </td>
                <td class="num">{formatMinor(l.quantity * l.unit_price_minor)}</td>
              </tr>
            ))}
            <tr>
              <th>Total</th>
              <td />
              <th class="num" data-testid="cart-total">{formatMinor(total, "LKR")}</th>
            </tr>
          </tbody>
        </table>
        <fieldset class="row" style="border:0;padding:0;margin:1rem 0">
          <legend class="muted">Payment</legend>
          {METHODS.map(([value, label]) => (
            <label key={value} style="display:flex;gap:.3rem;align-items:center">
              <input type="radio" name="method" value={value} checked={method === value} onChange={() => setMethod(value)} />
              {label}
            </label>
          ))}
          {cash && <AmountInput label="Tendered" text={tendered} onText={setTendered} error={errorOf(tenderedMinor)} placeholder={formatMinor(total)} />}
          {cash && (
            <span data-testid="change" class="change">
              Change {tenderedMinor.ok ? formatMinor(tenderedMinor.value - total) : "—"}
            </span>
          )}
        </fieldset>
        {error && <p class="error" role="alert">{error}</p>}
        <button class="primary" disabled={!canCharge} onClick={() => void charge()}>
          Charge {formatMinor(total, "LKR")}
        </button>
      </section>

      <div style="display:grid;gap:1rem">
        {receipt && receipt.entity.entity_type === "pos_order" && (
          <section class="card" aria-labelledby="receipt-title">
            <h2 id="receipt-title">Receipt</h2>
            <div class="receipt" data-testid="receipt">
              {`Receipt ${receipt.entity.data.local_receipt_no}\n`}
              {receipt.official_receipt_no ? `Official no. ${receipt.official_receipt_no}\n` : "Official no. pending (offline)\n"}
              {receipt.entity.data.lines.map((l) => `${l.quantity} × ${l.description}  ${formatMinor(l.quantity * l.unit_price_minor)}\n`).join("")}
              {`Total ${formatMinor(receipt.entity.data.total_minor, receipt.entity.data.currency)}\n`}
              {receipt.entity.data.payment.method === "cash" ? `Cash ${formatMinor(receipt.entity.data.payment.tendered_minor ?? 0)}, change ${formatMinor(receipt.entity.data.payment.change_minor ?? 0)}\n` : `Paid by ${receipt.entity.data.payment.method.replace("_", "-")}\n`}
              {receipt.entity.data.rung_at.replace("T", " ").slice(0, 16)}
            </div>
            <button class="secondary" onClick={() => setPrinting(true)}>Print receipt</button>
            {printing && <ReceiptPrint order={receipt} onClose={() => setPrinting(false)} />}
          </section>
        )}
        <section class="card" aria-labelledby="today-title">
          <h2 id="today-title">Today{today ? `, ${today}` : ""} (confirmed by the server)</h2>
          <p data-testid="today-net">This till: {formatMinor(net(mine), "LKR")} · Branch: {formatMinor(net(ledger), "LKR")}</p>
        </section>
        <PosHistory onVoid={(id, receiptNo, totalMinor) => void voidOrder(id, receiptNo, totalMinor)} />
      </div>
    </div>
  );
}

const errorOf = (r: Result<number, string>): string | null => (r.ok ? null : r.error);
