/**
 * A manager's resolution of a conflict a device keeps open for one (a refused POS sale, I6): checked
 * against the stored verdict, recorded once in the append-only audit (I10) with who, on which device,
 * what and why, and answered the same way every time it is asked again (idempotent, like a verdict).
 * The role check is the HTTP API's (http-api.ts); this module owns what "resolved" means.
 */
import type { ConflictResolution, ConflictResolutionRequest } from "../../protocol/index.js";
import { ConflictResolutionAction } from "../../protocol/index.js";
import { err, ok, type Result } from "../../lib/result.js";
import type { Actor } from "./actor.js";
import { recordAudit } from "./audit.js";
import { storedDeviceId, storedEventId, storedUserId } from "./ids.js";
import type { SqlStore } from "./sql.js";
import { verdictRecord } from "./verdicts.js";

/** Why a resolution was refused: no such verdict (404) or nothing to resolve (409). */
export type ResolutionRefusal = { status: 404 | 409; error: "not_found" | "not_rejected"; message: string };

/** The action and the note travel in the audit entry's message as `<action>: <note>`. */
const SEPARATOR = ": ";

export function resolveConflict(sql: SqlStore, atMs: number, actor: Actor, eventId: string, request: ConflictResolutionRequest): Result<ConflictResolution, ResolutionRefusal> {
  return sql.transaction((): Result<ConflictResolution, ResolutionRefusal> => {
    const record = verdictRecord(sql, eventId);
    if (!record) return err({ status: 404, error: "not_found", message: `the server has no verdict for change ${eventId}: it was never received, so there is nothing to resolve` });
    if (record.status !== "rejected") return err({ status: 409, error: "not_rejected", message: `change ${eventId} was confirmed: there is no conflict to resolve` });
    const earlier = resolutionOf(sql, eventId);
    if (earlier) return ok({ ...earlier, already: true });
    const at = new Date(atMs).toISOString();
    recordAudit(sql, at, {
      kind: "conflict_resolved",
      device_id: actor.device_id,
      user_id: actor.user_id,
      role: actor.role,
      event_id: eventId,
      entity_id: record.entity_id || null,
      code: record.code,
      message: `${request.action}${SEPARATOR}${request.note}`,
    });
    return ok({
      event_id: record.event_id,
      action: request.action,
      note: request.note,
      resolved_by: actor.user_id,
      resolved_device: actor.device_id,
      resolved_at: at,
      already: false,
    });
  });
}

/** The first resolution of `eventId`, read back from the audit, or null. */
function resolutionOf(sql: SqlStore, eventId: string): Omit<ConflictResolution, "already"> | null {
  const row = sql.one<{ at: string; device_id: string; user_id: string; message: string }>(
    // The same WHERE as the audit_by_event index (migrations.ts), so SQLite uses it.
    `SELECT at, device_id, user_id, message FROM audit WHERE event_id = ? AND kind IN ('delete', 'void', 'conflict_resolved') AND kind = 'conflict_resolved' ORDER BY id LIMIT 1`,
    eventId,
  );
  if (!row) return null;
  const cut = row.message.indexOf(SEPARATOR);
  return {
    event_id: storedEventId(eventId),
    action: ConflictResolutionAction.parse(row.message.slice(0, cut)),
    note: row.message.slice(cut + SEPARATOR.length),
    resolved_by: storedUserId(row.user_id),
    resolved_device: storedDeviceId(row.device_id),
    resolved_at: row.at,
  };
}
