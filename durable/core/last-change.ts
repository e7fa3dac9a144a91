/**
 * Who made an entity's version, when and why (protocol v5's `last_change` on a rejected verdict).
 *
 * Read only from what the branch already stores: the `changes` row of that version (user, device,
 * seq, time, operation) and, for a delete or void, the reason its audit entry recorded. Nothing of it
 * comes from the device that was refused. A version is immutable and so is its log row and audit
 * entry, so a replayed verdict carries exactly the `last_change` it was first given (I3).
 *
 * Compaction (compaction.ts) never removes the change row of a version this is asked about: every
 * entity's current version keeps its row (the last change of each entity at or below the retention
 * point stays), and so does every version a stored rejection names. So neither a new rejection's
 * `last_change` nor a replayed one's degrades; the null below stays for "no such version".
 */
import { Operation } from "../../domain/index.js";
import type { LastChange } from "../../protocol/index.js";
import { storedDeviceId, storedUserId } from "./ids.js";
import type { SqlStore } from "./sql.js";

/**
 * How commit.ts words the audit entry of each operation that carries a reason: the reason follows the
 * prefix. One table for writing and reading them back, so the two cannot drift apart.
 */
export const REASON_AUDIT_PREFIX = {
  project_delete: "project deleted: ",
  invoice_void: "invoice voided: ",
  pos_void: "POS order voided: ",
} as const;

/** The commit that made `version` of `entityId`, or null when there is no such version. */
export function lastChangeOf(sql: SqlStore, entityId: string, version: number): LastChange | null {
  const row = sql.one<{ seq: number; event_id: string; user_id: string; device_id: string; operation: string; committed_at: string }>(
    "SELECT seq, event_id, user_id, device_id, operation, committed_at FROM changes WHERE entity_id = ? AND version = ?",
    entityId,
    version,
  );
  if (!row) return null;
  const operation = Operation.parse(row.operation);
  return {
    seq: row.seq,
    user_id: storedUserId(row.user_id),
    device_id: storedDeviceId(row.device_id),
    committed_at: row.committed_at,
    operation,
    reason: operation === "delete" || operation === "void" ? reasonOf(sql, row.event_id) : null,
  };
}

/** The reason the delete or void event `eventId` gave, from its audit entry. */
function reasonOf(sql: SqlStore, eventId: string): string | null {
  const entry = sql.one<{ message: string }>(
    `SELECT message FROM audit WHERE event_id = ? AND kind IN ('delete', 'void', 'conflict_resolved') AND kind <> 'conflict_resolved' ORDER BY id LIMIT 1`,
    eventId,
  );
  if (!entry) return null;
  const prefix = Object.values(REASON_AUDIT_PREFIX).find((p) => entry.message.startsWith(p));
  const reason = prefix === undefined ? null : entry.message.slice(prefix.length).slice(0, 500);
  return reason === null || reason.length === 0 ? null : reason;
}
