/**
 * An invoice's official number in words. The branch numbers an invoice when it commits its issue
 * (protocol v5), so an invoice issued offline, or whose issue is not confirmed yet, has none: the
 * app says so rather than show a number that might not be the one it gets.
 */
import type { InvoiceEntity } from "../../domain/entities/index.js";

export function invoiceNumberWords(entity: InvoiceEntity): string {
  if (entity.official_invoice_no !== undefined) return `Invoice no. ${entity.official_invoice_no}`;
  switch (entity.data.status) {
    case "draft":
      return "Draft (numbered when issued)";
    case "void":
      return "Voided before it was numbered";
    case "issued":
    case "paid":
      return "Not numbered yet (the branch numbers it when it syncs)";
  }
}
