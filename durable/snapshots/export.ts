/**
 * Snapshot export: Durable Object → R2, streamed with bounded memory (I9).
 *
 * Lines from the core (one entity at a time) → gzip (CompressionStream) → parts of exactly
 * PART_BYTES uploaded as an R2 multipart upload (R2 requires every part but the last to have the
 * same size, at least 5 MiB), with the SHA-256 of the compressed bytes computed on the way
 * (crypto.DigestStream, a Workers API). Memory: at most a part of compressed output waiting and the
 * part being uploaded, one entity, the gzip window.
 *
 * Chains (format 3, protocol/snapshot.ts): an export is a full base or an increment after the newest
 * snapshot of the current chain, as nextSnapshotIsBase (durable/core/snapshot-schedule.ts) decides.
 * R2 is the record of the chain: the export reads the current chain's manifests (a few small
 * objects) before it writes, so nothing about chains is kept in the branch's own storage.
 */
import {
  BASE_SNAPSHOT_FORMAT_VERSION,
  isIncrement,
  parseSnapshotKey,
  SnapshotManifest,
  snapshotKey,
  snapshotPrefix,
  SNAPSHOT_FORMAT_VERSION,
} from "../../protocol/index.js";
import { hex } from "../../lib/bytes.js";
import type { BranchCore } from "../core/branch.js";
import { nextSnapshotIsBase } from "../core/snapshot-schedule.js";
import type { SnapshotCounts } from "../core/snapshot-source.js";
import { PartQueue } from "./parts.js";

/** R2 multipart: parts are 5 MiB to 5 GiB and all but the last must be the same size. */
export const PART_BYTES = 5 * 1024 * 1024;
/** Lines are handed to gzip in pieces of about this many characters (one entity may make a piece larger). */
const WRITE_CHARS = 64 * 1024;
/**
 * Whole chains kept per branch (retention): the current one and the one before it, so a device that
 * started downloading the previous chain just before a new base was exported can finish. Older
 * chains (base, increments and any data left without a manifest) are deleted after a successful
 * export, whole: retention cuts the seq-ordered listing just before a kept base, never inside a chain.
 */
export const CHAINS_KEPT = 2;

/**
 * Exports the branch at its head: a base, or an increment after the current chain's newest snapshot.
 * When the newest snapshot is already at the head (nothing committed since), that one is returned and
 * nothing is written (a second object at the same seq would replace the data a manifest describes).
 */
export async function exportSnapshot(core: BranchCore, bucket: R2Bucket): Promise<SnapshotManifest> {
  const seq = core.head();
  const branch = core.branchId;
  const chain = await latestChain(bucket, branch);
  const previous = chain?.at(-1) ?? null;
  if (previous !== null && previous.seq >= seq) return previous;
  const asBase =
    previous === null ||
    nextSnapshotIsBase({
      base_bytes: chain![0]!.byte_size,
      base_entities: entityLines(chain![0]!),
      increment_bytes: chain!.slice(1).map((m) => m.byte_size),
      commits_since: seq - previous.seq,
    });
  const key = snapshotKey(branch, seq, "data");
  const counts: SnapshotCounts = { project: 0, invoice: 0, pos_order: 0, tombstones: 0, pos_facts: 0, pos_voids: 0 };
  const upload = await bucket.createMultipartUpload(key, { httpMetadata: { contentType: "application/gzip" } });
  const parts: R2UploadedPart[] = [];
  const digest = new crypto.DigestStream("SHA-256");
  const digestWriter = digest.getWriter();
  // gzip's output waits until a part's worth has come; then exactly PART_BYTES of it go up as one part
  // (R2: every part but the last the same size). The last part is what is left, at its own size: a
  // snapshot smaller than a part (most branches) never has a whole part's buffer allocated and zeroed.
  const waiting = new PartQueue();
  let byteSize = 0;
  let uncompressed = 0;

  const uploadPart = async (bytes: Uint8Array) => {
    parts.push(await upload.uploadPart(parts.length + 1, bytes));
  };

  try {
    const gzip = new CompressionStream("gzip");
    // Consume the compressed side while the producer writes: gzip output → digest and parts.
    const consumed = (async () => {
      const reader = gzip.readable.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        await digestWriter.write(value);
        byteSize += value.byteLength;
        waiting.push(value);
        while (waiting.bytes >= PART_BYTES) await uploadPart(waiting.take(PART_BYTES));
      }
    })();
    const writer = gzip.writable.getWriter();
    const encoder = new TextEncoder();
    // Lines go to gzip WRITE_CHARS at a time, not one by one: a write per entity cost a promise and
    // the stream's own bookkeeping per entity, most of an export's time and memory besides reading.
    let pending: string[] = [];
    let pendingChars = 0;
    const write = async () => {
      const bytes = encoder.encode(pending.join(""));
      pending = [];
      pendingChars = 0;
      uncompressed += bytes.byteLength;
      await writer.ready;
      await writer.write(bytes);
    };
    for (const line of core.snapshotLines(seq, counts, asBase ? null : previous.seq)) {
      pending.push(line);
      pendingChars += line.length;
      if (pendingChars >= WRITE_CHARS) await write();
    }
    if (pendingChars > 0) await write();
    await writer.close();
    await consumed;
    if (waiting.bytes > 0 || parts.length === 0) await uploadPart(waiting.take(waiting.bytes));
    await upload.complete(parts);
  } catch (error) {
    await upload.abort().catch(() => undefined);
    throw error;
  }
  await digestWriter.close();
  const sha256 = hex(await digest.digest);

  const manifest: SnapshotManifest = {
    format_version: asBase ? BASE_SNAPSHOT_FORMAT_VERSION : SNAPSHOT_FORMAT_VERSION,
    branch_id: branch,
    seq,
    created_at: new Date(core.nowMs()).toISOString(),
    key,
    counts,
    byte_size: byteSize,
    sha256,
    uncompressed_bytes: uncompressed,
    ...(asBase ? {} : { base_seq: previous.seq, base_sha256: previous.sha256, chain_seq: chain![0]!.seq }),
  };
  // The manifest is written last: until it exists the data is invisible (and pruned with its chain).
  await bucket.put(snapshotKey(branch, seq, asBase ? "manifest" : "increment"), JSON.stringify(manifest), { httpMetadata: { contentType: "application/json" } });
  await pruneSnapshots(bucket, branch);
  return manifest;
}

const entityLines = (m: SnapshotManifest) => m.counts.project + m.counts.invoice + m.counts.pos_order + m.counts.tombstones;

interface ListedSnapshot {
  key: string;
  seq: number;
  kind: "manifest" | "increment" | "data";
}

/** Every snapshot object of a branch in seq order (a few dozen at most: retention keeps CHAINS_KEPT chains). */
async function listSnapshots(bucket: R2Bucket, branch: string): Promise<ListedSnapshot[]> {
  const listed: ListedSnapshot[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: snapshotPrefix(branch), cursor });
    for (const o of page.objects) {
      const parsed = parseSnapshotKey(o.key);
      if (parsed) listed.push({ key: o.key, ...parsed });
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return listed.sort((a, b) => a.seq - b.seq || a.key.localeCompare(b.key));
}

async function readManifest(bucket: R2Bucket, key: string): Promise<SnapshotManifest | null> {
  const object = await bucket.get(key);
  if (!object) return null;
  const parsed = SnapshotManifest.safeParse(await object.json());
  return parsed.success ? parsed.data : null;
}

/**
 * Retention: keeps the newest CHAINS_KEPT chains whole. Everything before the oldest kept base goes,
 * which is always a run of whole older chains: an increment follows the newest snapshot when it is
 * written, so every increment lies between its own base and the next base.
 */
async function pruneSnapshots(bucket: R2Bucket, branch: string): Promise<void> {
  const listed = await listSnapshots(bucket, branch);
  const bases = listed.filter((s) => s.kind === "manifest").map((s) => s.seq);
  if (bases.length <= CHAINS_KEPT) return;
  const oldestKept = bases[bases.length - CHAINS_KEPT]!;
  const old = listed.filter((s) => s.seq < oldestKept).map((s) => s.key);
  // R2 deletes at most 1,000 keys per call.
  for (let i = 0; i < old.length; i += 1_000) await bucket.delete(old.slice(i, i + 1_000));
}

/**
 * The newest base manifest of a branch, or null: what `GET …/snapshots/latest` answers, so a format-2
 * device (which cannot read an increment) only ever sees bases.
 */
export async function latestManifest(bucket: R2Bucket, branch: string): Promise<SnapshotManifest | null> {
  const bases = (await listSnapshots(bucket, branch)).filter((s) => s.kind === "manifest");
  return bases.length === 0 ? null : readManifest(bucket, bases[bases.length - 1]!.key);
}

/**
 * The newest chain of a branch, its base first, then each increment that follows the one before it
 * (same chain, `base_seq` and `base_sha256` of its predecessor), or null when there is no base. An
 * increment that does not link (one left from a failed export) is passed over, never served.
 */
export async function latestChain(bucket: R2Bucket, branch: string): Promise<SnapshotManifest[] | null> {
  const listed = await listSnapshots(bucket, branch);
  const bases = listed.filter((s) => s.kind === "manifest");
  if (bases.length === 0) return null;
  const base = await readManifest(bucket, bases[bases.length - 1]!.key);
  if (!base) return null;
  const chain = [base];
  for (const s of listed) {
    if (s.kind !== "increment" || s.seq <= base.seq) continue;
    const link = await readManifest(bucket, s.key);
    const tip = chain[chain.length - 1]!;
    if (link && isIncrement(link) && link.chain_seq === base.seq && link.base_seq === tip.seq && link.base_sha256 === tip.sha256) chain.push(link);
  }
  return chain;
}
