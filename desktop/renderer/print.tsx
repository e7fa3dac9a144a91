/**
 * Print views (issue 14): a receipt (the sale just rung up, or any sale from the POS history) and an
 * invoice, each headed with the studio's name and address (the branch's settings, from the welcome).
 *
 * A view opens over the app as a dialog with Print and Close; it is rendered into <body> (a portal),
 * beside the app, so the print stylesheet (app.css, `@media print`) can hide everything else: the
 * paper holds only the receipt or the invoice, never the app's chrome. `window.print()` is the only
 * browser call it makes; dates come from the record and the branch's zone, never the browser's clock.
 */
import { type ComponentChildren, Fragment } from "preact";
import { createPortal } from "preact/compat";
import { useEffect, useRef } from "preact/hooks";
import type { EntityView } from "../app/api.js";
import type { InvoiceEntity, PosOrderEntity, StudioDetails } from "../../domain/index.js";
import { formatMinor, invoiceTotals } from "../../domain/amounts.js";
import { zonedIso } from "../../domain/clock.js";
import { useStatus } from "./hooks.js";
import { invoiceNumberWords } from "./invoice-number.js";

export const METHOD_WORDS = { cash: "Cash", card: "Card", e_wallet: "E-wallet", bank_transfer: "Bank transfer" } as const;

/** An instant as the branch's wall-clock date and time, e.g. `2026-11-25 09:30`. */
export const branchTime = (iso: string, timeZone: string) => zonedIso(Date.parse(iso), timeZone).slice(0, 16).replace("T", " ");

export function PrintSheet(props: { label: string; onClose: () => void; children: ComponentChildren }) {
  const printButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    printButton.current?.focus();
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && props.onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  return createPortal(
    <div class="print-sheet" role="dialog" aria-modal="true" aria-label={props.label} data-testid="print-sheet">
      <div class="print-actions">
        <button ref={printButton} class="primary" onClick={() => window.print()}>
          Print
        </button>
        <button class="secondary" onClick={props.onClose}>
          Close
        </button>
      </div>
      <article class="print-paper" data-testid="print-paper">
        {props.children}
      </article>
    </div>,
    document.body,
  );
}

export function StudioHeader({ studio, taxId }: { studio: StudioDetails | null; taxId: boolean }) {
  if (!studio) return <p class="muted">Studio name and address not received yet: connect once to get them.</p>;
  return (
    <header class="print-studio">
      <h2>{studio.name}</h2>
      {studio.address.split("\n").map((l, i) => (l.trim() ? <p key={i}>{l}</p> : null))}
      {studio.phone && <p>Tel. {studio.phone}</p>}
      {taxId && studio.tax_id && <p>Tax reg. no. {studio.tax_id}</p>}
    </header>
  );
}

/** A POS receipt: official number once the branch has confirmed it, else the till's own, marked provisional. */
export function ReceiptPrint({ order, onClose }: { order: EntityView; onClose: () => void }) {
  const status = useStatus();
  if (order.entity.entity_type !== "pos_order") return null;
  const entity: PosOrderEntity = order.entity;
  const o = entity.data;
  const zone = status?.clock.time_zone ?? "UTC";
  const number = order.official_receipt_no ? `Receipt no. ${order.official_receipt_no}` : `Receipt ${o.local_receipt_no} (provisional)`;
  return (
    <PrintSheet label={`Receipt ${o.local_receipt_no}`} onClose={onClose}>
      <StudioHeader studio={status?.studio ?? null} taxId={true} />
      <h3 data-testid="print-receipt-no">{o.kind === "correction" ? `Correction: ${number}` : number}</h3>
      {order.official_receipt_no ? (
        <p class="print-meta">Till receipt {o.local_receipt_no}</p>
      ) : (
        <p class="print-meta">Not yet confirmed by the branch: the official number comes when this till syncs.</p>
      )}
      {entity.void && <p class="print-void">VOID: {entity.void.reason}</p>}
      <p class="print-meta">
        {branchTime(o.rung_at, zone)} ({zone}) · Cashier {o.cashier}
      </p>
      <table class="print-lines">
        <thead>
          <tr>
            <th scope="col">Item</th>
            <th scope="col" class="num">Qty</th>
            <th scope="col" class="num">Amount</th>
          </tr>
        </thead>
        <tbody>
          {o.lines.map((l, i) => (
            <tr key={i}>
              <td>{l.description}</td>
              <td class="num">{l.quantity}</td>
              <td class="num">{formatMinor(l.quantity * l.unit_price_minor)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <dl class="print-totals">
        <dt>Total</dt>
        <dd data-testid="print-total">{formatMinor(o.total_minor, o.currency)}</dd>
        {o.payment.method === "cash" && o.payment.tendered_minor !== null && (
          <>
            <dt>Tendered (cash)</dt>
            <dd>{formatMinor(o.payment.tendered_minor)}</dd>
            <dt>Change</dt>
            <dd>{formatMinor(o.payment.change_minor ?? 0)}</dd>
          </>
        )}
        {o.payment.method !== "cash" && (
          <>
            <dt>Paid by</dt>
            <dd>{METHOD_WORDS[o.payment.method]}</dd>
          </>
        )}
      </dl>
      <p class="print-thanks">Thank you</p>
    </PrintSheet>
  );
}

/** An invoice: its number (or why it has none yet), client, lines, tax, totals, payments and balance. */
export function InvoicePrint({ invoice, onClose }: { invoice: EntityView; onClose: () => void }) {
  const status = useStatus();
  if (invoice.entity.entity_type !== "invoice") return null;
  const entity: InvoiceEntity = invoice.entity;
  const inv = entity.data;
  const t = invoiceTotals(inv);
  const zone = status?.clock.time_zone ?? "UTC";
  return (
    <PrintSheet label={`Invoice for ${inv.client_name}`} onClose={onClose}>
      <StudioHeader studio={status?.studio ?? null} taxId={true} />
      <h3 data-testid="print-invoice-no">{invoiceNumberWords(entity)}</h3>
      {inv.status === "void" && <p class="print-void">VOID{inv.void_reason ? `: ${inv.void_reason}` : ""}</p>}
      <dl class="print-facts">
        <dt>Bill to</dt>
        <dd>{inv.client_name}</dd>
        {inv.reference && (
          <>
            <dt>Reference</dt>
            <dd>{inv.reference}</dd>
          </>
        )}
        <dt>Issued</dt>
        <dd>{inv.issued_on ?? "not issued (draft)"}</dd>
        {inv.due_on && (
          <>
            <dt>Due</dt>
            <dd>{inv.due_on}</dd>
          </>
        )}
      </dl>
      <table class="print-lines">
        <thead>
          <tr>
            <th scope="col">Description</th>
            <th scope="col" class="num">Qty</th>
            <th scope="col" class="num">Unit price</th>
            <th scope="col" class="num">Amount</th>
          </tr>
        </thead>
        <tbody>
          {inv.lines.map((l, i) => (
            <tr key={i}>
              <td>{l.description}</td>
              <td class="num">{l.quantity}</td>
              <td class="num">{formatMinor(l.unit_price_minor)}</td>
              <td class="num">{formatMinor(l.quantity * l.unit_price_minor)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <dl class="print-totals">
        <dt>Subtotal</dt>
        <dd>{formatMinor(t.subtotal_minor)}</dd>
        {inv.discount_minor > 0 && (
          <>
            <dt>Discount</dt>
            <dd>−{formatMinor(inv.discount_minor)}</dd>
          </>
        )}
        <dt>Tax ({inv.tax_rate_bp / 100} %)</dt>
        <dd>{formatMinor(t.tax_minor)}</dd>
        <dt>Total</dt>
        <dd data-testid="print-total">{formatMinor(t.total_minor, inv.currency)}</dd>
        {inv.payments.map((p, i) => (
          <Fragment key={i}>
            <dt>
              Paid {branchTime(p.paid_at, zone).slice(0, 10)} ({METHOD_WORDS[p.method]}
              {p.reference ? `, ${p.reference}` : ""})
            </dt>
            <dd>−{formatMinor(p.amount_minor)}</dd>
          </Fragment>
        ))}
        <dt>Balance due</dt>
        <dd data-testid="print-balance">{formatMinor(t.balance_minor, inv.currency)}</dd>
      </dl>
    </PrintSheet>
  );
}
