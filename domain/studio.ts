/**
 * The studio a branch is, as its receipts and invoices are headed: its name, address and, where it
 * has them, phone and tax id. Part of the branch's settings on the server; devices learn it in the
 * `welcome` (protocol v5) and keep it, so a receipt printed offline still carries the header.
 */
import { z } from "zod";
import { unreachable } from "../lib/result.js";
import { line, prose } from "./text.js";

/** Letters people read on paper: a name that is only spaces would print an empty header. */
const notBlank = (s: string) => s.trim().length > 0;

export const StudioDetails = z.strictObject({
  /** Printed as the receipt's and the invoice's title, e.g. `Lanka Light Studio`. */
  name: line(120).refine(notBlank, "must not be blank"),
  /** Postal address; lines separated by newlines (printed as they are). Empty until a manager sets it. */
  address: prose(500),
  phone: line(40).refine(notBlank, "must not be blank").nullable(),
  /** The studio's tax registration number (VAT, TIN), printed on invoices. */
  tax_id: line(40).refine(notBlank, "must not be blank").nullable(),
});
export type StudioDetails = z.infer<typeof StudioDetails>;

/** A change to the studio's details: the fields given are replaced, the others kept; null clears phone or tax id. */
export const StudioDetailsPatch = StudioDetails.partial().refine((patch) => Object.keys(patch).length > 0, "give at least one of name, address, phone, tax_id");
export type StudioDetailsPatch = z.infer<typeof StudioDetailsPatch>;

const FIELD_WORDS: Record<string, string> = { name: "studio name", address: "address", phone: "phone", tax_id: "tax id" };

/**
 * Every problem with studio details, one sentence each, naming the field in words: a manager who
 * typed a bad name and a bad phone hears about both at once.
 */
export function studioIssueWords(error: z.ZodError): string[] {
  // One sentence per field: an empty tax id is "must not be empty", not that and "must not be blank" too.
  const seen = new Set<string>();
  const firstPerField = error.issues.filter((issue) => {
    const path = issue.path.join(".");
    if (seen.has(path)) return false;
    seen.add(path);
    return true;
  });
  return firstPerField.map((issue) => {
    const key = issue.path.at(-1);
    const field = typeof key === "string" ? (FIELD_WORDS[key] ?? key) : "settings";
    switch (issue.code) {
      case "too_big":
        return `${field}: at most ${String(issue.maximum)} characters`;
      case "too_small":
        return `${field}: must not be empty`;
      case "invalid_type":
        if (!(typeof key === "string" && key in FIELD_WORDS)) return `${field}: expected an object such as {"studio": {"name": "…", "address": "…"}}`;
        return `${field}: must be text${key === "phone" || key === "tax_id" ? " (or null to clear it)" : ""}`;
      case "unrecognized_keys":
        return `${field}: unknown ${issue.keys.length === 1 ? "field" : "fields"} ${issue.keys.join(", ")} (expected name, address, phone, tax_id)`;
      // The rules' own words ("must not be blank", "must be a single line without control characters").
      case "custom":
      case "invalid_format":
      case "invalid_element":
      case "invalid_key":
      case "invalid_union":
      case "invalid_value":
      case "not_multiple_of":
        return `${field}: ${issue.message}`;
      default:
        return unreachable(issue, "zod issue");
    }
  });
}
