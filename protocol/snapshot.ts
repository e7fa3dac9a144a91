/**
 * Branch snapshots (DESIGN §5): every entity of a branch and its POS facts, consistent at one
 * branch sequence number, as gzip-compressed NDJSON in R2, described by a small JSON manifest.
 *
 * Bump SNAPSHOT_FORMAT_VERSION when: a line kind, a field of a line or the manifest, or the
 * compression changes. Do not bump when: only the export's batching or part size changes. A device
 * refuses a snapshot of a newer format with a clear message instead of guessing.
 *
 * Lines, one JSON object each, in this order:
 *   {"kind":"header", "format_version", "branch_id", "seq"}
 *   {"kind":"entity", "entity": Entity}                       (tombstones included)
 *   {"kind":"pos_order", "pos": PosFact}                      (the ledger's facts, as the server holds them)
 *   {"kind":"pos_void", "entity_id", "seq"}
 *   {"kind":"end", "entities", "pos_orders", "pos_voids"}     (a truncated file has no end line)
 */
import { z } from "zod";
import { Entity } from "../domain/entities/index.js";
import { BranchId, DeviceId, EntityId, Sha256Hex } from "../domain/ids.js";
import { Currency, SignedAmountMinor } from "../domain/money.js";
import { IsoDate, IsoDateTime } from "../domain/text.js";

/**
 * 2: an invoice entity may carry `official_invoice_no` (protocol v5). A build that reads format 1
 * only refuses these snapshots ("update the app"): unlike a socket, one stored snapshot cannot be
 * shaped for each reader.
 */
export const SNAPSHOT_FORMAT_VERSION = 2;

const seq = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
const count = z.int().min(0);

export const SnapshotManifest = z.strictObject({
  format_version: z.int().min(1),
  branch_id: BranchId,
  /** Every commit up to and including this seq is in the snapshot, and none after it. */
  seq,
  created_at: IsoDateTime,
  /** Object key of the data, for GET …/snapshots/:seq/data. */
  key: z.string().min(1).max(300),
  counts: z.strictObject({
    project: count,
    invoice: count,
    pos_order: count,
    tombstones: count,
    pos_facts: count,
    pos_voids: count,
  }),
  /** Size of the compressed object and its SHA-256: what a device downloads and verifies. */
  byte_size: count,
  sha256: Sha256Hex,
  uncompressed_bytes: count,
});
export type SnapshotManifest = z.infer<typeof SnapshotManifest>;

export const PosFact = z.strictObject({
  entity_id: EntityId,
  official_receipt_no: z.int().min(1),
  kind: z.enum(["sale", "correction"]),
  corrects_order_id: EntityId.nullable(),
  local_receipt_no: z.string().min(1).max(32),
  device_id: DeviceId,
  currency: Currency,
  total_minor: SignedAmountMinor,
  business_day: IsoDate,
  seq: z.int().min(1),
});
export type PosFact = z.infer<typeof PosFact>;

export const SnapshotLine = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("header"), format_version: z.int().min(1), branch_id: BranchId, seq }),
  z.strictObject({ kind: z.literal("entity"), entity: Entity }),
  z.strictObject({ kind: z.literal("pos_order"), pos: PosFact }),
  z.strictObject({ kind: z.literal("pos_void"), entity_id: EntityId, seq: z.int().min(1) }),
  z.strictObject({ kind: z.literal("end"), entities: count, pos_orders: count, pos_voids: count }),
]);
export type SnapshotLine = z.infer<typeof SnapshotLine>;

export const snapshotPrefix = (branchId: string) => `branches/${branchId}/snapshots/`;
/** Keys sort by seq (zero-padded), so the newest snapshot is the last key of a listing. */
export const snapshotKey = (branchId: string, seqNo: number, kind: "manifest" | "data") =>
  `${snapshotPrefix(branchId)}${String(seqNo).padStart(16, "0")}.${kind === "manifest" ? "manifest.json" : "ndjson.gz"}`;

