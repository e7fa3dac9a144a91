/**
 * The Close of day view's pure parts: which day is today in the branch's zone (from the server's
 * clock, never this machine's), the days around it, a revision and a drawer count in words, and
 * the drawers a manager may count. Nothing here reads a clock.
 */
import { formatCount, formatMinor } from "../domain/amounts.js";
import { dayIn } from "../domain/clock.js";
import type { DayFigures, DayReport, DayRevision, DrawerCount, FiguresChange, MethodFigures } from "../domain/day-report.js";
import type { PosPaymentMethod } from "../domain/entities/pos.js";
import type { DeviceId } from "../domain/ids.js";

/** A business day `YYYY-MM-DD` (the `<input type="date">` value when one is picked). */
export const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The business day at `serverNowMs` in the branch's zone. */
export const todayIn = (serverNowMs: number, timeZone: string): string => dayIn(serverNowMs, timeZone);

/** The calendar day `by` days after `day` (negative: before), whatever the zone. */
export function shiftDay(day: string, by: number): string {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + by)).toISOString().slice(0, 10);
}

export const METHOD_WORDS: Record<PosPaymentMethod, string> = { cash: "Cash", card: "Card", e_wallet: "E-wallet" };
export const METHODS: readonly PosPaymentMethod[] = ["cash", "card", "e_wallet"];

/** A signed amount with its sign always said: `+12,400.00 LKR`, `-950.00 LKR`, `0.00 LKR`. */
export const signedMinor = (minor: number, currency: string) => `${minor > 0 ? "+" : ""}${formatMinor(minor, currency)}`;
const signedCount = (n: number, one: string, many = `${one}s`) => `${n > 0 ? "+" : n < 0 ? "−" : ""}${formatCount(Math.abs(n))} ${Math.abs(n) === 1 ? one : many}`;

/** An amount and how many orders make it (`14,300.00 (2)`), or "—" for none (as Money's ledger). */
export const amountCell = (minor: number, count: number) => (count === 0 ? "—" : `${formatMinor(minor)} (${formatCount(count)})`);
/** Voids are taken off the net: `−950.00 (1)`. */
export const voidsCell = (f: MethodFigures) => (f.voids_count === 0 ? "—" : `−${amountCell(f.voids_minor, f.voids_count)}`);

/** What one revision's change did, in words: `+12,400.00 LKR net (+2 sales)`. */
export function changeWords(c: FiguresChange): string {
  const t = c.total;
  const counts = [
    t.sales_count !== 0 ? signedCount(t.sales_count, "sale") : null,
    t.corrections_count !== 0 ? signedCount(t.corrections_count, "correction") : null,
    t.voids_count !== 0 ? signedCount(t.voids_count, "void") : null,
  ].filter((x): x is string => x !== null);
  return `${signedMinor(t.net_minor, c.currency)} net${counts.length ? ` (${counts.join(", ")})` : ""}`;
}

/** Net per currency: `23,450.00 LKR · 40.00 USD`, or `no sales`. */
export const netWords = (figures: DayFigures) => (figures.currencies.length === 0 ? "no sales" : figures.currencies.map((c) => formatMinor(c.total.net_minor, c.currency)).join(" · "));

/**
 * A revision in one line: `Revision 1 · closed by nimal · net 23,450.00 LKR`, or
 * `Revision 2 · late sales from till sunil · …00c7b4: +12,400.00 LKR net (+2 sales)`. A change of
 * another till than the one that made the revision (a void of its order) names its till.
 */
export function revisionWords(r: DayRevision, tillName: (deviceId: string) => string): string {
  if (r.reason === "close") return `Revision ${formatCount(r.revision)} · closed by ${r.by_user} · net ${netWords(r.figures)}`;
  const changes = r.changes.map((c) => (c.device_id === r.by_device ? changeWords(c) : `${tillName(c.device_id)} ${changeWords(c)}`)).join("; ");
  return `Revision ${formatCount(r.revision)} · late sales from till ${tillName(r.by_device)}: ${changes || "no change in the figures"}`;
}

/** A variance for people: `-500.00 LKR short`, `+200.00 LKR over`, `balanced`; its tone. */
export function varianceWords(varianceMinor: number, currency: string): { text: string; tone: "ok" | "warn" | "bad" } {
  if (varianceMinor === 0) return { text: `${formatMinor(0, currency)} · balanced`, tone: "ok" };
  return varianceMinor < 0 ? { text: `${signedMinor(varianceMinor, currency)} · short`, tone: "bad" } : { text: `${signedMinor(varianceMinor, currency)} · over`, tone: "warn" };
}

/** One drawer a manager may count: a till and currency with cash expected, its latest count when there is one. */
export interface Drawer {
  device_id: DeviceId;
  currency: string;
  /** The till's cash net of the day (the report's figures). */
  expected_minor: number;
  count: DrawerCount | null;
}

/** Every till and currency of the day's figures, and any counted drawer beside them, in the figures' order. */
export function drawersOf(report: DayReport): Drawer[] {
  const key = (d: { device_id: string; currency: string }) => `${d.device_id}|${d.currency}`;
  const counts = new Map(report.drawer_counts.map((c) => [key(c), c]));
  const drawers: Drawer[] = report.figures.tills.map((t) => ({ device_id: t.device_id, currency: t.currency, expected_minor: t.by_method.cash?.net_minor ?? 0, count: counts.get(key(t)) ?? null }));
  for (const c of report.drawer_counts) if (!drawers.some((d) => key(d) === key(c))) drawers.push({ device_id: c.device_id, currency: c.currency, expected_minor: c.expected_minor, count: c });
  return drawers;
}
