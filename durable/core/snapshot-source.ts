/**
 * The content of a snapshot as NDJSON lines, consistent at one branch seq, read a few rows at a time
 * so that exporting a branch never holds more than one entity in memory (I9). Runtime-free: the
 * Durable Object compresses and uploads these lines (durable/snapshots/export.ts).
 *
 * Consistency: commits may land while an export runs (it awaits uploads between pages), so nothing
 * is read "as of now": each entity is read at the newest version it had at `seq` (versions are
 * immutable), and POS facts up to `seq`.
 */
import { keysetRows } from "../../sqlite/keyset.js";
import { type BranchId } from "../../domain/index.js";
import { type PosFact, SNAPSHOT_FORMAT_VERSION, type SnapshotLine } from "../../protocol/index.js";
import { readEntityVersion } from "./entity-store.js";
import { storedDeviceId, storedEntityId } from "./ids.js";
import type { SqlStore } from "./sql.js";

const PAGE_ROWS = 256;

export interface SnapshotCounts {
  project: number;
  invoice: number;
  pos_order: number;
  tombstones: number;
  pos_facts: number;
  pos_voids: number;
}

/** A `pos_orders` row as stored: its ids are decoded into a PosFact (posFact). */
type PosRow = Omit<PosFact, "entity_id" | "corrects_order_id" | "device_id"> & { entity_id: string; corrects_order_id: string | null; device_id: string };

const posFact = (row: PosRow): PosFact => ({
  ...row,
  entity_id: storedEntityId(row.entity_id),
  corrects_order_id: row.corrects_order_id === null ? null : storedEntityId(row.corrects_order_id),
  device_id: storedDeviceId(row.device_id),
});

export function* snapshotLines(sql: SqlStore, branchId: BranchId, seq: number, counts: SnapshotCounts): Generator<string> {
  const line = (l: SnapshotLine) => `${JSON.stringify(l)}\n`;
  yield line({ kind: "header", format_version: SNAPSHOT_FORMAT_VERSION, branch_id: branchId, seq });

  const byEntityId = (row: { entity_id: string }) => row.entity_id;
  let entities = 0;
  const latest = keysetRows(
    (after) =>
      sql.all<{ entity_id: string; version: number }>(
        `SELECT entity_id, MAX(version) AS version FROM changes WHERE entity_id > ? AND seq <= ?
         GROUP BY entity_id ORDER BY entity_id LIMIT ?`,
        after,
        seq,
        PAGE_ROWS,
      ),
    byEntityId,
  );
  for (const row of latest) {
    const entity = readEntityVersion(sql, row.entity_id, row.version)!;
    if (entity.deleted) counts.tombstones++;
    else counts[entity.entity_type]++;
    entities++;
    yield line({ kind: "entity", entity });
  }

  const orders = keysetRows(
    (after) =>
      sql.all<PosRow>(
        `SELECT entity_id, official_receipt_no, kind, corrects_order_id, local_receipt_no, device_id, currency, total_minor,
           business_day, seq FROM pos_orders WHERE entity_id > ? AND seq <= ? ORDER BY entity_id LIMIT ?`,
        after,
        seq,
        PAGE_ROWS,
      ),
    byEntityId,
  );
  for (const pos of orders) {
    counts.pos_facts++;
    yield line({ kind: "pos_order", pos: posFact(pos) });
  }

  const voids = keysetRows(
    (after) => sql.all<{ entity_id: string; seq: number }>("SELECT entity_id, seq FROM pos_voids WHERE entity_id > ? AND seq <= ? ORDER BY entity_id LIMIT ?", after, seq, PAGE_ROWS),
    byEntityId,
  );
  for (const v of voids) {
    counts.pos_voids++;
    yield line({ kind: "pos_void", entity_id: storedEntityId(v.entity_id), seq: v.seq });
  }

  yield line({ kind: "end", entities, pos_orders: counts.pos_facts, pos_voids: counts.pos_voids });
}
