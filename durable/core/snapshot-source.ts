/**
 * The content of a snapshot as NDJSON lines, consistent at one branch seq, read a few rows at a time
 * so that exporting a branch never holds more than one entity in memory (I9). Runtime-free: the
 * Durable Object compresses and uploads these lines (durable/snapshots/export.ts).
 *
 * Consistency: commits may land while an export runs (it awaits uploads between pages), so nothing
 * is read "as of now": each entity is read at the newest version it had at `seq` (versions are
 * immutable), and POS facts up to `seq`.
 *
 * An increment (format 3, protocol/snapshot.ts) holds what was committed in (afterSeq, seq]: it is
 * read from the commit log by seq (`changes`' primary key), not from each entity's current version,
 * which is "as of now" (an entity committed in the range and again after `seq` would be missed). So
 * an increment costs what changed, not the branch's size.
 */
import { keysetRows } from "../../sqlite/keyset.js";
import { type BranchId } from "../../domain/index.js";
import { BASE_SNAPSHOT_FORMAT_VERSION, type PosFact, SNAPSHOT_FORMAT_VERSION, type SnapshotLine } from "../../protocol/index.js";
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

const line = (l: SnapshotLine) => `${JSON.stringify(l)}\n`;

/**
 * The lines of a snapshot at `seq`: a base (the whole branch) when `afterSeq` is null, else an
 * increment holding what was committed after `afterSeq` up to `seq`. `counts` is filled as lines go.
 */
export function* snapshotLines(sql: SqlStore, branchId: BranchId, seq: number, counts: SnapshotCounts, afterSeq: number | null = null): Generator<string> {
  if (afterSeq !== null) {
    yield* incrementLines(sql, branchId, afterSeq, seq, counts);
    return;
  }
  yield line({ kind: "header", format_version: BASE_SNAPSHOT_FORMAT_VERSION, branch_id: branchId, seq });
  const byEntityId = (row: { entity_id: string }) => row.entity_id;
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
  const entities = yield* entityLines(sql, latest, counts);

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
  const voids = keysetRows(
    (after) => sql.all<{ entity_id: string; seq: number }>("SELECT entity_id, seq FROM pos_voids WHERE entity_id > ? AND seq <= ? ORDER BY entity_id LIMIT ?", after, seq, PAGE_ROWS),
    byEntityId,
  );
  yield* posLinesAndEnd(orders, voids, counts, entities);
}

/** The entity lines of `rows` (each entity at the version named), counted in `counts`; returns how many. */
function* entityLines(sql: SqlStore, rows: Iterable<{ entity_id: string; version: number }>, counts: SnapshotCounts): Generator<string, number> {
  let entities = 0;
  for (const row of rows) {
    const entity = readEntityVersion(sql, row.entity_id, row.version)!;
    if (entity.deleted) counts.tombstones++;
    else counts[entity.entity_type]++;
    entities++;
    yield line({ kind: "entity", entity });
  }
  return entities;
}

/**
 * A snapshot's POS lines and its end line, base or increment: `orders` and `voids` are read lazily,
 * one page at a time, as the lines are taken (I9).
 */
function* posLinesAndEnd(orders: Iterable<PosRow>, voids: Iterable<{ entity_id: string; seq: number }>, counts: SnapshotCounts, entities: number): Generator<string> {
  for (const pos of orders) {
    counts.pos_facts++;
    yield line({ kind: "pos_order", pos: posFact(pos) });
  }
  for (const v of voids) {
    counts.pos_voids++;
    yield line({ kind: "pos_void", entity_id: storedEntityId(v.entity_id), seq: v.seq });
  }
  yield line({ kind: "end", entities, pos_orders: counts.pos_facts, pos_voids: counts.pos_voids });
}

/**
 * Rows of a statement paged by seq: `page(after)` reads rows whose seq is after `after`, in seq
 * order, at most PAGE_ROWS of them (a numeric keyset; no statement is held open across yields).
 */
function* seqRows<R extends { seq: number }>(page: (after: number) => readonly R[], from: number): Generator<R> {
  for (let after = from; ; ) {
    const rows = page(after);
    if (rows.length === 0) return;
    yield* rows;
    after = rows[rows.length - 1]!.seq;
  }
}

/**
 * An increment: the entities committed in (afterSeq, seq], each once, at its newest version ≤ seq
 * (the commit after which no later commit to it is ≤ seq), then the POS facts and voids committed in
 * that range. All read by seq from the commit log's primary key and the voids' seq index.
 */
function* incrementLines(sql: SqlStore, branchId: BranchId, afterSeq: number, seq: number, counts: SnapshotCounts): Generator<string> {
  yield line({ kind: "header", format_version: SNAPSHOT_FORMAT_VERSION, branch_id: branchId, seq, base_seq: afterSeq });
  const latest = seqRows(
    (after) =>
      sql.all<{ seq: number; entity_id: string; version: number }>(
        `SELECT c.seq, c.entity_id, c.version FROM changes c WHERE c.seq > ? AND c.seq <= ?
           AND NOT EXISTS (SELECT 1 FROM changes l WHERE l.entity_id = c.entity_id AND l.seq > c.seq AND l.seq <= ?)
         ORDER BY c.seq LIMIT ?`,
        after,
        seq,
        seq,
        PAGE_ROWS,
      ),
    afterSeq,
  );
  const entities = yield* entityLines(sql, latest, counts);

  // A POS fact is written by the commit that creates its order, with that commit's seq (commit.ts).
  const orders = seqRows(
    (after) =>
      sql.all<PosRow>(
        `SELECT p.entity_id, p.official_receipt_no, p.kind, p.corrects_order_id, p.local_receipt_no, p.device_id, p.currency,
           p.total_minor, p.business_day, p.seq
           FROM changes c JOIN pos_orders p ON p.entity_id = c.entity_id AND p.seq = c.seq
          WHERE c.seq > ? AND c.seq <= ? AND c.entity_type = 'pos_order' AND c.operation = 'create'
          ORDER BY c.seq LIMIT ?`,
        after,
        seq,
        PAGE_ROWS,
      ),
    afterSeq,
  );
  const voids = seqRows(
    (after) => sql.all<{ entity_id: string; seq: number }>("SELECT entity_id, seq FROM pos_voids WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?", after, seq, PAGE_ROWS),
    afterSeq,
  );
  yield* posLinesAndEnd(orders, voids, counts, entities);
}
