/**
 * Snapshot export: Durable Object → R2, streamed with bounded memory (I9).
 *
 * Lines from the core (one entity at a time) → gzip (CompressionStream) → parts of exactly
 * PART_BYTES uploaded as an R2 multipart upload (R2 requires every part but the last to have the
 * same size, at least 5 MiB), with the SHA-256 of the compressed bytes computed on the way
 * (crypto.DigestStream, a Workers API). Memory: one part buffer, one entity, the gzip window.
 */
import { type SnapshotManifest, snapshotKey, snapshotPrefix, SNAPSHOT_FORMAT_VERSION } from "../../protocol/index.js";
import { hex } from "../../lib/bytes.js";
import type { BranchCore } from "../core/branch.js";
import type { SnapshotCounts } from "../core/snapshot-source.js";

/** R2 multipart: parts are 5 MiB to 5 GiB and all but the last must be the same size. */
export const PART_BYTES = 5 * 1024 * 1024;
/** Lines are handed to gzip in pieces of about this many characters (one entity may make a piece larger). */
const WRITE_CHARS = 64 * 1024;
/** Snapshots kept per branch; older ones are deleted after a successful export. */
export const SNAPSHOTS_KEPT = 3;

export async function exportSnapshot(core: BranchCore, bucket: R2Bucket): Promise<SnapshotManifest> {
  const seq = core.head();
  const branch = core.branchId;
  const key = snapshotKey(branch, seq, "data");
  const counts: SnapshotCounts = { project: 0, invoice: 0, pos_order: 0, tombstones: 0, pos_facts: 0, pos_voids: 0 };
  const upload = await bucket.createMultipartUpload(key, { httpMetadata: { contentType: "application/gzip" } });
  const parts: R2UploadedPart[] = [];
  const digest = new crypto.DigestStream("SHA-256");
  const digestWriter = digest.getWriter();
  let part = new Uint8Array(PART_BYTES);
  let filled = 0;
  let byteSize = 0;
  let uncompressed = 0;

  const flushPart = async (bytes: Uint8Array) => {
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
        let at = 0;
        while (at < value.byteLength) {
          const take = Math.min(PART_BYTES - filled, value.byteLength - at);
          part.set(value.subarray(at, at + take), filled);
          filled += take;
          at += take;
          if (filled === PART_BYTES) {
            await flushPart(part);
            part = new Uint8Array(PART_BYTES);
            filled = 0;
          }
        }
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
    for (const line of core.snapshotLines(seq, counts)) {
      pending.push(line);
      pendingChars += line.length;
      if (pendingChars >= WRITE_CHARS) await write();
    }
    if (pendingChars > 0) await write();
    await writer.close();
    await consumed;
    if (filled > 0 || parts.length === 0) await flushPart(part.subarray(0, filled));
    await upload.complete(parts);
  } catch (error) {
    await upload.abort().catch(() => undefined);
    throw error;
  }
  await digestWriter.close();
  const sha256 = hex(await digest.digest);

  const manifest: SnapshotManifest = {
    format_version: SNAPSHOT_FORMAT_VERSION,
    branch_id: branch,
    seq,
    created_at: new Date(core.nowMs()).toISOString(),
    key,
    counts,
    byte_size: byteSize,
    sha256,
    uncompressed_bytes: uncompressed,
  };
  await bucket.put(snapshotKey(branch, seq, "manifest"), JSON.stringify(manifest), { httpMetadata: { contentType: "application/json" } });
  await pruneSnapshots(bucket, branch);
  return manifest;
}

/** Keeps the newest SNAPSHOTS_KEPT manifests (and their data); keys sort by seq. */
async function pruneSnapshots(bucket: R2Bucket, branch: string): Promise<void> {
  const manifests: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: snapshotPrefix(branch), cursor });
    manifests.push(...page.objects.map((o) => o.key).filter((k) => k.endsWith(".manifest.json")));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  manifests.sort();
  const old = manifests.slice(0, Math.max(0, manifests.length - SNAPSHOTS_KEPT));
  if (old.length > 0) await bucket.delete(old.flatMap((k) => [k, k.replace(".manifest.json", ".ndjson.gz")]));
}

/** The newest manifest of a branch, or null. */
export async function latestManifest(bucket: R2Bucket, branch: string): Promise<SnapshotManifest | null> {
  let last: string | null = null;
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: snapshotPrefix(branch), cursor });
    for (const o of page.objects) if (o.key.endsWith(".manifest.json") && (last === null || o.key > last)) last = o.key;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  if (last === null) return null;
  const object = await bucket.get(last);
  return object ? ((await object.json()) as SnapshotManifest) : null;
}
