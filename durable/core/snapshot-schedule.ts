/**
 * When a branch's next snapshot export is due. Runtime-free: the Durable Object only turns the answer
 * into an alarm (branch-do.ts), the core keeps the last export in `meta`.
 */

/** Export a snapshot once this many commits have accumulated since the last one … */
export const SNAPSHOT_EVERY_COMMITS = 10_000;
/**
 * … but not more often than this: an export reads the whole branch, so exporting every 10,000
 * commits of a busy million-entity branch would make snapshot work grow with the square of its size.
 */
export const SNAPSHOT_MIN_INTERVAL_MS = 15 * 60 * 1000;
/** … and at least once this often while anything is committed. */
export const SNAPSHOT_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/**
 * An export is background work and yields to devices: once due, it waits until no device has pushed
 * or pulled for this long (a busy minute's pushes and a new device's catch-up are not slowed by a
 * read of the whole branch landing among them) …
 */
export const EXPORT_QUIET_MS = 2_000;
/** … but never longer than this after it first came due: a branch that is never quiet still gets its snapshots. */
export const EXPORT_MAX_WAIT_MS = 5 * 60 * 1000;

/** The last export, as kept in the branch's `meta` under "last_snapshot". */
export interface LastSnapshot {
  seq: number;
  at_ms: number;
}

/** No snapshot yet: as if one had been taken of the empty branch at the epoch. */
export const NO_SNAPSHOT: LastSnapshot = { seq: 0, at_ms: 0 };

/** When the next snapshot is due (ms since epoch), or null when nothing was committed since the last one. */
export function snapshotDueAt(last: LastSnapshot, headSeq: number, nowMs: number): number | null {
  if (headSeq <= last.seq) return null;
  if (headSeq - last.seq >= SNAPSHOT_EVERY_COMMITS) return Math.max(nowMs, last.at_ms + SNAPSHOT_MIN_INTERVAL_MS);
  return last.at_ms === 0 ? nowMs + SNAPSHOT_MAX_AGE_MS : last.at_ms + SNAPSHOT_MAX_AGE_MS;
}

/**
 * When a due export runs (`dueMs` from snapshotDueAt): not before the branch has been quiet for
 * EXPORT_QUIET_MS since `lastTrafficMs` (the last push or pull, null when none since the object
 * started), and not later than EXPORT_MAX_WAIT_MS after `dueSinceMs`, the moment it was first seen
 * due (null while it is not due yet).
 */
export function exportAt(dueMs: number, lastTrafficMs: number | null, dueSinceMs: number | null): number {
  if (lastTrafficMs === null) return dueMs;
  const quiet = lastTrafficMs + EXPORT_QUIET_MS;
  const latest = (dueSinceMs ?? dueMs) + EXPORT_MAX_WAIT_MS;
  return Math.max(dueMs, Math.min(quiet, latest));
}

/**
 * Whether the next export starts a new chain with a full base or adds an increment to the current
 * chain (format 3, protocol/snapshot.ts). A new device downloads and applies the whole chain, so a
 * chain is kept short and small next to its base:
 *
 *   - no snapshot yet (or none readable): a base;
 *   - the chain already has MAX_CHAIN_INCREMENTS increments: a base (a bootstrap fetches at most
 *     1 + MAX_CHAIN_INCREMENTS objects and a broken link costs at most that many exports);
 *   - its increments add up to CHAIN_MAX_INCREMENT_FRACTION of the base's bytes or more: a base (a
 *     chain never costs a new device much more than 1.5 times a fresh base, and the entities the
 *     increments repeat stop being downloaded twice);
 *   - the commits since the chain's newest snapshot are CHAIN_MAX_INCREMENT_FRACTION of the base's
 *     entities or more: a base (the increment could hold that many entities: an upper bound, as
 *     several commits may touch one entity, so the first increment of a chain is bounded too).
 *
 * Otherwise an increment: it reads only what changed since the previous snapshot, which on a large
 * branch is a small fraction of a base's cost (bench/bootstrap.ts measures both).
 */
export const MAX_CHAIN_INCREMENTS = 8;
export const CHAIN_MAX_INCREMENT_FRACTION = 0.5;

/** What the next export needs to know of the current chain. */
export interface ChainSizes {
  /** The base's compressed bytes and its entity lines (tombstones included). */
  base_bytes: number;
  base_entities: number;
  /** Each increment's compressed bytes, in chain order. */
  increment_bytes: readonly number[];
  /** Commits since the chain's newest snapshot (head − its seq). */
  commits_since: number;
}

export function nextSnapshotIsBase(chain: ChainSizes | null): boolean {
  if (chain === null) return true;
  if (chain.increment_bytes.length >= MAX_CHAIN_INCREMENTS) return true;
  if (chain.commits_since >= CHAIN_MAX_INCREMENT_FRACTION * chain.base_entities) return true;
  const incremental = chain.increment_bytes.reduce((sum, b) => sum + b, 0);
  return incremental >= CHAIN_MAX_INCREMENT_FRACTION * chain.base_bytes;
}
