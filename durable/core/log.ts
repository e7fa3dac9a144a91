/**
 * The branch's change log: every commit is a row of `changes` with the branch's next sequence number
 * (I4). Its head is where pushes append and what pulls page up to. This module owns the `changes`
 * table: its head, its appends, and how a row becomes a wire `Change`.
 */
import { type Change } from "../../protocol/index.js";
import { EntityType, Operation } from "../../domain/index.js";
import { readEntityVersionText } from "./entity-store.js";
import { storedDeviceId, storedEntityId, storedEventId, storedUserId } from "./ids.js";
import type { SqlStore } from "./sql.js";

/** A row of `changes`, as stored: ids are plain text until decoded (changeFields). */
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

/**
 * Appends one commit to the log. `change.seq` must be headSeq + 1; call inside the push's transaction.
 * Returns the change as JSON text (changeJson), its entity as `entityText` (the entity as stored).
 */
export function appendChange(sql: SqlStore, change: Change, entityText: string): string {
  const changedFields = JSON.stringify(change.changed_fields);
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
    changedFields,
    change.entity.version,
    change.committed_at,
  );
  return changeJson(change, changedFields, entityText);
}

/** Up to `limit` rows of the log after `afterSeq`, in order. */
export function changeRowsAfter(sql: SqlStore, afterSeq: number, limit: number): ChangeRow[] {
  return sql.all<ChangeRow>("SELECT * FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", afterSeq, limit);
}

/**
 * A commit ready to send: the wire Change, and the same change as JSON text with its entity as it is
 * stored (changeJson). Frames are built from the text; the object serves older protocol versions
 * (protocol/downgrade.ts) and the HTTP API.
 */
export interface LoggedChange {
  change: Change;
  json: string;
}

/**
 * A change as JSON text, its entity spliced in as stored: byte for byte JSON.stringify of the Change
 * with that entity, since the stored text is JSON.stringify of the entity (decide.ts, commit.ts) and
 * the keys come in the Change's order. `changedFields` is the JSON array as appendChange stores it.
 * Spares every frame of changes a serialization of every entity in it (the log holds them as text).
 */
export function changeJson(c: Omit<Change, "entity" | "changed_fields">, changedFields: string, entityText: string): string {
  return `{"seq":${c.seq},"event_id":${JSON.stringify(c.event_id)},"device_id":${JSON.stringify(c.device_id)},"user_id":${JSON.stringify(c.user_id)},"entity_type":${JSON.stringify(c.entity_type)},"entity_id":${JSON.stringify(c.entity_id)},"operation":${JSON.stringify(c.operation)},"changed_fields":${changedFields},"entity":${entityText},"committed_at":${JSON.stringify(c.committed_at)}}`;
}

/** A stored commit's fields but its entity, as the wire carries them; ids decoded, not cast. */
function changeFields(row: ChangeRow): Omit<Change, "entity" | "changed_fields"> {
  return {
    seq: row.seq,
    event_id: storedEventId(row.event_id),
    device_id: storedDeviceId(row.device_id),
    user_id: storedUserId(row.user_id),
    entity_type: EntityType.parse(row.entity_type),
    entity_id: storedEntityId(row.entity_id),
    operation: Operation.parse(row.operation),
    committed_at: row.committed_at,
  };
}

/** A stored commit as JSON text (changeJson), its entity never parsed: what a pull page sends. */
export function changeJsonFromRow(sql: SqlStore, row: ChangeRow): string {
  // Every change row points at a version written in the same transaction (commit.ts).
  return changeJson(changeFields(row), row.changed_fields, readEntityVersionText(sql, row.entity_id, row.version)!);
}
