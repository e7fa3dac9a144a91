/**
 * The sync queue as people read it (`studiovault queue`): each queued event with its state and,
 * once decided, its verdict. Read only; the queue's rows never change content (migrations.ts), only
 * their status, so a page read twice differs only in verdicts that arrived in between.
 */
import type { EntityType, Operation, SyncStatus } from "../../domain/index.js";
import { assert } from "../../lib/result.js";
import type { StoreContext } from "./context.js";

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
  created_at: string;
  sent_at: string | null;
  decided_at: string | null;
  seq: number | null;
  version: number | null;
  official_receipt_no: number | null;
  reject_code: string | null;
  reject_message: string | null;
}

// `@status IS NULL OR sync_status = @status`: one statement for both "every state" and one state; with a
// state it walks queue_by_status (sync_status, position), without it the primary key (position).
const PAGE_SQL = `SELECT position, id, sync_status, entity_type, entity_id, operation, created_at, sent_at, decided_at,
                         seq, version, official_receipt_no, reject_code, reject_message
                  FROM sync_queue WHERE @status IS NULL OR sync_status = @status ORDER BY position LIMIT @limit OFFSET @offset`;
const COUNT_SQL = "SELECT COUNT(*) AS n FROM sync_queue WHERE @status IS NULL OR sync_status = @status";

export function queuedEvents(ctx: StoreContext, query: QueueQuery = {}): QueuePage {
  const status = query.status ?? null;
  const rows = ctx.stmt(PAGE_SQL).all({ status, limit: query.limit ?? 100, offset: query.offset ?? 0 }) as Row[];
  const { n } = ctx.stmt(COUNT_SQL).get({ status }) as { n: number };
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
