/**
 * `--limit`/`--offset` for every list: one page at a time, and how many there are in all, in words
 * ("showing 1–100 of 2,000; --offset 100 for more") and in JSON (`total`, `offset`, `limit`,
 * `next_offset`).
 */
import { formatCount } from "../../domain/amounts.js";
import { wholeNumber as readWholeNumber } from "./args.js";

export const DEFAULT_PAGE_LIMIT = 100;

/** Spread into a command's flag table. */
export const pageFlags = {
  limit: { type: "string", value: "N", help: `at most N rows (default ${DEFAULT_PAGE_LIMIT})` },
  offset: { type: "string", value: "N", help: "skip the first N rows (default 0)" },
} as const;

export interface Page {
  offset: number;
  limit: number;
}

function wholeNumber(text: string | undefined, flag: string, min: number, fallback: number): number {
  if (text === undefined) return fallback;
  return readWholeNumber(text, flag, `a whole number ≥ ${min}`, { min, max: 999_999_999 });
}

export function pageOf(values: { limit?: string; offset?: string }): Page {
  return { limit: wholeNumber(values.limit, "--limit", 1, DEFAULT_PAGE_LIMIT), offset: wholeNumber(values.offset, "--offset", 0, 0) };
}

const n = formatCount;

/** "showing 1–100 of 2,000; --offset 100 for more", or "showing 1–3 of 3". */
export function pageFooter(page: Page, shown: number, total: number): string {
  if (shown === 0) return `showing none of ${n(total)} (--offset ${n(page.offset)} is past the end)`;
  const last = page.offset + shown;
  return `showing ${n(page.offset + 1)}–${n(last)} of ${n(total)}${last < total ? `; --offset ${last} for more` : ""}`;
}

/** The page as JSON: where it starts, its size, the total, and where the next one starts (null: this is the last). */
export function pageValue(page: Page, shown: number, total: number) {
  const next = page.offset + shown;
  return { total, offset: page.offset, limit: page.limit, next_offset: shown > 0 && next < total ? next : null };
}
