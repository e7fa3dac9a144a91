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
