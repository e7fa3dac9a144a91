/**
 * The till's account of its business days (issue 19, protocol v10 `pos_days` in hello and `status`):
 * for every day it still has POS events queued, how many, and for every day of its window it issued
 * receipts on, the last receipt it issued that was not refused. The branch calls the till complete
 * for a closed day from this (durable/core/days.ts `tillProofs`), so it must say every queued event
 * of every day: a day left out reads as "nothing queued".
 *
 * Days are the branch's business days (I13): the calendar day, in the branch's zone, of the instant
 * the order was rung up, whatever zone this host runs in. A void counts on the day of the order it
 * voids (the ledger's rule, as the server books it), which may be another till's order of another day.
 *
 * Sent with every status report (at most about once a second), so it reads one index (migration 6,
 * `queue_pos_days`: POS events by state, then by the instant rung up) and never a payload:
 * - what is queued: the waiting POS events' instants, counted per minute by SQLite; a minute is
 *   turned into a day here, in JS, with the same `dayIn` the server uses (SQLite does not know the
 *   zone). A void's instant is its order's, read from the view by primary key;
 * - what was issued: per day, ranges of the index between the day's first instant and the next
 *   day's, compared as julianday values (SQLite keeps them as integer milliseconds, so the comparison
 *   is exact): whether any order was issued, and the highest position (the last created) not refused.
 */
import Database from "better-sqlite3";
import { dayIn, dayStartMs, MAX_TILL_DAYS, nextDay, TILL_DAYS_WINDOW, type TillDay } from "../../domain/index.js";
import type { StoreContext } from "./context.js";

/** The instant an own POS order was rung up, as migration 6 indexed it (the text must match, or INDEXED BY fails to prepare). */
const RUNG = "(CASE WHEN q.entity_type = 'pos_order' AND q.operation = 'create' AND json_valid(q.payload_json) THEN julianday(json_extract(q.payload_json, '$.rung_at')) END)";
/** A julianday as integer ms since the epoch: exact (a julianday double resolves microseconds at today's dates). */
const EPOCH_MS = (jd: string) => `CAST(round((${jd} - 2440587.5) * 86400000) AS INTEGER)`;

/**
 * The POS events waiting for a verdict, per minute of the instant their day is counted from: a
 * create's own `rung_at` (from the index), a void's its order's (the view has every order this device
 * knows of; the base as a fallback; a create whose payload could not be read too). A day's bounds are
 * whole minutes in every zone with whole-minute offsets (all of them since 1972), so a minute lies in
 * one day. NULL: no instant (a void of an order this device does not have).
 */
const OPEN_SQL = `
  SELECT MIN(ms) AS ms, COUNT(*) AS n FROM (
    SELECT ${EPOCH_MS(`COALESCE(${RUNG},
             (SELECT julianday(v.body ->> '$.data.rung_at') FROM view_entities v WHERE v.entity_id = q.entity_id),
             (SELECT julianday(b.body ->> '$.data.rung_at') FROM base_entities b WHERE b.entity_id = q.entity_id))`)} AS ms
      FROM sync_queue q INDEXED BY queue_pos_days
     WHERE q.entity_type = 'pos_order' AND q.sync_status = 'pending')
  GROUP BY ms / 60000`;

/**
 * Per day asked (`[day, first instant, next day's first instant]`, ISO): whether this device issued
 * an order rung up in it (refused or not), and the local receipt of the last one it created that was
 * not refused. Each is a few ranges of the index, one per state.
 */
const inDay = (states: string) =>
  `sync_queue q INDEXED BY queue_pos_days WHERE q.entity_type = 'pos_order' AND q.sync_status IN (${states}) AND ${RUNG} >= d.lo AND ${RUNG} < d.hi`;
const ISSUED_SQL = `
  WITH d (day, lo, hi) AS (SELECT value ->> 0, julianday(value ->> 1), julianday(value ->> 2) FROM json_each(?))
  SELECT x.day, x.issued, (SELECT payload_json ->> '$.local_receipt_no' FROM sync_queue WHERE position = x.last) AS last_receipt
    FROM (SELECT d.day,
                 EXISTS (SELECT 1 FROM ${inDay("'pending', 'confirmed', 'rejected'")}) AS issued,
                 (SELECT MAX(q.position) FROM ${inDay("'pending', 'confirmed'")}) AS last
            FROM d) AS x`;

/** The first instant of a day in a zone, as an ISO text; kept, since every report asks for the same days. */
const dayStarts = new Map<string, string>();
function dayStartIso(day: string, timeZone: string): string {
  const key = `${timeZone} ${day}`;
  let iso = dayStarts.get(key);
  if (iso === undefined) {
    if (dayStarts.size >= 4_096) dayStarts.clear();
    iso = new Date(dayStartMs(day, timeZone)).toISOString();
    dayStarts.set(key, iso);
  }
  return iso;
}

function previousDay(day: string): string {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d - 1)).toISOString().slice(0, 10);
}

/**
 * The till's days now (`nowMs`: this device's clock; `timeZone`: the branch's): sorted by day, at most
 * MAX_TILL_DAYS. When there are more, the days with events queued are kept first (a queued day left
 * out would read as complete), then the newest; among queued days too, the newest.
 */
export function tillDays(ctx: StoreContext, nowMs: number, timeZone: string): TillDay[] {
  const today = dayIn(nowMs, timeZone);
  const pending = new Map<string, number>();
  // The day last found and its bounds: waiting events cluster in a few days, so Intl is asked once a day, not once a minute.
  let span: { day: string; startMs: number; endMs: number } | null = null;
  for (const { ms, n } of ctx.stmt(OPEN_SQL).all() as Array<{ ms: number | null; n: number }>) {
    let day: string;
    if (ms === null) {
      // An event whose day cannot be read (a void of an order this device does not have, which the
      // branch will refuse) still waits: it is counted today rather than nowhere, so no day reads
      // complete because of it.
      day = today;
    } else {
      if (span === null || ms < span.startMs || ms >= span.endMs) {
        const found = dayIn(ms, timeZone);
        span = { day: found, startMs: Date.parse(dayStartIso(found, timeZone)), endMs: Date.parse(dayStartIso(nextDay(found), timeZone)) };
      }
      day = span.day;
    }
    pending.set(day, (pending.get(day) ?? 0) + n);
  }
  const asked = new Set(pending.keys());
  for (let day = today, n = 0; n <= TILL_DAYS_WINDOW; day = previousDay(day), n++) asked.add(day);
  const bounds = [...asked].map((day) => [day, dayStartIso(day, timeZone), dayStartIso(nextDay(day), timeZone)]);
  const issued = ctx.stmt(ISSUED_SQL).all(JSON.stringify(bounds)) as Array<{ day: string; issued: number; last_receipt: string | null }>;
  const days: TillDay[] = [];
  for (const row of issued) {
    const queued = pending.get(row.day) ?? 0;
    if (queued === 0 && row.issued === 0) continue;
    days.push({ day: row.day, pending: queued, last_local_receipt_no: row.last_receipt });
  }
  return capped(days);
}

function capped(days: TillDay[]): TillDay[] {
  const byDay = (a: TillDay, b: TillDay) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0);
  if (days.length <= MAX_TILL_DAYS) return days.sort(byDay);
  const newestFirst = [...days].sort((a, b) => byDay(b, a));
  const kept = [...newestFirst.filter((d) => d.pending > 0), ...newestFirst.filter((d) => d.pending === 0)].slice(0, MAX_TILL_DAYS);
  return kept.sort(byDay);
}

/**
 * TEST-ONLY: SQLite's plan for tillDays' two statements, read through a second, read-only connection
 * on the store's file (as pos-history.ts does), so a test can check they read the indexes.
 */
export function tillDaysQueryPlan(file: string): string[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const plan = (sql: string, ...params: string[]) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail);
    return [...plan(OPEN_SQL), ...plan(ISSUED_SQL, JSON.stringify([["2026-11-25", "2026-11-24T18:30:00.000Z", "2026-11-25T18:30:00.000Z"]]))];
  } finally {
    db.close();
  }
}
