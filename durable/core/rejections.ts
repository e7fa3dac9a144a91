/**
 * The branch's rejections as the dashboard reads them (server layout 7): one row per rejection decided
 * for good, in decision order, with who pushed it, what it named, and the attempted event as the
 * device sent it (bounded). Written by commit.ts in the push's transaction, beside the stored verdict,
 * so a rejection is either in both or in neither; a replay decides nothing and writes nothing (I3).
 * This module owns the `rejections` and `rejection_attempts` tables.
 */
import { EntityType, Operation, RejectCode } from "../../domain/index.js";
import { type RejectionSummary, utf8ByteLength } from "../../protocol/index.js";
import type { Actor } from "./actor.js";
import type { Rejection } from "./decide.js";
import type { SqlStore } from "./sql.js";

/**
 * The largest attempted event kept whole (UTF-8 bytes of its JSON). An event may be up to
 * MAX_EVENT_BYTES (12 MiB), and a hostile device can be rejected as often as it pushes: beyond this
 * the attempt is not kept and `attempted_note` says so. 256 KiB holds any ordinary edit and stays in
 * one SQLite row (a Durable Object row holds at most 2 MB).
 */
export const MAX_KEPT_ATTEMPT_BYTES = 256 * 1024;

/** What the drill-down shows of the attempted event (protocol/dashboard.ts RejectionDetail.attempted). */
export interface Attempted {
  entity_type: EntityType;
  entity_id: string;
  operation: Operation;
  base_version: number | null;
  payload: unknown;
}

/** A `rejections` row as stored. */
interface RejectionRow {
  id: number;
  event_id: string;
  decided_at: string;
  device_id: string;
  user_id: string | null;
  entity_type: string | null;
  entity_id: string;
  operation: string | null;
  code: string;
  message: string;
  depends_on: string | null;
}

/** The columns a summary reads; every query of this table selects these. */
export const SUMMARY_COLUMNS = "id, event_id, decided_at, device_id, user_id, entity_type, entity_id, operation, code, message, depends_on";

/** A row decoded into the wire's summary: values the schema would refuse are read as unknown (null). */
export function summaryOf(row: RejectionRow): RejectionSummary {
  const type = EntityType.safeParse(row.entity_type);
  const operation = Operation.safeParse(row.operation);
  return {
    id: row.id,
    event_id: row.event_id,
    decided_at: row.decided_at,
    device_id: row.device_id,
    user_id: row.user_id,
    entity_type: type.success ? type.data : null,
    entity_id: row.entity_id.slice(0, 64),
    operation: operation.success ? operation.data : null,
    code: RejectCode.parse(row.code),
    message: row.message.slice(0, 1_000),
    depends_on: row.depends_on,
  };
}

export function readSummaries(sql: SqlStore, query: string, ...params: (string | number | null)[]): RejectionSummary[] {
  return sql.all<RejectionRow>(query, ...params).map(summaryOf);
}

/**
 * Stores a rejection decided for good, with its attempt when it can be read as a change and is small
 * enough. Call inside the push's transaction, after its verdict is stored.
 */
export function recordRejectionRow(sql: SqlStore, atIso: string, actor: Actor, rejection: Rejection, message: string): void {
  const event = rejection.event as Record<string, unknown>;
  const text = (value: unknown, max: number) => (typeof value === "string" && value.length <= max ? value : null);
  const type = EntityType.safeParse(event.entity_type);
  const operation = Operation.safeParse(event.operation);
  const kept = keptAttempt(rejection);
  sql.run(
    `INSERT INTO rejections (event_id, decided_at, device_id, user_id, entity_type, entity_id, operation, code, message, depends_on, attempted_note)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    rejection.event.id,
    atIso,
    actor.device_id,
    actor.user_id,
    type.success ? type.data : null,
    text(event.entity_id, 64) ?? "",
    operation.success ? operation.data : null,
    rejection.facts.code,
    message.slice(0, 1_000),
    text(event.depends_on, 64),
    kept.ok ? null : kept.note,
  );
  if (kept.ok) {
    sql.run("INSERT INTO rejection_attempts (rejection_id, body) VALUES (last_insert_rowid(), ?)", kept.body);
  }
}

function keptAttempt(rejection: Rejection): { ok: true; body: string } | { ok: false; note: string } {
  if (rejection.about === "unread") {
    return { ok: false, note: `not kept: the event could not be read as a change (${rejection.facts.code})` };
  }
  const { entity_type, entity_id, operation, base_version, payload } = rejection.event;
  const body = JSON.stringify({ entity_type, entity_id, operation, base_version, payload } satisfies Attempted);
  const bytes = utf8ByteLength(body);
  if (bytes > MAX_KEPT_ATTEMPT_BYTES) {
    return { ok: false, note: `not kept: the attempted change is ${bytes} bytes; the branch keeps up to ${MAX_KEPT_ATTEMPT_BYTES}` };
  }
  return { ok: true, body };
}

/** The attempt kept for a rejection (null when none was), and the note saying why not. */
export function readAttempt(sql: SqlStore, id: number): { attempted: Attempted | null; note: string | null } {
  const row = sql.one<{ note: string | null; body: string | null }>(
    "SELECT r.attempted_note AS note, a.body AS body FROM rejections r LEFT JOIN rejection_attempts a ON a.rejection_id = r.id WHERE r.id = ?",
    id,
  );
  if (!row || row.body === null) return { attempted: null, note: row?.note ?? "not kept" };
  try {
    return { attempted: JSON.parse(row.body) as Attempted, note: null };
  } catch {
    return { attempted: null, note: "not kept: the stored attempt could not be read" };
  }
}

/** The newest rejection's id (0: none). Ids are dense (never deleted, no AUTOINCREMENT gaps on rollback), so it is also the count. */
export function rejectionHead(sql: SqlStore): number {
  return sql.one<{ n: number | null }>("SELECT MAX(id) AS n FROM rejections")?.n ?? 0;
}

/** Rejections decided after `afterId`, oldest first, at most `limit`. */
export function rejectionsAfter(sql: SqlStore, afterId: number, limit: number): RejectionSummary[] {
  return readSummaries(sql, `SELECT ${SUMMARY_COLUMNS} FROM rejections WHERE id > ? ORDER BY id LIMIT ?`, afterId, limit);
}
