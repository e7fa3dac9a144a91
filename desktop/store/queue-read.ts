/**
 * The sync queue as people read it (`studiovault queue`): each queued event with its state and,
 * once decided, its verdict. Read only; the queue's rows never change content (migrations.ts), only
 * their status, so a page read twice differs only in verdicts that arrived in between.
 */
import type { EntityType, Operation, SyncStatus } from "../../domain/index.js";
import { assert } from "../../lib/result.js";
import { batchAsRead, SENT_THROUGH, STATE_AS_READ, type StoreContext } from "./context.js";

/** What the server said about an event: its commit, or why it was refused; null while undecided. */
export type QueueVerdict =
  | { kind: "confirmed"; seq: number; version: number; official_receipt_no: number | null }
  | { kind: "rejected"; code: string; message: string };

export interface QueueEntry {
  /** The local order: events are sent in this order. */
  position: number;
  event_id: string;
  status: SyncStatus;
  entity_type: EntityType;
  entity_id: string;
  operation: Operation;
  /**
   * The record's name as people know it, for the activity view's words: a project's title, an
   * invoice's reference (else its client), a sale's local receipt number. From the record as this
   * device sees it, else from the change that created it (a deleted project keeps its name here);
   * null when neither has one (a project created elsewhere and deleted since).
   */
  name: string | null;
  /** When it was written on this device (ISO). */
  created_at: string;
  sent_at: string | null;
  decided_at: string | null;
  verdict: QueueVerdict | null;
}

export interface QueuePage {
  events: QueueEntry[];
  /** How many events match the filter in all, not only on this page. */
  total: number;
}

export interface QueueQuery {
  /** Only events in this state; default every state. */
  status?: SyncStatus;
  /** Only events about records of this type; default every type. */
  entity_type?: EntityType;
  /** Newest written first (the app's activity view); default oldest first, the order they are sent in. */
  newest_first?: boolean;
  /** Page size; default 100. */
  limit?: number;
  offset?: number;
}

interface Row {
  position: number;
  id: string;
  sync_status: SyncStatus;
  entity_type: EntityType;
  entity_id: string;
  operation: Operation;
  view_body: string | null;
  create_payload: string | null;
  created_at: string;
  sent_at: string | null;
  decided_at: string | null;
  seq: number | null;
  version: number | null;
  official_receipt_no: number | null;
  reject_code: string | null;
  reject_message: string | null;
}

/**
 * One statement per filter combination (four, each prepared once), not `@x IS NULL OR col = @x`:
 * SQLite plans a statement once, before the values are bound, so an OR with a parameter cannot pick
 * an index. Each names its index (INDEXED BY: without ANALYZE the planner may pick another and sort,
 * and a query the index cannot serve fails to prepare rather than quietly scanning): by state
 * queue_by_status (sync_status, position), by kind with or without a state queue_by_type (entity_type,
 * position, sync_status; migration 5), which covers the state; no filter, the primary key (NOT
 * INDEXED for the page: every index covers `position`, the rowid, and the planner would rather scan
 * one and sort every event than walk the table in order — 800 ms a page at 100,000 events, not 5).
 * The page's positions are found first, from the index alone, and only then are its rows, their view
 * and their create event read: an OFFSET deep in the queue skips index entries, not joined rows.
 * The outer ORDER BY is the page's own column, and CROSS JOIN keeps the page outermost (SQLite never
 * reorders it): ordered by q.position over a plain JOIN, the planner scanned every event in order and
 * looked each up in the page (40 ms a page at 30,000 events; the query-plan test checks this).
 */
function pageSql(filter: Filter, state: string | null, newestFirst: boolean): string {
  const order = `ORDER BY position ${newestFirst ? "DESC" : "ASC"}`;
  return `SELECT q.position, q.id, ${STATE_AS_READ} AS sync_status,
                 q.entity_type, q.entity_id, q.operation, q.created_at, ${batchAsRead("sent_at")} AS sent_at, q.decided_at,
                 q.seq, q.version, q.official_receipt_no, q.reject_code, q.reject_message,
                 v.body AS view_body,
                 (SELECT c.payload_json FROM sync_queue c WHERE c.entity_id = q.entity_id AND c.operation = 'create' ORDER BY c.position LIMIT 1) AS create_payload
          FROM (SELECT position FROM ${source(filter, "page")} ${where(filter, state)} ${order} LIMIT @limit OFFSET @offset) AS page
          CROSS JOIN sync_queue q ON q.position = page.position
          LEFT JOIN view_entities v ON v.entity_id = q.entity_id
          ${order.replace("position", "page.position")}`;
}

type Filter = "none" | "status" | "type" | "both";

/** `page`: walk in position order; `count`: any way (without a filter, SQLite counts the smallest index). */
function source(filter: Filter, use: "page" | "count"): string {
  switch (filter) {
    case "none":
      return use === "page" ? "sync_queue NOT INDEXED" : "sync_queue";
    case "status":
      return "sync_queue INDEXED BY queue_by_status";
    case "type":
    case "both":
      return "sync_queue INDEXED BY queue_by_type";
  }
}

/** `state`: the condition on the state (inState), for the filters that have one. */
function where(filter: Filter, state: string | null): string {
  switch (filter) {
    case "none":
      return "";
    case "status":
      return `WHERE ${state}`;
    case "type":
      return "WHERE entity_type = @entity_type";
    case "both":
      return `WHERE entity_type = @entity_type AND ${state}`;
  }
}

/** Events in `status`: sent and pending are both stored `pending`, told apart by SENT_THROUGH (layout 7). */
function inState(status: SyncStatus): string {
  switch (status) {
    case "pending":
      return `sync_status = 'pending' AND position > ${SENT_THROUGH}`;
    case "sent":
      return `sync_status = 'pending' AND position <= ${SENT_THROUGH}`;
    case "confirmed":
    case "rejected":
      return "sync_status = @status";
  }
}

/** The two statements that answer `query` and their parameters (exported for the query-plan test). */
export function queueStatements(query: QueueQuery) {
  const status = query.status ?? null;
  const entityType = query.entity_type ?? null;
  const filter: Filter = status === null ? (entityType === null ? "none" : "type") : entityType === null ? "status" : "both";
  // Only the parameters a statement names: better-sqlite3 refuses unknown ones.
  const named = status === "confirmed" || status === "rejected";
  const params = { ...(named ? { status } : {}), ...(entityType === null ? {} : { entity_type: entityType }) };
  const state = status === null ? null : inState(status);
  return {
    page: { sql: pageSql(filter, state, query.newest_first ?? false), params: { ...params, limit: query.limit ?? 100, offset: query.offset ?? 0 } },
    count: { sql: `SELECT COUNT(*) AS n FROM ${source(filter, "count")} ${where(filter, state)}`, params },
  };
}

export function queuedEvents(ctx: StoreContext, query: QueueQuery = {}): QueuePage {
  const { page, count } = queueStatements(query);
  const rows = ctx.stmt(page.sql).all(page.params) as Row[];
  const { n } = ctx.stmt(count.sql).get(count.params) as { n: number };
  return { events: rows.map(toEvent), total: n };
}

function toEvent(r: Row): QueueEntry {
  return {
    position: r.position,
    event_id: r.id,
    status: r.sync_status,
    entity_type: r.entity_type,
    entity_id: r.entity_id,
    operation: r.operation,
    name: nameOf(r),
    created_at: r.created_at,
    sent_at: r.sent_at,
    decided_at: r.decided_at,
    verdict: verdictOf(r),
  };
}

function verdictOf(r: Row): QueueVerdict | null {
  switch (r.sync_status) {
    case "confirmed":
      // markConfirmed (sync-apply.ts) sets both in the same UPDATE as the status.
      assert(r.seq !== null && r.version !== null, `confirmed event ${r.id} has no seq or version`);
      return { kind: "confirmed", seq: r.seq, version: r.version, official_receipt_no: r.official_receipt_no };
    case "rejected":
      return { kind: "rejected", code: r.reject_code ?? "unknown", message: r.reject_message ?? "" };
    case "pending":
    case "sent":
      return null;
  }
}

/**
 * The record's name from the view's body, else from its create event's payload. Both are read
 * defensively: a queued payload this device could not read is kept as it was (unreadable-queue), and
 * a name is only ever a string.
 */
function nameOf(r: Row): string | null {
  const fromView = r.view_body === null ? null : nameIn(r.entity_type, field(parseJson(r.view_body), "data"));
  return fromView ?? (r.create_payload === null ? null : nameIn(r.entity_type, parseJson(r.create_payload)));
}

function nameIn(type: EntityType, data: unknown): string | null {
  switch (type) {
    case "project":
      return text(field(data, "title"));
    case "invoice":
      return text(field(data, "reference")) ?? text(field(data, "client_name"));
    case "pos_order":
      return text(field(data, "local_receipt_no"));
  }
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return null;
  }
}

const field = (o: unknown, key: string): unknown => (typeof o === "object" && o !== null && key in o ? (o as Record<string, unknown>)[key] : null);
const text = (v: unknown): string | null => (typeof v === "string" && v.trim() !== "" ? v : null);

/**
 * The queue as this device reports it to its branch (hello and `status`, protocol v6): how many
 * events wait for a verdict (pending or sent: both are stored `pending`, layout 7) and when the first
 * of them was written. The first written is the lowest position (events are queued and sent in
 * position order), so it is found from queue_by_status (sync_status, position) alone: one index
 * probe, and only that one row is read. The count walks the waiting entries of the
 * index, never the decided ones. Sent every second at most while writes happen, so it must stay
 * cheap at 100,000 decided events (the query-plan test checks it).
 */
export const QUEUE_REPORT_SQL = `
  SELECT (SELECT COUNT(*) FROM sync_queue INDEXED BY queue_by_status WHERE sync_status = 'pending') AS pending,
         (SELECT created_at FROM sync_queue
           WHERE position = (SELECT MIN(position) FROM sync_queue INDEXED BY queue_by_status WHERE sync_status = 'pending')) AS oldest_at`;

/**
 * When the server last confirmed one of this device's events: the decision time of the confirmed
 * event with the highest position. Verdicts are applied in queue order (batches go out and are
 * answered in position order, a lost verdict is recovered from the change stream in commit order),
 * so that is the latest one, found by one probe at the end of queue_by_status; `MAX(decided_at)`
 * walked every confirmed event ever, on every status the app showed.
 */
export const LAST_CONFIRMED_SQL = `
  SELECT decided_at AS at FROM sync_queue INDEXED BY queue_by_status
   WHERE sync_status = 'confirmed' ORDER BY position DESC LIMIT 1`;

export interface QueueState {
  pending: number;
  /** When the event waiting longest was written (ISO, this device's clock); null when none waits. */
  oldest_pending_at: string | null;
}

export function queueState(ctx: StoreContext): QueueState {
  const row = ctx.stmt(QUEUE_REPORT_SQL).get() as { pending: number; oldest_at: string | null };
  return { pending: row.pending, oldest_pending_at: row.oldest_at };
}
