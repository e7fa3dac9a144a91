/**
 * Branch snapshots (DESIGN §5): every entity of a branch and its POS facts, consistent at one
 * branch sequence number, as gzip-compressed NDJSON in R2, described by a small JSON manifest.
 *
 * Since format 3 snapshots form CHAINS (issue 18, delta compression for very large branches):
 *
 *   - a BASE holds the whole branch at its seq (every entity, tombstones included, every POS fact
 *     and void), exactly as format 2 did; its manifest has no chain fields;
 *   - an INCREMENT holds only what changed after the snapshot it follows (`base_seq`) up to its own
 *     `seq`: each entity committed in (base_seq, seq], at its newest version ≤ seq (tombstones
 *     included), and the POS facts and voids committed in that range. Its manifest names the
 *     snapshot it follows (`base_seq`, and that snapshot's data SHA-256 as `base_sha256`: chained
 *     checksums) and the chain it belongs to (`chain_seq`, the seq of the chain's base).
 *
 * A chain is a base followed by its increments in seq order, each following the one before it. The
 * branch at the chain's last seq = the base, then each increment applied in order: an entity of a
 * later link replaces the earlier one (same id); POS facts and voids are appended (append-only, I6).
 *
 * `format_version` of a snapshot is the OLDEST format whose readers can read it: a base is written as
 * format 2 (its manifest and lines are byte for byte what format 2 was), so a format-2 device keeps
 * bootstrapping from bases; an increment is format 3. The latest-manifest route only ever names a
 * base; the chain is listed by `…/snapshots/latest?chain=1` (docs/protocol/http.md, "Snapshots").
 *
 * Bump SNAPSHOT_FORMAT_VERSION when: a line kind, a field of a line or the manifest, or the
 * compression changes. Do not bump when: only the export's batching or part size changes, or the
 * rule of when a new base starts (durable/core/snapshot-schedule.ts). A device refuses a snapshot of
 * a newer format with a clear message instead of guessing.
 *
 * Lines, one JSON object each, in this order:
 *   {"kind":"header", "format_version", "branch_id", "seq"}   (+ "base_seq" in an increment)
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
 * The newest format this code reads and writes. History:
 * 2: an invoice entity may carry `official_invoice_no` (protocol v5). A build that reads format 1
 *    only refuses these snapshots ("update the app"): unlike a socket, one stored snapshot cannot be
 *    shaped for each reader.
 * 3: incremental snapshots (issue 18): a manifest and a header may name the snapshot they follow
 *    (`base_seq`, `base_sha256`, `chain_seq`). Only increments are written as format 3; bases are
 *    still written as format 2 (BASE_SNAPSHOT_FORMAT_VERSION) so format-2 devices keep reading them.
 */
export const SNAPSHOT_FORMAT_VERSION = 3;
/** The format a base is written in: the oldest that reads it (a base has no format-3 field). */
export const BASE_SNAPSHOT_FORMAT_VERSION = 2;

const seq = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
const count = z.int().min(0);

export const SnapshotManifest = z
  .strictObject({
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
    /** Increments only (format 3): the seq of the snapshot this one follows; it holds what changed after it. */
    base_seq: seq.optional(),
    /** Increments only: the `sha256` of the snapshot it follows (the chained checksum). */
    base_sha256: Sha256Hex.optional(),
    /** Increments only: the seq of the base that starts its chain. */
    chain_seq: seq.optional(),
  })
  .refine(
    (m) =>
      m.base_seq === undefined
        ? m.base_sha256 === undefined && m.chain_seq === undefined
        : m.base_sha256 !== undefined && m.chain_seq !== undefined && m.format_version >= 3 && m.chain_seq <= m.base_seq && m.base_seq < m.seq,
    { message: "an increment names base_seq < seq, base_sha256 and chain_seq <= base_seq (format 3); a base names none of them" },
  );
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
  z.strictObject({ kind: z.literal("header"), format_version: z.int().min(1), branch_id: BranchId, seq, base_seq: seq.optional() }),
  z.strictObject({ kind: z.literal("entity"), entity: Entity }),
  z.strictObject({ kind: z.literal("pos_order"), pos: PosFact }),
  z.strictObject({ kind: z.literal("pos_void"), entity_id: EntityId, seq: z.int().min(1) }),
  z.strictObject({ kind: z.literal("end"), entities: count, pos_orders: count, pos_voids: count }),
]);
export type SnapshotLine = z.infer<typeof SnapshotLine>;

/** Is this manifest an increment (it follows another snapshot) rather than a base? */
export const isIncrement = (m: SnapshotManifest): m is SnapshotManifest & { base_seq: number; base_sha256: string; chain_seq: number } =>
  m.base_seq !== undefined;

/**
 * The answer of `GET …/snapshots/latest?chain=1`: the newest chain, its base first, then its
 * increments in seq order, each following the one before it.
 */
export const SnapshotChain = z.strictObject({ chain: z.array(SnapshotManifest).min(1) });
export type SnapshotChain = z.infer<typeof SnapshotChain>;

export const snapshotPrefix = (branchId: string) => `branches/${branchId}/snapshots/`;
const SNAPSHOT_KEY_SUFFIX = { manifest: "manifest.json", increment: "increment.json", data: "ndjson.gz" } as const;
/**
 * Keys sort by seq (zero-padded), so the newest snapshot is the last key of a listing. A base's
 * manifest ends `.manifest.json` (as in format 2, so a listing of bases needs no reads), an
 * increment's `.increment.json`; the data of both ends `.ndjson.gz` (one data route for both).
 */
export const snapshotKey = (branchId: string, seqNo: number, kind: keyof typeof SNAPSHOT_KEY_SUFFIX) =>
  `${snapshotPrefix(branchId)}${String(seqNo).padStart(16, "0")}.${SNAPSHOT_KEY_SUFFIX[kind]}`;
/** The seq and kind of a snapshot object key, or null for a key that is not one. */
export function parseSnapshotKey(key: string): { seq: number; kind: keyof typeof SNAPSHOT_KEY_SUFFIX } | null {
  const match = /\/(\d{16})\.(manifest\.json|increment\.json|ndjson\.gz)$/.exec(key);
  if (!match) return null;
  const kind = (Object.keys(SNAPSHOT_KEY_SUFFIX) as Array<keyof typeof SNAPSHOT_KEY_SUFFIX>).find((k) => SNAPSHOT_KEY_SUFFIX[k] === match[2])!;
  return { seq: Number(match[1]), kind };
}

