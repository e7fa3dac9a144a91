/**
 * One time zone rule for the whole system (DESIGN I13).
 *
 * A business day is a calendar day in the **branch's** time zone (an IANA name such as
 * `Asia/Colombo`), never in whatever zone a till's host happens to be set to. The branch's zone is
 * one of its settings: fixed when the branch is first used (the server's default), sent to every
 * device in `welcome`, and stored by the device. The server and every device compute the day of a
 * POS order with `businessDay` from the same instant (`rung_at`) and the same zone, so ledgers agree
 * whatever zone the hosts run in. `rung_at` keeps the offset it was written with (the branch's
 * offset at that instant), so a receipt shows the branch's wall-clock time.
 *
 * No function here reads a clock: callers pass the instant (I13, injected clocks).
 */
import { err, ok, type Result } from "../lib/result.js";

// Intl formatters are expensive to build and the server asks for one per POS commit: keep one per zone.
const dayFormats = new Map<string, Intl.DateTimeFormat>();

function dayFormat(timeZone: string): Intl.DateTimeFormat {
  let f = dayFormats.get(timeZone);
  if (!f) {
    // en-CA formats a date as YYYY-MM-DD; the parts are read one by one all the same.
    f = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
    dayFormats.set(timeZone, f);
  }
  return f;
}

/** True for a time zone name this runtime knows (IANA, e.g. `Asia/Colombo`, or `UTC`). */
export function isTimeZone(name: string): boolean {
  if (name.length === 0 || name.length > 64) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** An IANA time zone name. */

function parts(ms: number, timeZone: string): Record<"year" | "month" | "day" | "hour" | "minute" | "second", number> {
  const out = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const p of dayFormat(timeZone).formatToParts(ms)) {
    if (p.type in out) out[p.type as keyof typeof out] = Number(p.value);
  }
  return out;
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/**
 * A calendar day typed by a person or given on a command line, `YYYY-MM-DD`, that exists (no
 * 2026-02-30): the day itself, or a sentence for people. The app's date fields and the CLI's date
 * flags read days with this one function.
 */
export function parseDay(text: string): Result<string, string> {
  const day = text.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  // Round-tripped through UTC: Date.UTC rolls 2026-02-30 over into March, so a day that does not exist differs.
  const real = m !== null && new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).toISOString().slice(0, 10) === day;
  if (day === "") return err("Enter a date");
  return real ? ok(day) : err("Enter a date like 2026-11-25");
}

/** The calendar day (`YYYY-MM-DD`) of an instant in `timeZone`. */
export function dayIn(ms: number, timeZone: string): string {
  const p = parts(ms, timeZone);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
}

/**
 * The business day of a POS order: the calendar day of its `rung_at` instant in the branch's zone.
 * `rung_at` is an ISO instant with an offset or `Z` (validated by the schema before this is called).
 */
export function businessDay(rungAt: string, timeZone: string): string {
  const ms = Date.parse(rungAt);
  if (!Number.isFinite(ms)) throw new RangeError(`not an ISO instant: ${JSON.stringify(rungAt)}`);
  return dayIn(ms, timeZone);
}

/** The zone's offset from UTC at an instant, in minutes (Colombo: 330; Los Angeles in winter: -480). */
export function offsetMinutes(ms: number, timeZone: string): number {
  const p = parts(ms, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
}

/** The instant as the zone's wall-clock time with its offset, e.g. `2026-11-25T09:30:00.000+05:30`. */
export function zonedIso(ms: number, timeZone: string): string {
  const offset = offsetMinutes(ms, timeZone);
  const local = new Date(ms + offset * 60_000).toISOString().slice(0, 23);
  const sign = offset >= 0 ? "+" : "-";
  const abs = Math.abs(offset);
  return `${local}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/**
 * A device clock further than this from the server's is shown on the till and audited on both sides:
 * past it, a sale could be booked to the wrong business day without anyone noticing.
 */
export const CLOCK_SKEW_WARN_MS = 2 * 60 * 1000;

/** True when a device clock is far enough off the server's (skew = device minus server) to book sales to the wrong day. */
export const clockIsWrong = (skewMs: number | null | undefined): skewMs is number => skewMs != null && Math.abs(skewMs) > CLOCK_SKEW_WARN_MS;

/** "3 min 20 s ahead of" / "45 s behind": skew = device clock minus server clock. */
export function describeSkew(skewMs: number): string {
  const s = Math.round(Math.abs(skewMs) / 1000);
  const text = s >= 3600 ? `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min` : s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
  return `${text} ${skewMs >= 0 ? "ahead of" : "behind"}`;
}

/**
 * The first instant (ms) of a calendar day in `timeZone`: midnight there, or the first instant after
 * it that exists (a zone that skips midnight for summer time). The instant a day ends is the next
 * day's start.
 */
export function dayStartMs(day: string, timeZone: string): number {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  const midnightUtc = Date.UTC(y, m - 1, d);
  // The zone's offset near that midnight, taken twice: once at the UTC midnight, once at the guess.
  let guess = midnightUtc - offsetMinutes(midnightUtc, timeZone) * 60_000;
  guess = midnightUtc - offsetMinutes(guess, timeZone) * 60_000;
  // Within the day a zone's offset changes at most once: step to the first minute that is in it.
  while (dayIn(guess, timeZone) < day) guess += 60_000;
  while (dayIn(guess - 60_000, timeZone) === day) guess -= 60_000;
  return guess;
}

/** The calendar day after `day` (`YYYY-MM-DD`), whatever the zone. */
export function nextDay(day: string): string {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}
