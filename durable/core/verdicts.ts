/**
 * Stored verdicts: every verdict ever given, keyed by event id, the exactly-once record (I3). A
 * confirmation is its commit's rows (the `changes` row, with the POS order's receipt number and the
 * invoice number it took; once compacted, its `compacted_verdicts` row in place of the change row);
 * a rejection is a row of `stored_verdicts`, which this module owns (since layout 8, migrations.ts). How a record is rebuilt into exactly the verdict first given (versions are
 * immutable) is here too.
 */
import { type ConfirmedVerdict, type RejectedVerdict, type Verdict } from "../../protocol/index.js";
import { type DeviceId, type EntityId, type EventId, type RejectCode, RejectCode as RejectCodeSchema, RejectDetail } from "../../domain/index.js";
import { unreachable } from "../../lib/result.js";
import { readEntityVersion } from "./entity-store.js";
import { lastChangeOf } from "./last-change.js";
import { storedDeviceId, storedEntityId, storedEventId } from "./ids.js";
import type { SqlStore } from "./sql.js";

/**
 * The rejections whose device needs the server's entity to put its copy back to server truth (I7):
 * the entity moved on, was deleted or voided, or already existed. Every other rejection (permission,
 * shape, size, POS rules, references) leaves the device's base as it was: it carries no entity, so a
 * small hostile push cannot make the server send megabytes back (I12).
 *
 * Not `depends_on_rejected`: its dependency's rejection carried what the device needs, if anything,
 * and came first (verdicts come in push order, a dependency before its dependents). Were it here, a
 * viewer pushing edit after edit on one refused for permission would be sent the whole project (megabytes
 * for a 20,000-photo selection) with every push. Those given before storage layout 14 carried it, and
 * are replayed with it (`sentEntity`, migrations.ts `dependents_sent_entity`).
 */
export const REJECTIONS_WITH_ENTITY: ReadonlySet<RejectCode> = new Set([
  "entity_exists",
  "entity_deleted",
  "entity_voided",
  "version_conflict",
  "already_voided",
]);

/** A stored verdict as read (VERDICT_BY_EVENT): which columns are set depends on `status`. */
interface VerdictRow {
  event_id: string;
  device_id: string;
  entity_id: string;
  status: "confirmed" | "rejected";
  seq: number | null;
  version: number | null;
  official_receipt_no: number | null;
  code: string | null;
  message: string | null;
  detail: string | null;
  server_version: number | null;
}

/** A stored verdict, decoded: one shape per status, so a confirmation always has its seq and version. */
export type VerdictRecord =
  | {
      status: "confirmed";
      event_id: EventId;
      device_id: DeviceId;
      entity_id: EntityId;
      seq: number;
      version: number;
      official_receipt_no: number | null;
    }
  | {
      status: "rejected";
      event_id: EventId;
      device_id: DeviceId;
      /** The entity the event named if it named one (a rejected event may be unreadable): not an EntityId. */
      entity_id: string;
      code: RejectCode;
      message: string;
      detail: RejectDetail | null;
      /**
       * The server entity's version when rejected: since protocol v5 for every rejection of an entity
       * that existed (its `last_change`); before, only for the rejections that carry the entity.
       */
      server_version: number | null;
    };

/**
 * An event's verdict in one statement, one index probe per table: a stored row first (a rejection, or
 * a confirmation from before layout 8 its change did not vouch for), else its commit, else the record
 * compaction kept of its commit (`compacted_verdicts`, layout 11: the change row is gone; compaction.ts).
 * A confirmed verdict's receipt number is its POS order's when the commit created the order (same
 * seq); its invoice number is read by seq either way (verdictFromRecord).
 */
const VERDICT_BY_EVENT = `
  SELECT event_id, device_id, entity_id, status, seq, version, official_receipt_no, code, message, detail, server_version
    FROM stored_verdicts WHERE event_id = ?
  UNION ALL
  SELECT c.event_id, c.device_id, c.entity_id, 'confirmed', c.seq, c.version, p.official_receipt_no, NULL, NULL, NULL, NULL
    FROM changes c LEFT JOIN pos_orders p ON p.entity_id = c.entity_id AND p.seq = c.seq WHERE c.event_id = ?
  UNION ALL
  SELECT k.event_id, k.device_id, k.entity_id, 'confirmed', k.seq, k.version, p.official_receipt_no, NULL, NULL, NULL, NULL
    FROM compacted_verdicts k LEFT JOIN pos_orders p ON p.entity_id = k.entity_id AND p.seq = k.seq WHERE k.event_id = ?
  LIMIT 1`;

/** The stored verdict of an event, decoded, or null when the event was never decided. */
export function verdictRecord(sql: SqlStore, eventId: string): VerdictRecord | null {
  const row = sql.one<VerdictRow>(VERDICT_BY_EVENT, eventId, eventId, eventId);
  return row ? decodeRow(row) : null;
}

/** VERDICT_BY_EVENT for many ids at once (a JSON array): a stored row first, as there. */
const VERDICTS_BY_EVENT = `
  SELECT 0 AS from_change, event_id, device_id, entity_id, status, seq, version, official_receipt_no, code, message, detail, server_version
    FROM stored_verdicts WHERE event_id IN (SELECT value FROM json_each(?))
  UNION ALL
  SELECT 1, c.event_id, c.device_id, c.entity_id, 'confirmed', c.seq, c.version, p.official_receipt_no, NULL, NULL, NULL, NULL
    FROM changes c LEFT JOIN pos_orders p ON p.entity_id = c.entity_id AND p.seq = c.seq WHERE c.event_id IN (SELECT value FROM json_each(?))
  UNION ALL
  SELECT 1, k.event_id, k.device_id, k.entity_id, 'confirmed', k.seq, k.version, p.official_receipt_no, NULL, NULL, NULL, NULL
    FROM compacted_verdicts k LEFT JOIN pos_orders p ON p.entity_id = k.entity_id AND p.seq = k.seq WHERE k.event_id IN (SELECT value FROM json_each(?))`;

/** The verdict record of each of `eventIds` that has one (verdictRecord for each, in one statement). */
export function verdictRecords(sql: SqlStore, eventIds: readonly string[]): Map<string, VerdictRecord> {
  const ids = JSON.stringify(eventIds);
  const found = new Map<string, VerdictRecord>();
  for (const row of sql.all<VerdictRow & { from_change: number }>(VERDICTS_BY_EVENT, ids, ids, ids)) {
    // A stored row wins over the change row, as VERDICT_BY_EVENT's order says (migrations.ts layout 8).
    if (row.from_change === 0 || !found.has(row.event_id)) found.set(row.event_id, decodeRow(row));
  }
  return found;
}

function decodeRow(row: VerdictRow): VerdictRecord {
  switch (row.status) {
    case "confirmed":
      return {
        status: "confirmed",
        event_id: storedEventId(row.event_id),
        device_id: storedDeviceId(row.device_id),
        entity_id: storedEntityId(row.entity_id),
        seq: row.seq!,
        version: row.version!,
        official_receipt_no: row.official_receipt_no,
      };
    case "rejected":
      return {
        status: "rejected",
        event_id: storedEventId(row.event_id),
        device_id: storedDeviceId(row.device_id),
        entity_id: row.entity_id,
        code: RejectCodeSchema.parse(row.code),
        message: row.message!,
        // Decoded, not cast: the wire shape every stored detail was written in (rows from before the
        // typed details may hold words in `received`; they are replayed as first given, I3).
        detail: row.detail === null ? null : RejectDetail.parse(JSON.parse(row.detail)),
        server_version: row.server_version,
      };
    default:
      return unreachable(row.status, "stored verdict status");
  }
}

/** Whether a rejection was given with the server's entity: by its code, or a dependent's from before layout 14 (migrations.ts). */
function sentEntity(sql: SqlStore, record: Extract<VerdictRecord, { status: "rejected" }>): boolean {
  if (REJECTIONS_WITH_ENTITY.has(record.code)) return true;
  return record.code === "depends_on_rejected" && sql.one("SELECT 1 AS n FROM dependents_sent_entity WHERE event_id = ?", record.event_id) !== undefined;
}

/** The verdict as first given, rebuilt from its record. */
export function verdictFromRecord(sql: SqlStore, record: VerdictRecord): Verdict {
  switch (record.status) {
    case "confirmed": {
      const { status, event_id, seq, entity_id, version, official_receipt_no } = record;
      // The invoice number this commit took, if it took one (commit.ts): the same verdict every time (I3).
      const official_invoice_no = sql.one<{ n: number }>("SELECT official_invoice_no AS n FROM invoice_numbers WHERE seq = ?", seq)?.n ?? null;
      return { event_id, status, seq, entity_id, version, official_receipt_no, official_invoice_no } satisfies ConfirmedVerdict;
    }
    case "rejected": {
      const version = sentEntity(sql, record) ? record.server_version : null;
      return {
        event_id: record.event_id,
        status: "rejected",
        code: record.code,
        message: record.message,
        detail: record.detail,
        // Rows stored before protocol v3 kept a version for every rejection: the rule applies on the way out too.
        server_entity: version === null ? null : readEntityVersion(sql, record.entity_id, version),
        // Who made that version, under the entity's rule (commit.ts recordRejection): an immutable log
        // row and audit entry, so the same on every replay.
        last_change: version === null ? null : lastChangeOf(sql, record.entity_id, version),
      } satisfies RejectedVerdict;
    }
    default:
      return unreachable(record, "verdict record");
  }
}

/** The stored verdict of an event, rebuilt exactly as first given, or null. */
export function storedVerdict(sql: SqlStore, eventId: string): Verdict | null {
  const record = verdictRecord(sql, eventId);
  return record ? verdictFromRecord(sql, record) : null;
}

/**
 * A rejection decided for good. `entityId` is the server entity's id when it carries one, else what
 * the event named ("" when it named nothing readable); `serverVersion` is that entity's version.
 */
export function recordRejected(
  sql: SqlStore,
  verdict: RejectedVerdict,
  deviceId: DeviceId,
  entityId: string,
  serverVersion: number | null,
  atIso: string,
): void {
  sql.run(
    `INSERT INTO stored_verdicts (event_id, device_id, entity_id, status, code, message, detail, server_version, decided_at)
     VALUES (?, ?, ?, 'rejected', ?, ?, ?, ?, ?)`,
    verdict.event_id,
    deviceId,
    entityId,
    verdict.code,
    verdict.message,
    verdict.detail === null ? null : JSON.stringify(verdict.detail),
    serverVersion,
    atIso,
  );
}
