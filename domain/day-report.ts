/**
 * The end of a business day (protocol v10): the Z-report's figures, a till's account of its queue
 * for a day, and whether the branch can call that till's sales for the day complete.
 *
 * The figures are a pure function of the day's POS orders (`dayFigures`), so the server, every
 * synced desktop and a desktop bootstrapped from a snapshot compute them with this one function
 * from the facts they hold, and their totals per till and currency are the ledger's (LEDGER_SQL,
 * I6): sales + corrections − voids, a void counted on its order's day and till, in integer minor
 * units. What a close adds is on the server only: when it was closed, each revision the close was
 * re-issued as (a late sale amends it, never silently), the drawer counts and the proof per till.
 */
import { z } from "zod";
import { DeviceId, UserId } from "./ids.js";
import { type PosOrderKind, PosPaymentMethod } from "./entities/pos.js";
import { Currency, SignedAmountMinor, AmountMinor } from "./money.js";
import { IsoDate, IsoDateTime, line } from "./text.js";

const count = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
const receiptNo = z.int().min(1).max(Number.MAX_SAFE_INTEGER);
/** A device-local receipt number, as PosOrderCreate has it. */
export const LocalReceiptNo = z.string().min(1).max(32).regex(/^[A-Za-z0-9-]+$/, "must be letters, digits and '-'");

/** Reported days a till may list in one report: its queue's days and the days it rang in its window. */
export const MAX_TILL_DAYS = 64;
/** The days before today a till reports the receipts it issued (it reports every day it has queued, however old). */
export const TILL_DAYS_WINDOW = 31;

/**
 * A till's account of one business day (hello and `status` since v10): what of that day it still
 * has queued (events not yet confirmed or rejected) and the last receipt it issued for the day that
 * was not refused. The branch calls the till complete for the day when a report made after the day
 * ended (or after its close) says nothing is queued and names a receipt the branch has.
 */
export const TillDay = z.strictObject({
  day: IsoDate,
  /** POS events of the day (sales, corrections, voids) in the till's queue. */
  pending: count,
  /** The last local receipt number it issued for the day (pending or confirmed); null: none. */
  last_local_receipt_no: LocalReceiptNo.nullable(),
});
export type TillDay = z.infer<typeof TillDay>;

export const TillDays = z.array(TillDay).max(MAX_TILL_DAYS);

/** One POS order of a day as the figures read it: the branch's facts and the order's payment method. */
export interface DayOrder {
  entity_id: string;
  official_receipt_no: number;
  local_receipt_no: string;
  kind: PosOrderKind;
  device_id: DeviceId;
  currency: string;
  total_minor: number;
  method: PosPaymentMethod;
  voided: boolean;
}

/** Sales, corrections, voids and net of one payment method (or of all of them). */
export const MethodFigures = z.strictObject({
  sales_count: count,
  sales_minor: SignedAmountMinor,
  corrections_count: count,
  corrections_minor: SignedAmountMinor,
  /** Orders of the day later voided, and their total. */
  voids_count: count,
  voids_minor: SignedAmountMinor,
  /** sales + corrections − voids. */
  net_minor: SignedAmountMinor,
});
export type MethodFigures = z.infer<typeof MethodFigures>;

/** One till's day in one currency. */
export const TillFigures = z.strictObject({
  device_id: DeviceId,
  currency: Currency,
  /** The official receipt numbers of the till's orders of the day: the first and the last. */
  first_receipt_no: receiptNo,
  last_receipt_no: receiptNo,
  by_method: z.partialRecord(PosPaymentMethod, MethodFigures),
  total: MethodFigures,
});
export type TillFigures = z.infer<typeof TillFigures>;

/** The branch's day in one currency. */
export const CurrencyFigures = z.strictObject({
  currency: Currency,
  first_receipt_no: receiptNo,
  last_receipt_no: receiptNo,
  by_method: z.partialRecord(PosPaymentMethod, MethodFigures),
  total: MethodFigures,
});
export type CurrencyFigures = z.infer<typeof CurrencyFigures>;

/** The Z-report's figures: per till and currency, and per currency for the branch. */
export const DayFigures = z.strictObject({
  /** Ordered by device, then currency (the ledger's order). */
  tills: z.array(TillFigures),
  currencies: z.array(CurrencyFigures),
});
export type DayFigures = z.infer<typeof DayFigures>;

const zero = (): MethodFigures => ({ sales_count: 0, sales_minor: 0, corrections_count: 0, corrections_minor: 0, voids_count: 0, voids_minor: 0, net_minor: 0 });

function add(f: MethodFigures, order: DayOrder): void {
  if (order.kind === "sale") {
    f.sales_count += 1;
    f.sales_minor += order.total_minor;
  } else {
    f.corrections_count += 1;
    f.corrections_minor += order.total_minor;
  }
  if (order.voided) {
    f.voids_count += 1;
    f.voids_minor += order.total_minor;
  } else {
    f.net_minor += order.total_minor;
  }
}

interface Group {
  device_id: DeviceId | null;
  currency: string;
  first: number;
  last: number;
  byMethod: Map<PosPaymentMethod, MethodFigures>;
  total: MethodFigures;
}

function grow(groups: Map<string, Group>, key: string, order: DayOrder, device_id: DeviceId | null): void {
  let g = groups.get(key);
  if (!g) groups.set(key, (g = { device_id, currency: order.currency, first: order.official_receipt_no, last: order.official_receipt_no, byMethod: new Map(), total: zero() }));
  g.first = Math.min(g.first, order.official_receipt_no);
  g.last = Math.max(g.last, order.official_receipt_no);
  let m = g.byMethod.get(order.method);
  if (!m) g.byMethod.set(order.method, (m = zero()));
  add(m, order);
  add(g.total, order);
}

const byMethodRecord = (g: Group) => Object.fromEntries(PosPaymentMethod.options.filter((m) => g.byMethod.has(m)).map((m) => [m, g.byMethod.get(m)!]));

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The figures of one business day from its orders (any order; the result does not depend on it). */
export function dayFigures(orders: Iterable<DayOrder>): DayFigures {
  return withChanges(new Map(), new Map(), orders, []);
}

/**
 * `figures` with what a commit changed: orders committed since (`created`, as they are now) and
 * orders of the day voided since (`voided`, each as it was before its void). Equal to `dayFigures`
 * of the day's orders now, at the cost of the changes, not of the day: a late sale for a closed day
 * of 5,000 orders amends its report without reading them.
 */
export function figuresWith(figures: DayFigures, created: Iterable<DayOrder>, voided: Iterable<DayOrder>): DayFigures {
  const tills = new Map<string, Group>();
  const currencies = new Map<string, Group>();
  const group = (f: TillFigures | CurrencyFigures, device_id: DeviceId | null): Group => ({
    device_id,
    currency: f.currency,
    first: f.first_receipt_no,
    last: f.last_receipt_no,
    byMethod: new Map(PosPaymentMethod.options.filter((m) => f.by_method[m]).map((m) => [m, { ...f.by_method[m]! }])),
    total: { ...f.total },
  });
  for (const t of figures.tills) tills.set(JSON.stringify([t.device_id, t.currency]), group(t, t.device_id));
  for (const c of figures.currencies) currencies.set(c.currency, group(c, null));
  return withChanges(tills, currencies, created, voided);
}

function withChanges(tills: Map<string, Group>, currencies: Map<string, Group>, created: Iterable<DayOrder>, voided: Iterable<DayOrder>): DayFigures {
  for (const order of created) {
    grow(tills, JSON.stringify([order.device_id, order.currency]), order, order.device_id);
    grow(currencies, order.currency, order, null);
  }
  for (const order of voided) {
    for (const g of [tills.get(JSON.stringify([order.device_id, order.currency])), currencies.get(order.currency)]) {
      const m = g?.byMethod.get(order.method);
      if (!g || !m) throw new Error(`voided order ${order.entity_id} is not in the figures it is taken from`);
      for (const f of [m, g.total]) {
        f.voids_count += 1;
        f.voids_minor += order.total_minor;
        f.net_minor -= order.total_minor;
      }
    }
  }
  return {
    tills: [...tills.values()]
      .map((g) => ({ device_id: g.device_id!, currency: g.currency, first_receipt_no: g.first, last_receipt_no: g.last, by_method: byMethodRecord(g), total: g.total }))
      .sort((a, b) => compare(a.device_id, b.device_id) || compare(a.currency, b.currency)),
    currencies: [...currencies.values()]
      .map((g) => ({ currency: g.currency, first_receipt_no: g.first, last_receipt_no: g.last, by_method: byMethodRecord(g), total: g.total }))
      .sort((a, b) => compare(a.currency, b.currency)),
  };
}

/** What one revision changed against the one before, per till and currency (only where it moved). */
export const FiguresChange = z.strictObject({
  device_id: DeviceId,
  currency: Currency,
  /** The difference of every figure (this revision − the one before); 0 where it did not move. */
  total: MethodFigures.extend({ sales_count: z.int(), corrections_count: z.int(), voids_count: z.int() }),
});
export type FiguresChange = z.infer<typeof FiguresChange>;

/** The tills and currencies whose figures moved from `before` to `after`, with by how much. */
export function figuresDifference(before: DayFigures, after: DayFigures): FiguresChange[] {
  const key = (t: TillFigures) => JSON.stringify([t.device_id, t.currency]);
  const old = new Map(before.tills.map((t) => [key(t), t]));
  const now = new Map(after.tills.map((t) => [key(t), t]));
  const keys = new Map([...before.tills, ...after.tills].map((t) => [key(t), t]));
  const out: FiguresChange[] = [];
  for (const [k, till] of [...keys].sort(([a], [b]) => compare(a, b))) {
    const a = old.get(k)?.total ?? zero();
    const b = now.get(k)?.total ?? zero();
    const total = {
      sales_count: b.sales_count - a.sales_count,
      sales_minor: b.sales_minor - a.sales_minor,
      corrections_count: b.corrections_count - a.corrections_count,
      corrections_minor: b.corrections_minor - a.corrections_minor,
      voids_count: b.voids_count - a.voids_count,
      voids_minor: b.voids_minor - a.voids_minor,
      net_minor: b.net_minor - a.net_minor,
    };
    if (Object.values(total).some((v) => v !== 0)) out.push({ device_id: till.device_id, currency: till.currency, total });
  }
  return out;
}

/** Why a revision of a day's report was issued. */
export const RevisionReason = z.enum(["close", "late_pos"]);
export type RevisionReason = z.infer<typeof RevisionReason>;

/** One issue of a closed day's report: the close (revision 1) or an amendment after it. */
export const DayRevision = z.strictObject({
  revision: z.int().min(1),
  reason: RevisionReason,
  /** Server clock. */
  at: IsoDateTime,
  /** Who closed the day; for an amendment, the till whose late sales or voids made it. */
  by_device: DeviceId,
  by_user: UserId,
  /** The branch's head when it was issued: every commit at or below it is in its figures. */
  through_seq: count,
  /** The closer's note (close only); null when none. */
  note: z.string().max(500).nullable(),
  figures: DayFigures,
  /** Against the revision before (none for the close). */
  changes: z.array(FiguresChange),
});
export type DayRevision = z.infer<typeof DayRevision>;

/** A till's proof for the day: is everything it had queued for the day in? */
export const TillProofState = z.enum(["confirmed", "unconfirmed"]);
export type TillProofState = z.infer<typeof TillProofState>;

export const TillProof = z.strictObject({
  device_id: DeviceId,
  user_id: UserId.nullable(),
  app: z.string().max(100).nullable(),
  state: TillProofState,
  /** Why, in words: "nothing queued for the day at 18:02" or "not yet confirmed: last seen 14:32, offline". */
  why: z.string().max(300),
  connected: z.boolean(),
  /** Server clock: the till's last connection or report; null when never seen. */
  last_seen_at: IsoDateTime.nullable(),
  /** The report the state rests on (server clock), null when there is none. */
  reported_at: IsoDateTime.nullable(),
  /** From that report: the day's events still queued and the last receipt it issued for the day. */
  pending: count.nullable(),
  last_local_receipt_no: LocalReceiptNo.nullable(),
});
export type TillProof = z.infer<typeof TillProof>;

/** The manager's count of one till's cash drawer for the day, and what it should hold. */
export const DrawerCount = z.strictObject({
  device_id: DeviceId,
  currency: Currency,
  counted_minor: AmountMinor,
  /** Cash net of the till's day (cash sales + cash corrections − voided cash orders), as of the latest revision. */
  expected_minor: SignedAmountMinor,
  /** counted − expected: negative is cash missing. */
  variance_minor: z.int(),
  at: IsoDateTime,
  by_user: UserId,
  note: z.string().max(500).nullable(),
});
export type DrawerCount = z.infer<typeof DrawerCount>;

/** A day's report (`GET …/days/:day/report`): open (figures so far) or closed, with its revisions. */
export const DayReport = z.strictObject({
  day: IsoDate,
  time_zone: z.string().max(64),
  /** The branch's own name, as receipts are headed. */
  studio: z.string().max(200),
  state: z.enum(["open", "closed"]),
  /** The figures now: the latest revision's when closed (equal to the ledger's), the day so far when open. */
  figures: DayFigures,
  /** Every issue of the report, oldest first (none while open). */
  revisions: z.array(DayRevision),
  /** Every till of the branch that rang on the day or could have, with its proof. */
  tills: z.array(TillProof),
  drawer_counts: z.array(DrawerCount),
  /** Server clock when this answer was made. */
  generated_at: IsoDateTime,
});
export type DayReport = z.infer<typeof DayReport>;

/** `POST …/days/:day/close`: the body (may be empty `{}`). */
export const CloseDayRequest = z.strictObject({ note: line(500).optional() });
export type CloseDayRequest = z.infer<typeof CloseDayRequest>;

/** `POST …/days/:day/drawer`: what was counted in one till's drawer. */
export const DrawerCountRequest = z.strictObject({
  device_id: DeviceId,
  currency: Currency,
  counted_minor: AmountMinor,
  note: line(500).optional(),
});
export type DrawerCountRequest = z.infer<typeof DrawerCountRequest>;
