/**
 * Compaction of the branch's log (issue 18): the commits older than a retention point R, which the
 * newest base snapshot covers, leave `changes`, and the entity versions they superseded leave `entity_versions`.
 * A device whose cursor is below R cannot pull what it misses: it is told so (`welcome.
 * compacted_through`, the non-fatal `history_compacted`, HTTP 410) and bootstraps again from the
 * newest snapshot, keeping its queue (docs/protocol/compaction.md).
 *
 * What stays, so that nothing else changes meaning:
 *  - every change after R (pulls from R on are exact, I4), and, at or below R, each entity's last
 *    change up to R: the base of every later change, what snapshotLines reads an entity's version at
 *    a seq from (snapshot-source.ts), and what `last_change` reads (last-change.ts);
 *  - every entity version those rows name (the current version of every entity among them), and
 *    every version (with its change row) a stored rejection names: a rejection replayed after
 *    compaction carries the `server_entity` and `last_change` it was first given (I3);
 *  - the exactly-once record of every compacted commit: a `compacted_verdicts` row (event, device,
 *    entity, seq, version; the receipt and invoice numbers are read from the POS and invoice tables,
 *    which are never compacted, I6), which verdicts.ts reads as it reads a change row;
 *  - POS facts, voids, the ledger, invoice numbers, the audit and the rejections: never compacted.
 *
 * The work is background and bounded (I9): a pass is started by the alarm once R has moved far enough
 * (compactionDue), then runs in slices of at most `sliceRows` log rows, each one transaction, with its
 * progress in `meta`; a slice repeated (an eviction between slices) removes nothing twice. Storage
 * refuses every other delete: the append-only triggers of `changes` and `entity_versions` allow a
 * delete only while the slice's guard row is in `compaction_guard` (migrations.ts, layout 11), and
 * never of a change above R or of an entity's current version. Each pass is audited (I10).
 */
import { recordAudit } from "./audit.js";
import { headSeq } from "./log.js";
import type { LastSnapshot } from "./snapshot-schedule.js";
import type { SqlStore } from "./sql.js";

/** The newest this many commits always stay in the log: a device a little behind just pulls. */
export const COMPACTION_RETAIN_COMMITS = 100_000;
/** Commits younger than this always stay: a till offline on location for up to a month just pulls. */
export const COMPACTION_RETAIN_MS = 30 * 24 * 60 * 60 * 1000;
/** A pass starts only once it would move the retention point this far: one pass per many commits, not one per alarm. */
export const COMPACTION_MIN_STEP_COMMITS = 10_000;
/**
 * Log rows looked at per slice (one transaction): 500 took 48 ms on the bench's machine
 * (bench/compaction.ts, with a million-commit log), so about 25 ms: a frame or request never waits
 * long behind one.
 */
export const COMPACTION_SLICE_ROWS = 250;

/**
 * The newest BASE snapshot exported, in `meta` (BranchCore.snapshotExported): a base is what every
 * reader bootstraps from (`GET …/snapshots/latest`, a chain's first object), so the retention point
 * stays at or below it; an increment after it does not move the point. No base since this layout:
 * nothing is compacted until the next one.
 */
export const LAST_BASE_SNAPSHOT = "last_base_snapshot";

export interface CompactionSettings {
  retainCommits: number;
  retainMs: number;
  minStepCommits: number;
  sliceRows: number;
}

export const DEFAULT_COMPACTION: CompactionSettings = {
  retainCommits: COMPACTION_RETAIN_COMMITS,
  retainMs: COMPACTION_RETAIN_MS,
  minStepCommits: COMPACTION_MIN_STEP_COMMITS,
  sliceRows: COMPACTION_SLICE_ROWS,
};

/**
 * The compaction state, in `meta` under "compaction". `through` is the branch's `compacted_through`:
 * it moves to a pass's R when the pass starts, before anything is removed, so a pull is never
 * answered from a log that is missing a commit after its `since`.
 */
export interface CompactionState {
  /** R of the newest pass (0: never compacted). Commits at or below it may be gone from the log. */
  through: number;
  /** R of the pass before: rows at or below it that are still there are kept on purpose (see above). */
  floor: number;
  /** How far the current pass has looked (seq); the pass is over when `done` = `through`. */
  done: number;
  /** What the current pass removed so far (for its audit entry). */
  removed_changes: number;
  removed_versions: number;
}

const NEVER: CompactionState = { through: 0, floor: 0, done: 0, removed_changes: 0, removed_versions: 0 };

export function compactionState(sql: SqlStore): CompactionState {
  const row = sql.one<{ value: string }>("SELECT value FROM meta WHERE key = 'compaction'");
  return row ? (JSON.parse(row.value) as CompactionState) : NEVER;
}

function setState(sql: SqlStore, state: CompactionState): void {
  sql.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('compaction', ?)", JSON.stringify(state));
}

/** The branch's `compacted_through`: commits up to it may no longer be in the log (0: none). */
export const compactedThrough = (sql: SqlStore): number => compactionState(sql).through;

/**
 * The retention point now: the newest seq that is (1) covered by the newest base snapshot, (2) not
 * among the newest `retainCommits` commits and (3) committed at least `retainMs` ago. Never below the
 * current `compacted_through`.
 */
export function retentionPoint(sql: SqlStore, settings: CompactionSettings, nowMs: number, snapshot: LastSnapshot): number {
  const through = compactedThrough(sql);
  const head = headSeq(sql);
  let point = Math.min(snapshot.seq, head - settings.retainCommits);
  if (point <= through) return through;
  if (settings.retainMs > 0) point = Math.min(point, newestCommittedBy(sql, through, point, new Date(nowMs - settings.retainMs).toISOString()));
  return Math.max(point, through);
}

/**
 * The newest seq in (low, high] committed at or before `cutoffIso`, else `low`: a binary search on the
 * log's seq (every row above `compacted_through` is there), a few index probes. committed_at grows
 * with seq as far as the server's clock does; a clock stepped back only makes the answer a little off.
 */
function newestCommittedBy(sql: SqlStore, low: number, high: number, cutoffIso: string): number {
  const committedAt = (seq: number) => sql.one<{ at: string }>("SELECT committed_at AS at FROM changes WHERE seq >= ? ORDER BY seq LIMIT 1", seq)?.at ?? null;
  let lo = low; // committed by the cutoff (or the floor)
  let hi = high + 1; // not committed by it (or past the range)
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const at = committedAt(mid);
    if (at !== null && at <= cutoffIso) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Whether a pass is running, or one should start (R moved at least `minStepCommits` past `compacted_through`). */
export function compactionDue(sql: SqlStore, settings: CompactionSettings, nowMs: number, snapshot: LastSnapshot): boolean {
  const state = compactionState(sql);
  if (state.done < state.through) return true;
  return retentionPoint(sql, settings, nowMs, snapshot) - state.through >= Math.max(1, settings.minStepCommits);
}

export interface SliceOutcome {
  /** The pass is over (or none was due). */
  finished: boolean;
  /** `compacted_through` after this slice. */
  through: number;
  removedChanges: number;
  removedVersions: number;
}

/**
 * One slice of compaction, in one transaction: starts a pass when none runs and one is due, else
 * continues the running one. Call it until `finished` (the alarm does, yielding between slices).
 */
export function compactSlice(sql: SqlStore, settings: CompactionSettings, nowMs: number, snapshot: LastSnapshot): SliceOutcome {
  return sql.transaction(() => {
    let state = compactionState(sql);
    const atIso = new Date(nowMs).toISOString();
    if (state.done >= state.through) {
      const point = retentionPoint(sql, settings, nowMs, snapshot);
      if (point - state.through < Math.max(1, settings.minStepCommits)) return { finished: true, through: state.through, removedChanges: 0, removedVersions: 0 };
      // A new pass: pulls from below the new point are refused from now on, before anything is removed.
      state = { through: point, floor: state.through, done: state.through, removed_changes: 0, removed_versions: 0 };
      recordAudit(sql, atIso, {
        kind: "compaction",
        message: `compaction started: commits through seq ${point} leave the log (was through ${state.floor}; head ${headSeq(sql)}, snapshot at seq ${snapshot.seq}); devices behind it bootstrap again`,
      });
    }
    const removed = removeSlice(sql, state, settings.sliceRows);
    state = { ...state, done: removed.lookedThrough, removed_changes: state.removed_changes + removed.changes, removed_versions: state.removed_versions + removed.versions };
    setState(sql, state);
    const finished = state.done >= state.through;
    if (finished) {
      recordAudit(sql, atIso, {
        kind: "compaction",
        message: `compaction through seq ${state.through} done: ${state.removed_changes} changes and ${state.removed_versions} entity version parts removed, their verdicts kept`,
      });
    }
    return { finished, through: state.through, removedChanges: removed.changes, removedVersions: removed.versions };
  });
}

/** A log row as a slice reads it. */
interface SliceRow {
  seq: number;
  entity_id: string;
  superseded: number;
}

/**
 * Removes what one slice may: of the rows after `done` (up to `sliceRows` of them, at most through
 * R), those that a later change of their entity at or below R superseded, and the rows an earlier
 * pass kept below its R (`floor`) for the entities these rows change (superseded now); but never a
 * version a stored rejection names. Their exactly-once records are written first.
 */
function removeSlice(sql: SqlStore, state: CompactionState, sliceRows: number): { lookedThrough: number; changes: number; versions: number } {
  const R = state.through;
  const rows = sql.all<SliceRow>(
    `SELECT c.seq, c.entity_id,
            EXISTS (SELECT 1 FROM changes n WHERE n.entity_id = c.entity_id AND n.seq > c.seq AND n.seq <= ?) AS superseded
       FROM changes c WHERE c.seq > ? AND c.seq <= ? ORDER BY c.seq LIMIT ?`,
    R,
    state.done,
    R,
    sliceRows,
  );
  const lookedThrough = rows.length < sliceRows ? R : rows[rows.length - 1]!.seq;
  const candidates = rows.filter((r) => r.superseded === 1).map((r) => r.seq);
  if (state.floor > 0 && rows.length > 0) {
    const entities = JSON.stringify([...new Set(rows.map((r) => r.entity_id))]);
    const kept = sql.all<{ seq: number }>("SELECT seq FROM changes WHERE entity_id IN (SELECT value FROM json_each(?)) AND seq <= ?", entities, state.floor);
    candidates.push(...kept.map((r) => r.seq));
  }
  if (candidates.length === 0) return { lookedThrough, changes: 0, versions: 0 };

  const chosen = sql
      .all<{ seq: number }>(
        `SELECT c.seq FROM changes c WHERE c.seq IN (SELECT value FROM json_each(?))
           AND NOT EXISTS (SELECT 1 FROM stored_verdicts s WHERE s.entity_id = c.entity_id AND s.server_version = c.version AND s.status = 'rejected')`,
        JSON.stringify(candidates),
      )
      .map((r) => r.seq);
  if (chosen.length === 0) return { lookedThrough, changes: 0, versions: 0 };
  const seqs = JSON.stringify(chosen);
  sql.run("INSERT INTO compaction_guard (through) VALUES (?)", R);
  // The exactly-once record first (I3). A commit whose verdict stored_verdicts already holds (from
  // before layout 8) needs none: that row answers it.
  sql.run(
    `INSERT OR IGNORE INTO compacted_verdicts (event_id, device_id, entity_id, seq, version)
       SELECT c.event_id, c.device_id, c.entity_id, c.seq, c.version FROM changes c
        WHERE c.seq IN (SELECT value FROM json_each(?)) AND NOT EXISTS (SELECT 1 FROM stored_verdicts s WHERE s.event_id = c.event_id)`,
    seqs,
  );
  const versions = sql.one<{ n: number }>(
    `SELECT COUNT(*) AS n FROM entity_versions WHERE (entity_id, version) IN (SELECT entity_id, version FROM changes WHERE seq IN (SELECT value FROM json_each(?)))`,
    seqs,
  )!.n;
  sql.run("DELETE FROM entity_versions WHERE (entity_id, version) IN (SELECT entity_id, version FROM changes WHERE seq IN (SELECT value FROM json_each(?)))", seqs);
  sql.run("DELETE FROM changes WHERE seq IN (SELECT value FROM json_each(?))", seqs);
  sql.run("DELETE FROM compaction_guard");
  return { lookedThrough, changes: chosen.length, versions };
}
