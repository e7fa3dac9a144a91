import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Entity, InvoiceCreate, InvoicePatch, invoiceTotals, PosOrderCreate, ProjectData, ProjectPatch, taxMinor } from "../../../domain/index.js";
import * as ex from "../../fixtures/examples.js";

/** Parse, expecting failure, and return the readable error text. */
function rejection(schema: z.ZodType, value: unknown): string {
  const result = schema.safeParse(value);
  expect(result.success, `expected ${JSON.stringify(value).slice(0, 200)} to be rejected`).toBe(false);
  return z.prettifyError(result.error!);
}

describe("entities accept valid examples", () => {
  it.each([
    ["project", ProjectData, ex.project],
    ["invoice", InvoiceCreate, ex.invoice],
    ["sale", PosOrderCreate, ex.sale],
    ["correction", PosOrderCreate, ex.correction],
  ] as const)("%s round-trips through JSON unchanged", (_name, schema, value) => {
    const parsed = (schema as z.ZodType).parse(JSON.parse(JSON.stringify(value)));
    expect(parsed).toEqual(value);
  });

  it.each(Object.entries(ex.entities))("server entity %s round-trips", (_name, value) => {
    expect(Entity.parse(JSON.parse(JSON.stringify(value)))).toEqual(value);
  });
});

describe("entities reject malformed input with a readable error", () => {
  it("a project whose end date is before its start names the field", () => {
    expect(rejection(ProjectData, { ...ex.project, ends_on: "2026-12-01" })).toMatch(/before starts_on.*at ends_on/s);
  });
  it("a project with an unknown field says which key", () => {
    expect(rejection(ProjectData, { ...ex.project, colour: "red" })).toMatch(/colour/);
  });
  it("a media selection that picks the same photo twice is refused", () => {
    const item = ex.project.media_selection.items[0]!;
    const msg = rejection(ProjectData, { ...ex.project, media_selection: { items: [item, item] } });
    expect(msg).toMatch(/selected twice/);
  });
  it("a media file name that is a path is refused", () => {
    const item = { ...ex.project.media_selection.items[0]!, file_name: "../../etc/passwd" };
    expect(rejection(ProjectData, { ...ex.project, media_selection: { items: [item] } })).toMatch(/file name/);
  });
  it("an empty patch is refused", () => {
    expect(rejection(ProjectPatch, {})).toMatch(/at least one field/);
  });
  it("a patch may not introduce unknown fields", () => {
    expect(rejection(ProjectPatch, { notes: "x", owner: "me" })).toMatch(/owner/);
  });
  it("money must be integer minor units", () => {
    const pkg = { name: "Gold", price: { amount_minor: 2500.5, currency: "LKR" } };
    expect(rejection(ProjectData, { ...ex.project, package: pkg })).toMatch(/amount_minor/);
  });
  it("a currency must be an ISO 4217 code", () => {
    expect(rejection(InvoiceCreate, { ...ex.invoice, currency: "rs" })).toMatch(/currency/);
  });
  it("a discount larger than the subtotal is refused", () => {
    expect(rejection(InvoiceCreate, { ...ex.invoice, discount_minor: 99_000_000 })).toMatch(/discount exceeds/);
  });
  it("payments larger than the total are refused", () => {
    const payments = [{ method: "cash", amount_minor: 999_000_000, paid_at: "2026-11-20T10:00:00Z", reference: null }];
    expect(rejection(InvoiceCreate, { ...ex.invoice, payments })).toMatch(/payments exceed/);
  });
  it("an invoice whose tax would take the total past the largest amount is refused", () => {
    const lines = Array.from({ length: 500 }, () => ({ description: "x", quantity: 10_000, unit_price_minor: 1_000_000_000 }));
    const msg = rejection(InvoiceCreate, { ...ex.invoice, lines, discount_minor: 0, tax_rate_bp: 10_000, payments: [] });
    expect(msg).toMatch(/invoice total exceeds/);
  });
  it("a device may not set an invoice to void by editing it", () => {
    expect(rejection(InvoicePatch, { status: "void" })).toMatch(/status/);
  });
  it("a negative quantity is refused on an invoice line and on a sale line", () => {
    const lines = [{ description: "x", quantity: -1, unit_price_minor: 100 }];
    expect(rejection(InvoiceCreate, { ...ex.invoice, lines })).toMatch(/quantity/);
    const saleLines = [{ sku: null, description: "x", quantity: -1, unit_price_minor: 100 }];
    expect(rejection(PosOrderCreate, { ...ex.sale, lines: saleLines, total_minor: -100 })).toMatch(/sale line must be positive/);
  });
  it("a POS total that does not match its lines is refused with expected and received", () => {
    expect(rejection(PosOrderCreate, { ...ex.sale, total_minor: 1 })).toMatch(/expected 410000, received 1/);
  });
  it("cash change must be tendered minus total", () => {
    const payment = { method: "cash", tendered_minor: 500_000, change_minor: 1 };
    expect(rejection(PosOrderCreate, { ...ex.sale, payment })).toMatch(/expected 90000, received 1/);
  });
  it("a card sale has no tendered amount", () => {
    const payment = { method: "card", tendered_minor: 500_000, change_minor: 90_000 };
    expect(rejection(PosOrderCreate, { ...ex.sale, payment })).toMatch(/cash sales only/);
  });
  it("a correction must name the order it corrects and why", () => {
    const msg = rejection(PosOrderCreate, { ...ex.correction, corrects_order_id: null, reason: null });
    expect(msg).toMatch(/must name the order/);
    expect(msg).toMatch(/needs a reason/);
  });
  it("a sale cannot claim to correct another order", () => {
    expect(rejection(PosOrderCreate, { ...ex.sale, corrects_order_id: ex.ids.correction })).toMatch(/corrects nothing/);
  });
  it("a tombstone carries no data and a live entity must", () => {
    expect(rejection(Entity, { ...ex.entities.tombstone, data: ex.project })).toMatch(/data/);
    expect(rejection(Entity, { ...ex.entities.project, data: null })).toMatch(/data/);
  });
  it("an upper-case or malformed id is refused", () => {
    expect(rejection(Entity, { ...ex.entities.project, entity_id: ex.ids.project.toUpperCase() })).toMatch(/UUID/);
  });
});

describe("money arithmetic", () => {
  it("tax rounds half up in integer minor units", () => {
    expect(taxMinor(1_000, 1_500)).toBe(150);
    expect(taxMinor(5, 1_000)).toBe(1); // 0.5 → 1
    expect(taxMinor(4, 1_000)).toBe(0); // 0.4 → 0
  });
  it("tax stays exact where taxable × rate exceeds 2^53", () => {
    expect(taxMinor(5_000_000_000_000_000, 1_500)).toBe(750_000_000_000_000);
  });
  it("invoice totals follow lines, discount, tax and payments", () => {
    expect(invoiceTotals(ex.invoice)).toEqual({
      subtotal_minor: 28_000_000,
      taxable_minor: 27_000_000,
      tax_minor: 4_050_000,
      total_minor: 31_050_000,
      paid_minor: 10_000_000,
      balance_minor: 21_050_000,
    });
  });
});
