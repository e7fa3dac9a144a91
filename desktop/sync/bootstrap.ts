/**
 * Bootstrap (DESIGN §5): a new desktop starts from the branch's latest snapshot instead of replaying
 * its whole history, then pulls forward from the snapshot's seq.
 *
 *   manifest → download (resumable with HTTP Range, progress in bytes) → verify size and SHA-256 →
 *   stage every line (small transactions, yielding to the event loop, progress in entities) →
 *   swap the staged branch in with ONE transaction → cursor = snapshot seq.
 *
 * A corrupt, truncated, foreign or too-new snapshot is refused with a clear error before anything
 * touches the store, and the half-downloaded file of a corrupt one is deleted so a retry starts
 * clean. Queued local events are never touched: a re-bootstrap keeps and re-sends them.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, rmSync, statSync } from "node:fs";
import { createInterface } from "node:readline";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { type Entity, EntityId } from "../../domain/index.js";
import { PosFact, SNAPSHOT_FORMAT_VERSION, SnapshotLine, SnapshotManifest } from "../../protocol/index.js";
import type { LocalStore } from "../store/local-store.js";
import type { SnapshotItem, SnapshotStaging } from "../store/rehydrate.js";

export interface BootstrapProgress {
  phase: "download" | "verify" | "apply" | "done";
  bytes: number;
  total_bytes: number;
  entities: number;
  total_entities: number;
}

export interface BootstrapOptions {
  /** Where the download is kept while in progress (resumes from there). Default: beside the database. */
  downloadPath?: string;
  onProgress?: (p: BootstrapProgress) => void;
  fetch?: typeof fetch;
  /** Lines staged per transaction before yielding to the event loop (I8). */
  linesPerSlice?: number;
}

export class BootstrapError extends Error {
  override readonly name = "BootstrapError";
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Bootstraps if the branch has a snapshot ahead of this device. Returns the manifest used, or null. */
export async function bootstrap(store: LocalStore, options: BootstrapOptions = {}): Promise<SnapshotManifest | null> {
  const cfg = store.config();
  if (!cfg) throw new BootstrapError("the store is not initialised");
  const doFetch = options.fetch ?? fetch;
  const headers = { Authorization: `Bearer ${cfg.token}` };
  const base = `/v1/branches/${encodeURIComponent(cfg.branch_id)}/snapshots`;

  const response = await doFetch(new URL(`${base}/latest`, cfg.server_url), { headers });
  if (response.status === 404) return null;
  if (!response.ok) throw new BootstrapError(`the server refused the snapshot manifest: HTTP ${response.status} ${await response.text()}`);
  const parsed = SnapshotManifest.safeParse(await response.json());
  if (!parsed.success) throw new BootstrapError(`the snapshot manifest is not valid: ${parsed.error.issues[0]?.message}`);
  const manifest = parsed.data;
  if (manifest.branch_id !== cfg.branch_id) {
    throw new BootstrapError(`the snapshot is for branch ${manifest.branch_id}, but this device belongs to branch ${cfg.branch_id}`);
  }
  if (manifest.format_version > SNAPSHOT_FORMAT_VERSION) {
    throw new BootstrapError(`the snapshot has format ${manifest.format_version}, newer than this app understands (${SNAPSHOT_FORMAT_VERSION}): update the app`);
  }
  if (manifest.seq <= store.cursor()) return null; // this device is already at or past it

  const file = options.downloadPath ?? `${store.path}.snapshot-${manifest.seq}.part`;
  const progress: BootstrapProgress = { phase: "download", bytes: 0, total_bytes: manifest.byte_size, entities: 0, total_entities: entityTotal(manifest) };
  const report = () => options.onProgress?.({ ...progress });

  await download(doFetch, new URL(`${base}/${manifest.seq}/data`, cfg.server_url), headers, file, manifest, progress, report);

  progress.phase = "verify";
  report();
  const actual = await sha256File(file);
  if (actual !== manifest.sha256) {
    rmSync(file, { force: true });
    throw new BootstrapError(`the snapshot is corrupt: expected sha256 ${manifest.sha256}, the download hashes to ${actual}; it will be downloaded again`);
  }

  progress.phase = "apply";
  report();
  try {
    await stageAndSwap(store, file, manifest, progress, report, options.linesPerSlice ?? 1_000);
  } catch (error) {
    rmSync(file, { force: true });
    throw error;
  }
  rmSync(file, { force: true });
  progress.phase = "done";
  report();
  return manifest;
}

const entityTotal = (m: SnapshotManifest) => m.counts.project + m.counts.invoice + m.counts.pos_order + m.counts.tombstones;

async function download(
  doFetch: typeof fetch,
  url: URL,
  headers: Record<string, string>,
  file: string,
  manifest: SnapshotManifest,
  progress: BootstrapProgress,
  report: () => void,
): Promise<void> {
  let have = existsSync(file) ? statSync(file).size : 0;
  if (have > manifest.byte_size) {
    rmSync(file);
    have = 0;
  }
  progress.bytes = have;
  report();
  if (have === manifest.byte_size) return;
  const response = await doFetch(url, { headers: have > 0 ? { ...headers, Range: `bytes=${have}-` } : headers });
  if (have > 0 && response.status === 200) {
    // The server ignored the range: start over rather than append a whole file to a part.
    rmSync(file);
    progress.bytes = 0;
  } else if (!response.ok) {
    throw new BootstrapError(`the snapshot download failed: HTTP ${response.status}`);
  }
  if (!response.body) throw new BootstrapError("the snapshot download had no body");
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      progress.bytes += chunk.byteLength;
      report();
      controller.enqueue(chunk);
    },
  });
  await pipeline(Readable.fromWeb(response.body.pipeThrough(counter) as never), createWriteStream(file, { flags: response.status === 206 ? "a" : "w" }));
  if (progress.bytes !== manifest.byte_size) {
    throw new BootstrapError(`the snapshot download stopped at ${progress.bytes} of ${manifest.byte_size} bytes; it resumes on the next try`);
  }
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * Reads the verified file a slice at a time into the store's staging (a transaction per slice,
 * yielding to the event loop between slices), checks its header, end line and counts, then has the
 * store swap the branch in with one transaction (desktop/store/rehydrate.ts), so the store is never
 * half-bootstrapped: a failure before the swap leaves it as it was.
 */
async function stageAndSwap(
  store: LocalStore,
  file: string,
  manifest: SnapshotManifest,
  progress: BootstrapProgress,
  report: () => void,
  linesPerSlice: number,
): Promise<void> {
  const staging = store.stageSnapshot();
  try {
    const { posFacts } = await stageLines(staging, file, manifest, progress, report, linesPerSlice);
    // The swap: one transaction, in the store. Queued events are kept; their entities' views are rebuilt on top.
    staging.swap(manifest.seq, `snapshot seq ${manifest.seq}: ${progress.entities} entities, ${posFacts} POS facts, sha256 ${manifest.sha256}`);
  } finally {
    staging.discard();
  }
}

/** Stages every line of the file; checks the header, the end line and the counts. */
async function stageLines(
  staging: SnapshotStaging,
  file: string,
  manifest: SnapshotManifest,
  progress: BootstrapProgress,
  report: () => void,
  linesPerSlice: number,
): Promise<{ posFacts: number }> {
  let header = false;
  let end: Extract<SnapshotLine, { kind: "end" }> | null = null;
  let posOrders = 0;
  let posVoids = 0;
  let slice: string[] = [];
  const fail = (why: string) => new BootstrapError(`the snapshot is not valid: ${why}; it will be downloaded again`);

  /** The slice's lines, checked one by one as the store stages them (inside its transaction). */
  function* items(lines: readonly string[]): Generator<SnapshotItem> {
    for (const text of lines) {
      let raw: { kind?: unknown; entity?: Entity; pos?: unknown };
      try {
        raw = JSON.parse(text) as typeof raw;
      } catch {
        throw fail("a line is not JSON");
      }
      if (end) throw fail("lines after the end line");
      if (!header) {
        const h = SnapshotLine.safeParse(raw);
        if (!h.success || h.data.kind !== "header") throw fail("it does not start with a header");
        if (h.data.branch_id !== manifest.branch_id || h.data.seq !== manifest.seq) throw fail("the header does not match the manifest");
        header = true;
        continue;
      }
      switch (raw.kind) {
        case "entity": {
          // The checksum proved these bytes are what the server wrote: only the keys are checked here.
          const e = raw.entity;
          if (!e || typeof e.entity_id !== "string" || typeof e.version !== "number") throw fail("an entity line without an entity");
          yield { kind: "entity", entity: e };
          progress.entities++;
          break;
        }
        case "pos_order": {
          const p = PosFact.safeParse(raw.pos);
          if (!p.success) throw fail("a POS line is malformed");
          yield { kind: "pos_order", fact: p.data };
          posOrders++;
          break;
        }
        case "pos_void": {
          const v = raw as { entity_id?: unknown; seq?: unknown };
          const id = EntityId.safeParse(v.entity_id);
          if (!id.success || typeof v.seq !== "number") throw fail("a void line is malformed");
          yield { kind: "pos_void", entity_id: id.data, seq: v.seq };
          posVoids++;
          break;
        }
        case "end": {
          const e = SnapshotLine.safeParse(raw);
          if (!e.success || e.data.kind !== "end") throw fail("a malformed end line");
          end = e.data;
          break;
        }
        default:
          throw fail(`an unknown line kind ${JSON.stringify(raw.kind)}`);
      }
    }
  }

  const flush = () => {
    staging.stage(items(slice));
    slice = [];
  };

  const lines = createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (line === "") continue;
      slice.push(line);
      if (slice.length >= linesPerSlice) {
        flush();
        report();
        await yieldToEventLoop();
      }
    }
  } catch (error) {
    if (error instanceof BootstrapError) throw error;
    throw fail(`it cannot be decompressed (${(error as Error).message})`);
  }
  flush();
  const finalEnd = end as Extract<SnapshotLine, { kind: "end" }> | null;
  if (!finalEnd) throw fail("it is truncated (no end line)");
  if (finalEnd.entities !== progress.entities || finalEnd.pos_orders !== posOrders || finalEnd.pos_voids !== posVoids) {
    throw fail(`its counts do not add up (end line says ${finalEnd.entities} entities, read ${progress.entities})`);
  }
  report();
  return { posFacts: posOrders };
}
