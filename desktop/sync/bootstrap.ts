/**
 * Bootstrap (DESIGN §5): a new desktop starts from the branch's latest snapshot instead of replaying
 * its whole history, then pulls forward from the snapshot's seq.
 *
 *   chain of manifests (one request: a base, then its increments, protocol/snapshot.ts) → check the
 *   links → download each (resumable with HTTP Range, progress in bytes) → verify each one's size
 *   and SHA-256 → stage every line, the base then each increment in order (small transactions,
 *   yielding to the event loop, progress in lines) → swap the staged branch in with ONE
 *   transaction → cursor = the chain's last seq.
 *
 * A corrupt, truncated, foreign or too-new snapshot, or a broken chain (a link missing, a chained
 * checksum that does not match), is refused with a clear error before anything touches the store,
 * and the downloads of a refused chain are deleted so a retry starts clean. Queued local events are
 * never touched: a re-bootstrap keeps and re-sends them.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, rmSync, statSync } from "node:fs";
import { createInterface } from "node:readline";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { type Entity, EntityId } from "../../domain/index.js";
import { isIncrement, PosFact, SNAPSHOT_FORMAT_VERSION, SnapshotChain, SnapshotLine, SnapshotManifest } from "../../protocol/index.js";
import type { LocalStore } from "../store/local-store.js";
import type { SnapshotItem, SnapshotStaging } from "../store/rehydrate.js";

export interface BootstrapProgress {
  phase: "download" | "verify" | "apply" | "done";
  /** Bytes downloaded of the whole chain, of `total_bytes`. */
  bytes: number;
  total_bytes: number;
  /** Entity lines applied of the whole chain (an entity in several links counts once per link). */
  entities: number;
  total_entities: number;
}

export interface BootstrapOptions {
  /**
   * Where the base's download is kept while in progress (resumes from there); an increment's is kept
   * at `<downloadPath>.<seq>`. Default: beside the database.
   */
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

/**
 * Bootstraps if the branch has a snapshot ahead of this device. Returns the manifest of the chain's
 * last link (its seq is the new cursor), or null.
 */
export async function bootstrap(store: LocalStore, options: BootstrapOptions = {}): Promise<SnapshotManifest | null> {
  const cfg = store.config();
  if (!cfg) throw new BootstrapError("the store is not initialised");
  const doFetch = options.fetch ?? fetch;
  const headers = { Authorization: `Bearer ${cfg.token}` };
  const base = `/v1/branches/${encodeURIComponent(cfg.branch_id)}/snapshots`;

  const chain = await fetchChain(doFetch, new URL(`${base}/latest?chain=1`, cfg.server_url), headers);
  if (chain === null) return null;
  checkChain(chain, cfg.branch_id);
  const last = chain[chain.length - 1]!;
  if (last.seq <= store.cursor()) return null; // this device is already at or past it

  const files = chain.map((m, i) =>
    options.downloadPath ? (i === 0 ? options.downloadPath : `${options.downloadPath}.${m.seq}`) : `${store.path}.snapshot-${m.seq}.part`,
  );
  const removeAll = () => files.forEach((f) => rmSync(f, { force: true }));
  const progress: BootstrapProgress = {
    phase: "download",
    bytes: 0,
    total_bytes: chain.reduce((sum, m) => sum + m.byte_size, 0),
    entities: 0,
    total_entities: chain.reduce((sum, m) => sum + entityTotal(m), 0),
  };
  const report = () => options.onProgress?.({ ...progress });

  let before = 0;
  for (const [i, m] of chain.entries()) {
    await download(doFetch, new URL(`${base}/${m.seq}/data`, cfg.server_url), headers, files[i]!, m, before, progress, report);
    before += m.byte_size;
  }

  progress.phase = "verify";
  report();
  for (const [i, m] of chain.entries()) {
    const actual = await sha256File(files[i]!);
    if (actual !== m.sha256) {
      rmSync(files[i]!, { force: true });
      throw new BootstrapError(`the snapshot is corrupt: expected sha256 ${m.sha256} for seq ${m.seq}, the download hashes to ${actual}; it will be downloaded again`);
    }
  }

  progress.phase = "apply";
  report();
  try {
    await stageAndSwap(store, files, chain, progress, report, options.linesPerSlice ?? 1_000);
  } finally {
    removeAll();
  }
  progress.phase = "done";
  report();
  return last;
}

/**
 * The newest chain, base first, in one request (`latest?chain=1`), or null when the branch has none.
 * A server from before chains ignores `chain=1` and answers one manifest: a chain of one base.
 */
async function fetchChain(doFetch: typeof fetch, url: URL, headers: Record<string, string>): Promise<SnapshotManifest[] | null> {
  const response = await doFetch(url, { headers });
  if (response.status === 404) return null;
  if (!response.ok) throw new BootstrapError(`the server refused the snapshot manifest: HTTP ${response.status} ${await response.text()}`);
  const body = (await response.json()) as unknown;
  const isChain = body !== null && typeof body === "object" && "chain" in body;
  const raw = isChain && Array.isArray(body.chain) ? (body.chain as unknown[]) : [body];
  // Before the shape: a newer format may carry fields this build does not know, and "update the app"
  // says more than "unrecognized key".
  for (const link of raw) {
    const format = link !== null && typeof link === "object" && "format_version" in link ? link.format_version : null;
    if (typeof format === "number" && format > SNAPSHOT_FORMAT_VERSION) {
      throw new BootstrapError(`the snapshot has format ${format}, newer than this app understands (${SNAPSHOT_FORMAT_VERSION}): update the app`);
    }
  }
  const parsed = isChain ? SnapshotChain.safeParse(body) : SnapshotManifest.safeParse(body);
  if (!parsed.success) throw new BootstrapError(`the snapshot manifest is not valid: ${parsed.error.issues[0]?.message}`);
  return "chain" in parsed.data ? parsed.data.chain : [parsed.data];
}

/** Checks that the chain is this branch's and whole: a base, then increments each following the link before it. */
function checkChain(chain: readonly SnapshotManifest[], branchId: string): void {
  const base = chain[0]!;
  for (const [i, m] of chain.entries()) {
    if (m.branch_id !== branchId) throw new BootstrapError(`the snapshot is for branch ${m.branch_id}, but this device belongs to branch ${branchId}`);
    if (m.format_version > SNAPSHOT_FORMAT_VERSION) {
      throw new BootstrapError(`the snapshot has format ${m.format_version}, newer than this app understands (${SNAPSHOT_FORMAT_VERSION}): update the app`);
    }
    const broken = (why: string) => new BootstrapError(`the snapshot chain is broken: ${why}; ask a manager to export a new snapshot`);
    if (i === 0) {
      if (isIncrement(m)) throw broken(`it starts with the increment at seq ${m.seq} (after seq ${m.base_seq}) instead of a base`);
      continue;
    }
    const before = chain[i - 1]!;
    if (!isIncrement(m)) throw broken(`a second base (seq ${m.seq}) inside the chain of seq ${base.seq}`);
    if (m.chain_seq !== base.seq) throw broken(`the increment at seq ${m.seq} belongs to the chain of seq ${m.chain_seq}, not ${base.seq}`);
    if (m.base_seq !== before.seq) throw broken(`the increment at seq ${m.seq} follows seq ${m.base_seq}, but the link before it is seq ${before.seq} (a link is missing)`);
    if (m.base_sha256 !== before.sha256) {
      throw broken(`the increment at seq ${m.seq} follows a snapshot with sha256 ${m.base_sha256}, but seq ${before.seq} has sha256 ${before.sha256}`);
    }
  }
}

const entityTotal = (m: SnapshotManifest) => m.counts.project + m.counts.invoice + m.counts.pos_order + m.counts.tombstones;

/** Downloads one link into `file`, resuming what is there; `before` is the chain's bytes before this link (progress). */
async function download(
  doFetch: typeof fetch,
  url: URL,
  headers: Record<string, string>,
  file: string,
  manifest: SnapshotManifest,
  before: number,
  progress: BootstrapProgress,
  report: () => void,
): Promise<void> {
  let have = existsSync(file) ? statSync(file).size : 0;
  if (have > manifest.byte_size) {
    rmSync(file);
    have = 0;
  }
  progress.bytes = before + have;
  report();
  if (have === manifest.byte_size) return;
  const response = await doFetch(url, { headers: have > 0 ? { ...headers, Range: `bytes=${have}-` } : headers });
  if (have > 0 && response.status === 200) {
    // The server ignored the range: start over rather than append a whole file to a part.
    rmSync(file);
    progress.bytes = before;
  } else if (!response.ok) {
    throw new BootstrapError(`the snapshot download failed: HTTP ${response.status}${response.status === 404 ? ` (the snapshot at seq ${manifest.seq} was replaced by a newer one; try again)` : ""}`);
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
  if (progress.bytes - before !== manifest.byte_size) {
    throw new BootstrapError(`the snapshot download stopped at ${progress.bytes - before} of ${manifest.byte_size} bytes; it resumes on the next try`);
  }
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * Reads each verified file of the chain, base first, a slice at a time into the store's staging (a
 * transaction per slice, yielding to the event loop between slices), checks each one's header, end
 * line and counts, then has the store swap the branch in with one transaction
 * (desktop/store/rehydrate.ts), so the store is never half-bootstrapped: a failure before the swap,
 * in any link, leaves it as it was.
 */
async function stageAndSwap(
  store: LocalStore,
  files: readonly string[],
  chain: readonly SnapshotManifest[],
  progress: BootstrapProgress,
  report: () => void,
  linesPerSlice: number,
): Promise<void> {
  const staging = store.stageSnapshot();
  try {
    let posFacts = 0;
    for (const [i, m] of chain.entries()) posFacts += (await stageLines(staging, files[i]!, m, progress, report, linesPerSlice)).posFacts;
    const last = chain[chain.length - 1]!;
    const links = chain.length === 1 ? "" : ` (base seq ${chain[0]!.seq} + ${chain.length - 1} increments)`;
    // The swap: one transaction, in the store. Queued events are kept; their entities' views are rebuilt on top.
    staging.swap(last.seq, `snapshot seq ${last.seq}${links}: ${progress.entities} entities, ${posFacts} POS facts, sha256 ${last.sha256}`);
  } finally {
    staging.discard();
  }
}

/** Stages every line of one link's file; checks the header, the end line and the counts. */
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
  let entities = 0;
  let posOrders = 0;
  let posVoids = 0;
  let slice: string[] = [];
  const link = isIncrement(manifest) ? "increment" : "base";
  const fail = (why: string) => new BootstrapError(`the snapshot${link === "increment" ? ` increment at seq ${manifest.seq}` : ""} is not valid: ${why}; it will be downloaded again`);

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
        if (h.data.branch_id !== manifest.branch_id || h.data.seq !== manifest.seq || h.data.base_seq !== manifest.base_seq) throw fail("the header does not match the manifest");
        header = true;
        continue;
      }
      switch (raw.kind) {
        case "entity": {
          // The checksum proved these bytes are what the server wrote: only the keys are checked here.
          const e = raw.entity;
          if (!e || typeof e.entity_id !== "string" || typeof e.version !== "number") throw fail("an entity line without an entity");
          yield { kind: "entity", entity: e };
          entities++;
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
    try {
      staging.stage(items(slice), link);
    } catch (error) {
      if (error instanceof BootstrapError) throw error;
      // A POS fact or void staged twice (the store refuses it): links that overlap.
      throw fail(`it cannot be staged (${(error as Error).message})`);
    }
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
  if (finalEnd.entities !== entities || finalEnd.pos_orders !== posOrders || finalEnd.pos_voids !== posVoids) {
    throw fail(`its counts do not add up (end line says ${finalEnd.entities} entities, read ${entities})`);
  }
  report();
  return { posFacts: posOrders };
}
