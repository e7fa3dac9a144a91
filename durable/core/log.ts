/**
 * The branch's change log: every commit is a row of `changes` with the branch's next sequence number
 * (I4). Its head is where pushes append and what pulls page up to. This module owns the `changes`
 * table: its head, its appends, and how a row becomes a wire `Change`.
 */
import { type Change } from "../../protocol/index.js";
import { EntityType, Operation } from "../../domain/index.js";
import { readEntityVersion } from "./entity-store.js";
import { storedDeviceId, storedEntityId, storedEventId, storedUserId } from "./ids.js";
import type { SqlStore } from "./sql.js";

/** A row of `changes`, as stored: ids are plain text until decoded (changeFromRow). */
export interface ChangeRow {
  seq: number;
  event_id: string;
  device_id: string;
  user_id: string;
  entity_type: string;
  entity_id: string;
  operation: string;
  /** JSON array of field names. */
  changed_fields: string;
  version: number;
  committed_at: string;
}

/** The seq of the newest commit (0 for an empty branch). */
export function headSeq(sql: SqlStore): number {
  return sql.one<{ head: number | null }>("SELECT MAX(seq) AS head FROM changes")?.head ?? 0;
}

/** Appends one commit to the log. `change.seq` must be headSeq + 1; call inside the push's transaction. */
export function appendChange(sql: SqlStore, change: Change): void {
  sql.run(
    `INSERT INTO changes (seq, event_id, device_id, user_id, entity_type, entity_id, operation, changed_fields, version, committed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    change.seq,
    change.event_id,
    change.device_id,
    change.user_id,
    change.entity_type,
    change.entity_id,
    change.operation,
    JSON.stringify(change.changed_fields),
    change.entity.version,
    change.committed_at,
  );
}

/** Up to `limit` rows of the log after `afterSeq`, in order. */
export function changeRowsAfter(sql: SqlStore, afterSeq: number, limit: number): ChangeRow[] {
  return sql.all<ChangeRow>("SELECT * FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", afterSeq, limit);
}

/** A stored commit as the wire carries it, with its entity at that version; ids decoded, not cast. */
export function changeFromRow(sql: SqlStore, row: ChangeRow): Change {
  const entity = readEntityVersion(sql, row.entity_id, row.version);
  return {
    seq: row.seq,
    event_id: storedEventId(row.event_id),
    device_id: storedDeviceId(row.device_id),
    user_id: storedUserId(row.user_id),
    entity_type: EntityType.parse(row.entity_type),
    entity_id: storedEntityId(row.entity_id),
    operation: Operation.parse(row.operation),
    changed_fields: JSON.parse(row.changed_fields) as string[],
    // Every change row points at a version written in the same transaction (commit.ts).
    entity: entity!,
    committed_at: row.committed_at,
  };
}
