/** The branch's append-only audit log (I10). */
import type { SqlStore } from "./sql.js";

export const AuditKind = [
  "rejection",
  "permission_denied",
  "void",
  "correction",
  "delete",
  "device_first_seen",
  /** Historical: written before refused tokens stopped reaching the branch (the Worker logs them now). */
  "token_failure",
  "protocol_error",
  "snapshot_export",
  "device_revoked",
  "install_conflict",
  "clock_skew",
  /** One-time sign-in codes (enrollments.ts): issued, used, refused. */
  "enrollment_issued",
  "enrollment_used",
  "enrollment_refused",
  /** A manager resolved a conflict a device kept open for one (conflict-resolution.ts). */
  "conflict_resolved",
  /** A manager changed the branch's settings (the studio's name, address, …). */
  "settings_changed",
  /** A manager broke another device's lease on a high-risk field group (leases.ts, protocol v7). */
  "lease_broken",
  /** A compaction pass of the log started or finished (compaction.ts, issue 18). */
  "compaction",
  /** A manager closed a business day; a late POS commit amended a closed day's report; a drawer was counted (days.ts, issue 19). */
  "day_closed",
  "day_amended",
  "drawer_counted",
] as const;
export type AuditKind = (typeof AuditKind)[number];

export interface AuditEntry {
  kind: AuditKind;
  message: string;
  device_id?: string | null;
  user_id?: string | null;
  role?: string | null;
  event_id?: string | null;
  entity_type?: string | null;
  entity_id?: string | null;
  code?: string | null;
}

export interface AuditRow extends Required<AuditEntry> {
  id: number;
  at: string;
}

export function recordAudit(sql: SqlStore, atIso: string, e: AuditEntry): void {
  sql.run(
    `INSERT INTO audit (at, kind, device_id, user_id, role, event_id, entity_type, entity_id, code, message)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    atIso,
    e.kind,
    e.device_id ?? null,
    e.user_id ?? null,
    e.role ?? null,
    e.event_id ?? null,
    e.entity_type ?? null,
    e.entity_id ?? null,
    e.code ?? null,
    e.message.slice(0, 2_000),
  );
}

/** A page of the audit log after entry `afterId`, oldest first. */
export function readAudit(sql: SqlStore, afterId: number, limit: number): { entries: AuditRow[]; more: boolean } {
  const rows = sql.all<AuditRow>(
    `SELECT id, at, kind, device_id, user_id, role, event_id, entity_type, entity_id, code, message
     FROM audit WHERE id > ? ORDER BY id LIMIT ?`,
    afterId,
    limit + 1,
  );
  return { entries: rows.slice(0, limit), more: rows.length > limit };
}
