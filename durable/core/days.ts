/**
 * The end of a business day on the branch (issue 19, protocol v10): the close, its revisions, the
 * tills' accounts of their queues and the drawer counts. This module owns `day_revisions`,
 * `drawer_counts` and the devices' `till_days`.
 *
 * - **Close**: a manager closes day D; the branch records revision 1 of its report at its head: the
 *   figures (domain/day-report.ts `dayFigures`) from `pos_orders`, `pos_voids` and each order's
 *   payment method, so their totals per till and currency are the ledger's (I6).
 * - **Amend**: a POS commit (sale, correction, void) for a closed day makes the next revision in the
 *   same transaction, with the difference and an audit entry: a closed day's report never changes
 *   silently. Money is never refused for being late: the server wins on truth, not on money.
 * - **Proof per till**: a till (a device that ever reported its days, or rang on D) is confirmed for
 *   D when its latest report (hello or `status`) was made after the close, or once D had ended on the
 *   till's own clock, lists nothing of D queued, and names as its last receipt of D one the branch has.
 *   Otherwise it is listed as not yet confirmed, with when it was last seen: never left out.
 * - **Drawer count**: append-only; the latest per till and currency is the count, its variance
 *   against the latest revision's cash net.
 */
import {
  type DayFigures,
  type DayOrder,
  type DayReport,
  type DayRevision,
  type DrawerCount,
  type DrawerCountRequest,
  PosPaymentMethod,
  type RevisionReason,
  type TillDay,
  type TillProof,
  MAX_TILL_DAYS,
  businessDay,
  canWrite,
  dayFigures,
  dayIn,
  dayStartMs,
  figuresDifference,
  figuresWith,
  formatMinor,
  nextDay,
  plural,
  Role,
  zonedIso,
} from "../../domain/index.js";
import type { Actor } from "./actor.js";
import { recordAudit } from "./audit.js";
import { readEntityVersion } from "./entity-store.js";
import { storedDeviceId, storedUserId } from "./ids.js";
import type { LoggedChange } from "./log.js";
import { headSeq } from "./log.js";
import type { SqlStore } from "./sql.js";

/** A revision issued by a close or an amendment: every v10 connection is told (`day_report`). */
export interface IssuedRevision {
  day: string;
  revision: number;
  reason: RevisionReason;
}

/**
 * The POS orders of one business day, each with its payment method (from its current entity: POS
 * orders never change but by a void). SQLite reads the method out of the stored JSON where the
 * entity is one part (every POS order is far below a part); a multi-part one is read and parsed here.
 */
export function dayOrders(sql: SqlStore, day: string): DayOrder[] {
  const rows = sql.all<{ entity_id: string; official_receipt_no: number; local_receipt_no: string; kind: "sale" | "correction"; device_id: string; currency: string; total_minor: number; voided: number; version: number; method: string | null }>(
    `SELECT o.entity_id, o.official_receipt_no, o.local_receipt_no, o.kind, o.device_id, o.currency, o.total_minor,
       v.entity_id IS NOT NULL AS voided, h.version,
       (SELECT CASE WHEN json_valid(ev.body) THEN ev.body ->> '$.data.payment.method' END FROM entity_versions ev
         WHERE ev.entity_id = o.entity_id AND ev.version = h.version AND ev.part = 0) AS method
     FROM pos_orders o LEFT JOIN pos_voids v ON v.entity_id = o.entity_id
       -- The order's last change made its current version (entity-store.ts).
       JOIN changes h ON h.seq = (SELECT MAX(c.seq) FROM changes c WHERE c.entity_id = o.entity_id)
     WHERE o.business_day = ?`,
    day,
  );
  return rows.map((row) => {
    const parsed = PosPaymentMethod.safeParse(row.method);
    const method = parsed.success ? parsed.data : methodOf(sql, row.entity_id, row.version);
    return {
      entity_id: row.entity_id,
      official_receipt_no: row.official_receipt_no,
      local_receipt_no: row.local_receipt_no,
      kind: row.kind,
      device_id: storedDeviceId(row.device_id),
      currency: row.currency,
      total_minor: row.total_minor,
      method,
      voided: row.voided === 1,
    };
  });
}

function methodOf(sql: SqlStore, entityId: string, version: number): PosPaymentMethod {
  const entity = readEntityVersion(sql, entityId, version);
  if (entity?.entity_type !== "pos_order") throw new Error(`POS order ${entityId} has no stored entity at version ${version}`);
  return entity.data.payment.method;
}

interface RevisionRow {
  revision: number;
  reason: RevisionReason;
  at: string;
  by_device: string;
  by_user: string;
  through_seq: number;
  note: string | null;
  figures: string;
  changes: string;
}

/** Every revision of the day's report, oldest first; none while the day is open. */
export function dayRevisions(sql: SqlStore, day: string): DayRevision[] {
  return sql
    .all<RevisionRow>("SELECT revision, reason, at, by_device, by_user, through_seq, note, figures, changes FROM day_revisions WHERE day = ? ORDER BY revision", day)
    .map((r) => ({
      revision: r.revision,
      reason: r.reason,
      at: r.at,
      by_device: storedDeviceId(r.by_device),
      by_user: storedUserId(r.by_user),
      through_seq: r.through_seq,
      note: r.note,
      figures: JSON.parse(r.figures) as DayFigures,
      changes: JSON.parse(r.changes) as DayRevision["changes"],
    }));
}

function latestRevision(sql: SqlStore, day: string): { revision: number; figures: string; at: string } | null {
  return sql.one<{ revision: number; figures: string; at: string }>("SELECT revision, figures, at FROM day_revisions WHERE day = ? ORDER BY revision DESC LIMIT 1", day) ?? null;
}

function insertRevision(sql: SqlStore, day: string, r: Omit<DayRevision, "figures" | "changes"> & { figures: DayFigures; changes: DayRevision["changes"] }): void {
  sql.run(
    "INSERT INTO day_revisions (day, revision, reason, at, by_device, by_user, through_seq, note, figures, changes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    day,
    r.revision,
    r.reason,
    r.at,
    r.by_device,
    r.by_user,
    r.through_seq,
    r.note,
    JSON.stringify(r.figures),
    JSON.stringify(r.changes),
  );
}

/** Net per currency for an audit line: `12,500.00 LKR, 40.00 USD` (or `nothing`). */
function netWords(figures: DayFigures): string {
  return figures.currencies.length === 0 ? "no sales" : figures.currencies.map((c) => formatMinor(c.total.net_minor, c.currency)).join(", ");
}

export type CloseOutcome = { ok: true; issued: IssuedRevision } | { ok: false; status: 409 | 422; error: "day_closed" | "day_not_started"; message: string };

/**
 * Closes business day `day`: revision 1 of its report, at the branch's head. A day that has not
 * begun in the branch's zone cannot be closed (422); a closed day is not closed again (409: its
 * report is re-issued only by late sales).
 */
export function closeDay(sql: SqlStore, nowMs: number, timeZone: string, by: Actor, day: string, note: string | null): CloseOutcome {
  const today = dayIn(nowMs, timeZone);
  if (day > today) return { ok: false, status: 422, error: "day_not_started", message: `business day ${day} has not begun in ${timeZone} (today there is ${today}); a day is closed on or after it` };
  const latest = latestRevision(sql, day);
  if (latest) return { ok: false, status: 409, error: "day_closed", message: `business day ${day} was closed at ${latest.at}; its report is at revision ${latest.revision} and is amended by late sales only` };
  const figures = dayFigures(dayOrders(sql, day));
  const at = new Date(nowMs).toISOString();
  insertRevision(sql, day, { revision: 1, reason: "close", at, by_device: by.device_id, by_user: by.user_id, through_seq: headSeq(sql), note, figures, changes: [] });
  recordAudit(sql, at, {
    kind: "day_closed",
    device_id: by.device_id,
    user_id: by.user_id,
    role: by.role,
    message: `closed business day ${day}: net ${netWords(figures)} over ${plural(new Set(figures.tills.map((t) => t.device_id)).size, "till")}${note ? ` (${note})` : ""}`,
  });
  return { ok: true, issued: { day, revision: 1, reason: "close" } };
}

/** One order of the day as it is now (voided or not), with the payment method its entity has. */
function dayOrderNow(sql: SqlStore, entityId: string, method: PosPaymentMethod): DayOrder {
  const row = sql.one<{ official_receipt_no: number; local_receipt_no: string; kind: "sale" | "correction"; device_id: string; currency: string; total_minor: number; voided: number }>(
    `SELECT o.official_receipt_no, o.local_receipt_no, o.kind, o.device_id, o.currency, o.total_minor, v.entity_id IS NOT NULL AS voided
     FROM pos_orders o LEFT JOIN pos_voids v ON v.entity_id = o.entity_id WHERE o.entity_id = ?`,
    entityId,
  );
  if (!row) throw new Error(`POS order ${entityId} was committed but is not in pos_orders`);
  return { entity_id: entityId, ...row, device_id: storedDeviceId(row.device_id), method, voided: row.voided === 1 };
}

/**
 * After a push's commits (in its transaction): every closed day whose POS orders they touched gets
 * its next revision, with what moved, and an audit entry naming the till that made it. The latest
 * revision is always the day's figures (every POS commit of a closed day comes through here), so
 * the new one is it plus this batch's orders (figuresWith): the cost of the batch, not of the day.
 */
export function amendClosedDays(sql: SqlStore, nowMs: number, timeZone: string, by: Actor, changes: readonly LoggedChange[]): IssuedRevision[] {
  const created = new Set<string>();
  const byDay = new Map<string, { created: DayOrder[]; voided: DayOrder[] }>();
  for (const { change } of changes) {
    const entity = change.entity;
    if (entity.entity_type !== "pos_order") continue;
    // A void is counted on its order's day (the ledger's rule): the day of the order's rung_at, as commit.ts books it.
    const day = businessDay(entity.data.rung_at, timeZone);
    let of = byDay.get(day);
    if (!of) byDay.set(day, (of = { created: [], voided: [] }));
    if (change.operation === "create") {
      created.add(entity.entity_id);
      of.created.push(dayOrderNow(sql, entity.entity_id, entity.data.payment.method)); // voided later in the batch: counted so
    } else if (!created.has(entity.entity_id)) {
      of.voided.push(dayOrderNow(sql, entity.entity_id, entity.data.payment.method));
    }
  }
  const issued: IssuedRevision[] = [];
  for (const [day, orders] of [...byDay].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const latest = latestRevision(sql, day);
    if (!latest) continue; // an open day: its figures are read when asked
    const before = JSON.parse(latest.figures) as DayFigures;
    const figures = figuresWith(before, orders.created, orders.voided);
    const moved = figuresDifference(before, figures);
    if (moved.length === 0) continue;
    const at = new Date(nowMs).toISOString();
    const revision = latest.revision + 1;
    insertRevision(sql, day, { revision, reason: "late_pos", at, by_device: by.device_id, by_user: by.user_id, through_seq: headSeq(sql), note: null, figures, changes: moved });
    const what = moved.map((m) => `${m.device_id}: ${m.total.net_minor >= 0 ? "+" : ""}${formatMinor(m.total.net_minor, m.currency)} net`).join("; ");
    recordAudit(sql, at, {
      kind: "day_amended",
      device_id: by.device_id,
      user_id: by.user_id,
      role: by.role,
      message: `closed business day ${day} amended to revision ${revision} by late POS commits (${what}); net now ${netWords(figures)}`,
    });
    issued.push({ day, revision, reason: "late_pos" });
  }
  return issued;
}

/** A till's report of its days (hello or `status`, v10): the latest replaces the one before. */
export function recordTillDays(sql: SqlStore, atMs: number, deviceId: string, days: readonly TillDay[]): void {
  sql.run("UPDATE devices SET till_days = ?, till_days_at = ? WHERE device_id = ?", JSON.stringify(days), new Date(atMs).toISOString(), deviceId);
}

interface TillRow {
  device_id: string;
  user_id: string;
  role: string;
  app: string | null;
  first_seen_at: string;
  last_seen_at: string;
  revoked_at: string | null;
  protocol_version: number | null;
  till_days: string | null;
  till_days_at: string | null;
  clock_skew_ms: number | null;
  rang: number;
}

/** "14:32" on the day itself, "2026-12-04 09:05" on another: a time as the branch's people read it. */
function whenWords(iso: string, day: string, timeZone: string): string {
  const local = zonedIso(Date.parse(iso), timeZone);
  return local.slice(0, 10) === day ? local.slice(11, 16) : `${local.slice(0, 10)} ${local.slice(11, 16)}`;
}

/**
 * Every till that matters for the day, with its proof: each device that rang an order of the day,
 * and each that reports its days (a till with a local store) and was enrolled by the day's end and
 * not revoked before it began. Dashboards and tools that keep no queue are not tills.
 */
export function tillProofs(sql: SqlStore, day: string, timeZone: string, closedAt: string | null, connected: ReadonlySet<string>): TillProof[] {
  const startMs = dayStartMs(day, timeZone);
  const endMs = dayStartMs(nextDay(day), timeZone);
  const rows = sql.all<TillRow>(
    `SELECT d.device_id, d.user_id, d.role, d.app, d.first_seen_at, d.last_seen_at, d.revoked_at, d.protocol_version, d.till_days, d.till_days_at, d.clock_skew_ms,
       EXISTS (SELECT 1 FROM pos_orders o WHERE o.business_day = ? AND o.device_id = d.device_id) AS rang
     FROM devices d ORDER BY d.device_id`,
    day,
  );
  // The report must have been made when the till could ring nothing more of the day: once the day had
  // ended on the till's own clock (the server's at arrival plus the skew its last hello showed: a
  // till whose clock is behind still books sales to the day), or after the close (strictly: a report
  // stamped the close's very millisecond may have come before it). A later sale would amend the close.
  const closedMs = closedAt === null ? null : Date.parse(closedAt);
  const afterTheDay = (ms: number, skewMs: number) => ms + skewMs >= endMs || (closedMs !== null && ms > closedMs);
  const proofs: TillProof[] = [];
  for (const row of rows) {
    const rang = row.rang === 1;
    const reports = row.till_days !== null;
    const role = Role.safeParse(row.role);
    const mayRing = role.success && canWrite(role.data, "pos_order", "create");
    if (!rang && !(reports && mayRing && Date.parse(row.first_seen_at) < endMs && (row.revoked_at === null || Date.parse(row.revoked_at) >= startMs))) continue;
    const isConnected = connected.has(row.device_id);
    const seen = `last seen ${whenWords(row.last_seen_at, day, timeZone)}, ${isConnected ? "online" : "offline"}`;
    const base = {
      device_id: storedDeviceId(row.device_id),
      user_id: storedUserId(row.user_id),
      app: row.app,
      connected: isConnected,
      last_seen_at: row.last_seen_at,
      reported_at: row.till_days_at,
    };
    if (row.till_days === null || row.till_days_at === null) {
      const why = `not yet confirmed: ${seen}; its app (protocol ${row.protocol_version ?? "unknown"}) does not report its queue: update it`;
      proofs.push({ ...base, state: "unconfirmed", why, pending: null, last_local_receipt_no: null });
      continue;
    }
    const reported = JSON.parse(row.till_days) as TillDay[];
    const entry = reported.find((d) => d.day === day) ?? null;
    // A day missing from a full list may have been left out by the cap, not have nothing queued.
    const unlisted = entry === null && reported.length >= MAX_TILL_DAYS;
    const pending = entry?.pending ?? 0;
    const last = entry?.last_local_receipt_no ?? null;
    const late = afterTheDay(Date.parse(row.till_days_at), row.clock_skew_ms ?? 0);
    const reportedAt = whenWords(row.till_days_at, day, timeZone);
    let why: string;
    let confirmed = false;
    if (!late) why = `not yet confirmed: ${seen}`;
    else if (unlisted) why = `not yet confirmed: its report lists ${MAX_TILL_DAYS} days with POS changes queued or rung, and not this one (reported ${reportedAt})`;
    else if (pending > 0) why = `not yet confirmed: ${plural(pending, "POS change")} of the day still queued at ${reportedAt}`;
    else if (last !== null && !sql.one("SELECT 1 AS x FROM pos_orders WHERE device_id = ? AND local_receipt_no = ? AND business_day = ?", row.device_id, last, day)) {
      why = `not yet confirmed: its last receipt of the day, ${last}, has not reached the branch (reported ${reportedAt})`;
    } else {
      confirmed = true;
      why = last === null ? `confirmed at ${reportedAt}: nothing rung, nothing queued` : `confirmed at ${reportedAt}: nothing queued, last receipt ${last} received`;
    }
    proofs.push({ ...base, state: confirmed ? "confirmed" : "unconfirmed", why, pending: entry ? entry.pending : 0, last_local_receipt_no: last });
  }
  return proofs;
}

/** Records a drawer count (append-only; the latest per till and currency counts). */
export function countDrawer(sql: SqlStore, nowMs: number, by: Actor, day: string, count: DrawerCountRequest): { ok: true } | { ok: false; status: 404 | 409; error: string; message: string } {
  if (!sql.one("SELECT 1 AS x FROM devices WHERE device_id = ?", count.device_id)) {
    return { ok: false, status: 404, error: "not_found", message: `no device ${count.device_id} on this branch` };
  }
  const at = new Date(nowMs).toISOString();
  sql.run(
    "INSERT INTO drawer_counts (day, device_id, currency, counted_minor, at, by_device, by_user, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    day,
    count.device_id,
    count.currency,
    count.counted_minor,
    at,
    by.device_id,
    by.user_id,
    count.note ?? null,
  );
  const expected = expectedCash(currentFigures(sql, day), count.device_id, count.currency);
  recordAudit(sql, at, {
    kind: "drawer_counted",
    device_id: by.device_id,
    user_id: by.user_id,
    role: by.role,
    message: `drawer of till ${count.device_id} for business day ${day}: counted ${formatMinor(count.counted_minor, count.currency)}, expected ${formatMinor(expected, count.currency)}, variance ${formatMinor(count.counted_minor - expected, count.currency)}${count.note ? ` (${count.note})` : ""}`,
  });
  return { ok: true };
}

/** Cash net of one till's day in one currency: what its drawer should hold beyond its float. */
function expectedCash(figures: DayFigures, deviceId: string, currency: string): number {
  const cash: PosPaymentMethod = "cash";
  return figures.tills.find((t) => t.device_id === deviceId && t.currency === currency)?.by_method[cash]?.net_minor ?? 0;
}

/** The latest revision's figures when closed, else the day so far. */
function currentFigures(sql: SqlStore, day: string): DayFigures {
  const latest = latestRevision(sql, day);
  return latest ? (JSON.parse(latest.figures) as DayFigures) : dayFigures(dayOrders(sql, day));
}

function drawerCounts(sql: SqlStore, day: string, figures: DayFigures): DrawerCount[] {
  return sql
    .all<{ device_id: string; currency: string; counted_minor: number; at: string; by_user: string; note: string | null }>(
      `SELECT device_id, currency, counted_minor, at, by_user, note FROM drawer_counts c
       WHERE day = ? AND id = (SELECT MAX(id) FROM drawer_counts l WHERE l.day = c.day AND l.device_id = c.device_id AND l.currency = c.currency)
       ORDER BY device_id, currency`,
      day,
    )
    .map((row) => {
      const expected = expectedCash(figures, row.device_id, row.currency);
      return {
        device_id: storedDeviceId(row.device_id),
        currency: row.currency,
        counted_minor: row.counted_minor,
        expected_minor: expected,
        variance_minor: row.counted_minor - expected,
        at: row.at,
        by_user: storedUserId(row.by_user),
        note: row.note,
      };
    });
}

/** The day's report as it stands: figures, revisions, every till's proof, the drawer counts. */
export function dayReport(sql: SqlStore, nowMs: number, timeZone: string, studio: string, day: string, connected: ReadonlySet<string>): DayReport {
  const revisions = dayRevisions(sql, day);
  const latest = revisions.at(-1);
  const figures = latest ? latest.figures : dayFigures(dayOrders(sql, day));
  return {
    day,
    time_zone: timeZone,
    studio,
    state: latest ? "closed" : "open",
    figures,
    revisions,
    tills: tillProofs(sql, day, timeZone, revisions[0]?.at ?? null, connected),
    drawer_counts: drawerCounts(sql, day, figures),
    generated_at: new Date(nowMs).toISOString(),
  };
}
