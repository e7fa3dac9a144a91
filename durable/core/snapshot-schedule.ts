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
