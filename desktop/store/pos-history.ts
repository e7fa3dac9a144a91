/**
 * The POS screen's history: POS orders as the user sees them (`view_entities`, so a sale rung up
 * offline is listed at once, before the server has confirmed it), newest first, a page at a time,
 * with how many match.
 *
 * Order: by the instant the sale was rung up, then by id. `rung_at` keeps the branch's offset it was
 * written with (`…+05:30`), so its text does not sort by time across an offset change (DST, or a
 * branch whose zone was set after its first sales); `julianday()` reads the offset and gives the
 * instant. The index `view_pos_history` (migration 3) holds exactly that expression, the id and the
 * searchable title, for live POS orders only, so:
 * - a page walks the index backwards and reads the bodies of that page's rows only;
 * - "Today" is a range on the instant: the branch's business day is the calendar day of `rung_at` in
 *   the branch's zone (I13), i.e. the instants from that day's midnight to the next, in that zone;
 * - search is answered from the index (it holds `title`): a bounded scan of the POS orders' index
 *   entries, never of their JSON bodies; the total over all days reads the index alone, a day's total
 *   its range (SQLite reads that day's rows too: it does not treat an expression over `body` as
 *   covered).
 *
 * Search matches receipt numbers only, the local one (`DA1B2-000042`) or the official one (`1234`,
 * `#1234`), as a case-insensitive substring: both are in the view's `title`. Item descriptions and
 * amounts live only in each order's JSON body; matching them would read and parse every POS order's
 * body (unbounded as the branch grows), so they are not searched here.
 */
import Database from "better-sqlite3";
import { offsetMinutes } from "../../domain/index.js";
import type { StoreContext } from "./context.js";

export interface PosHistoryQuery {
  /** A business day (YYYY-MM-DD) in the branch's zone; absent: every day. */
  day?: string;
  /** Part of a local or official receipt number; absent or blank: every order. */
  search?: string;
  limit: number;
  offset: number;
}

/** A page of rows as stored, and how many rows match over every page. */
export interface PosHistoryRows {
  rows: Array<{ body: string; status: "synced" | "pending" | "rejected" }>;
  total: number;
}

/**
 * The instant a POS order was rung up. Must be the text migration 3 indexed (its SQL is frozen in
 * migrations.ts), or SQLite refuses `INDEXED BY view_pos_history`: a change fails loudly, in tests.
 */
const RUNG = "julianday(json_extract(body, '$.data.rung_at'))";

interface Filter {
  where: string;
  params: Array<string | number>;
}

function filter(query: Omit<PosHistoryQuery, "limit" | "offset">, timeZone: string): Filter {
  const where = ["entity_type = 'pos_order'", "deleted = 0"];
  const params: Array<string | number> = [];
  if (query.day !== undefined) {
    const { startIso, endIso } = dayBounds(query.day, timeZone);
    where.push(`${RUNG} >= julianday(?)`, `${RUNG} < julianday(?)`);
    params.push(startIso, endIso);
  }
  const pattern = searchPattern(query.search);
  if (pattern !== null) {
    where.push("title LIKE ? ESCAPE '\\'");
    params.push(pattern);
  }
  return { where: where.join(" AND "), params };
}

/*
 * INDEXED BY: without statistics (no ANALYZE) SQLite prefers `view_by_type`'s equality on
 * (entity_type, deleted) and then sorts every POS order for ORDER BY. Naming the index makes the
 * plan fixed, and a query it cannot serve fails to prepare rather than quietly scanning.
 */
const FROM = "view_entities INDEXED BY view_pos_history";
const pageSql = (f: Filter) => `SELECT body, status FROM ${FROM} WHERE ${f.where} ORDER BY ${RUNG} DESC, entity_id DESC LIMIT ? OFFSET ?`;
const countSql = (f: Filter) => `SELECT COUNT(*) AS n FROM ${FROM} WHERE ${f.where}`;

/** One page of the history and the total, read in one transaction so they agree. */
export function posHistory(ctx: StoreContext, query: PosHistoryQuery, timeZone: string): PosHistoryRows {
  const f = filter(query, timeZone);
  return ctx.db.transaction(() => {
    const rows = ctx.stmt(pageSql(f)).all(...f.params, query.limit, query.offset) as PosHistoryRows["rows"];
    const total = (ctx.stmt(countSql(f)).get(...f.params) as { n: number }).n;
    return { rows, total };
  })();
}

/**
 * TEST-ONLY: SQLite's plan for the page and the count of a query, read through a second, read-only
 * connection on the store's file (as inspect.ts does), so a test can check the index is used.
 */
export function posHistoryPlan(file: string, query: PosHistoryQuery, timeZone: string): { page: string[]; count: string[] } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const f = filter(query, timeZone);
    const plan = (sql: string, params: Array<string | number>) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail);
    return { page: plan(pageSql(f), [...f.params, query.limit, query.offset]), count: plan(countSql(f), f.params) };
  } finally {
    db.close();
  }
}

/** A LIKE pattern for a receipt number fragment (`#` before an official number dropped), or null for none. */
function searchPattern(search: string | undefined): string | null {
  const text = (search ?? "").trim().replace(/^#/, "").toLowerCase();
  if (text === "") return null;
  return `%${text.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
}

/**
 * The instants a business day spans in the branch's zone, as UTC ISO texts: [its midnight, the next
 * day's midnight). Two steps settle a zone whose offset differs either side of the first guess.
 */
export function dayBounds(day: string, timeZone: string): { startIso: string; endIso: string } {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  const midnight = (dayOfMonth: number) => {
    const asUtc = Date.UTC(y, m - 1, dayOfMonth);
    let ms = asUtc - offsetMinutes(asUtc, timeZone) * 60_000;
    ms = asUtc - offsetMinutes(ms, timeZone) * 60_000;
    return new Date(ms).toISOString();
  };
  return { startIso: midnight(d), endIso: midnight(d + 1) };
}
