/**
 * The branch's change log: every commit is a row of `changes` with the branch's next sequence number
 * (I4). Its head is where pushes append and what pulls page up to. This module owns the `changes`
 * table: its head, its appends, and how a row becomes a wire `Change`.
 */
import { type Change } from "../../protocol/index.js";
import { EntityType, Operation } from "../../domain/index.js";
import { assert } from "../../lib/result.js";
import { ENTITY_PART_CHARS, readEntityVersionText } from "./entity-store.js";
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
  /** Since layout 10: the entity as a delta against the version before (an EntityDelta's JSON), when smaller; else null. */
  delta: string | null;
}

/** The seq of the newest commit (0 for an empty branch). */
export function headSeq(sql: SqlStore): number {
  return sql.one<{ head: number | null }>("SELECT MAX(seq) AS head FROM changes")?.head ?? 0;
}

/** A row of `changes` as appendChanges writes it: the commit's fields, `changed_fields` as JSON text. */
export type LogRow = [seq: number, event_id: string, device_id: string, user_id: string, entity_type: string, entity_id: string, operation: string, changed_fields: string, version: number, committed_at: string, delta: string | null];

export const logRow = (change: Change, changedFields: string, delta: string | null): LogRow => [
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
  delta,
];

/**
 * Appends commits to the log, in seq order, in one statement; the first must be headSeq + 1. Call
 * inside the push's transaction.
 */
export function appendChanges(sql: SqlStore, rows: readonly LogRow[]): void {
  if (rows.length === 0) return;
  sql.run(
    `INSERT INTO changes (seq, event_id, device_id, user_id, entity_type, entity_id, operation, changed_fields, version, committed_at, delta)
       SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10
         FROM json_each(?) ORDER BY key`,
    JSON.stringify(rows),
  );
}

/** A row of the log with its entity's text when that is short (`body`), else null: read it on its own. */
export type ChangeRowWithBody = ChangeRow & { body: string | null };

/**
 * Entity texts up to this long come with their log rows (one statement for the rows); a longer one is
 * read on its own, so that a read of rows never holds more than this many characters per row.
 */
const BODY_WITH_ROW_CHARS = 16 * 1024;

/**
 * Who is sent a change as its delta (protocol v9): a device that asked for deltas, for every change
 * but its own. Its own commits come back whole: its verdicts may already have moved it past the
 * version a delta is made against (two edits of one entity in one batch), and a delta it could not
 * apply would cost it a second pull. null: nobody (whole changes for everyone).
 */
export type DeltasFor = { device_id: string } | null;

/** Whether `row` goes to `reader` as its delta. */
export const sendsDelta = (reader: DeltasFor, row: { delta: string | null; device_id: string }): boolean => reader !== null && row.delta !== null && row.device_id !== reader.device_id;

/**
 * Up to `limit` rows of the log after `afterSeq`, in order, with their entities' texts where short.
 * A row `reader` takes as its delta (sendsDelta) comes without its entity's text, which is then not read.
 */
export function changeRowsAfter(sql: SqlStore, afterSeq: number, limit: number, reader: DeltasFor = null): ChangeRowWithBody[] {
  assert(BODY_WITH_ROW_CHARS < ENTITY_PART_CHARS - 1, "a text of more than one part is never read as part 0 alone");
  // Part 0 alone is the whole text when it is this short: a text split into parts fills part 0 (entity-store.ts).
  return sql.all<ChangeRowWithBody>(
    `SELECT c.*, CASE WHEN ? AND c.delta IS NOT NULL AND c.device_id <> ? THEN NULL WHEN length(v.body) <= ? THEN v.body END AS body
       FROM changes c LEFT JOIN entity_versions v ON v.entity_id = c.entity_id AND v.version = c.version AND v.part = 0
      WHERE c.seq > ? ORDER BY c.seq LIMIT ?`,
    reader === null ? 0 : 1,
    reader?.device_id ?? "",
    BODY_WITH_ROW_CHARS,
    afterSeq,
    limit,
  );
}

/**
 * A commit ready to send: the wire Change, and the same change as JSON text with its entity as it is
 * stored (changeJson). Frames are built from the text; the object serves older protocol versions
 * (protocol/downgrade.ts) and the HTTP API.
 */
export interface LoggedChange {
  change: Change;
  json: string;
  /** Since v9: the same change with `delta` in place of `entity` (deltaChangeJson), when the commit has a delta. */
  deltaJson: string | null;
}

/**
 * A change as JSON text, its entity spliced in as stored: byte for byte JSON.stringify of the Change
 * with that entity, since the stored text is JSON.stringify of the entity (decide.ts, commit.ts) and
 * the keys come in the Change's order. `changedFields` is the JSON array as appendChanges stores it.
 * Spares every frame of changes a serialization of every entity in it (the log holds them as text).
 */
export function changeJson(c: Omit<Change, "entity" | "changed_fields">, changedFields: string, entityText: string): string {
  return `{"seq":${c.seq},"event_id":${JSON.stringify(c.event_id)},"device_id":${JSON.stringify(c.device_id)},"user_id":${JSON.stringify(c.user_id)},"entity_type":${JSON.stringify(c.entity_type)},"entity_id":${JSON.stringify(c.entity_id)},"operation":${JSON.stringify(c.operation)},"changed_fields":${changedFields},"entity":${entityText},"committed_at":${JSON.stringify(c.committed_at)}}`;
}

/**
 * A change as JSON text with its entity as a delta (protocol v9 DeltaChange): `deltaText` is the
 * EntityDelta's JSON as the log stores it. Byte for byte JSON.stringify of the DeltaChange.
 */
export function deltaChangeJson(c: Omit<Change, "entity" | "changed_fields">, changedFields: string, deltaText: string): string {
  return `{"seq":${c.seq},"event_id":${JSON.stringify(c.event_id)},"device_id":${JSON.stringify(c.device_id)},"user_id":${JSON.stringify(c.user_id)},"entity_type":${JSON.stringify(c.entity_type)},"entity_id":${JSON.stringify(c.entity_id)},"operation":${JSON.stringify(c.operation)},"changed_fields":${changedFields},"committed_at":${JSON.stringify(c.committed_at)},"delta":${deltaText}}`;
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

/**
 * A stored commit as JSON text (changeJson), its entity never parsed: what a pull page sends; as
 * its delta when `reader` takes it so (sendsDelta).
 */
export function changeJsonFromRow(sql: SqlStore, row: ChangeRowWithBody, reader: DeltasFor = null): string {
  if (sendsDelta(reader, row)) return deltaChangeJson(changeFields(row), row.changed_fields, row.delta!);
  // Every change row points at a version written in the same transaction (commit.ts).
  return changeJson(changeFields(row), row.changed_fields, row.body ?? readEntityVersionText(sql, row.entity_id, row.version)!);
}
