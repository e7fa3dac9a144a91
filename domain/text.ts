/** Bounded text fields. Every string on the wire has a maximum length (see limits.ts). */
import { z } from "zod";

// Control characters other than tab/newline/carriage return have no business in business data and
// make logs and receipts ambiguous.
const NO_CONTROL = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/;
const SINGLE_LINE = /^[^\u0000-\u001f\u007f]*$/;

/** One line of human text, trimmed of nothing, 1..max characters. */
export const line = (max: number, min = 1) =>
  z.string().min(min).max(max).regex(SINGLE_LINE, "must be a single line without control characters");

/** Free text (notes): newlines and tabs allowed, 0..max characters. */
export const prose = (max: number) =>
  z.string().max(max).regex(NO_CONTROL, "must not contain control characters");

/** Calendar date, `YYYY-MM-DD`. */
export const IsoDate = z.iso.date();
/** Instant with an offset or `Z`, e.g. `2026-11-25T09:30:00.000Z`. Device clocks lie: informational only. */
export const IsoDateTime = z.iso.datetime({ offset: true });
