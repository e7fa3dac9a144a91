/**
 * When the branch exports a snapshot: the schedule (10,000 commits, at most every 15 minutes, at
 * least daily) decides when one is due, and a due export then waits for a quiet moment, so that it
 * never lands among a burst of pushes or a new device's catch-up, but never for more than
 * EXPORT_MAX_WAIT_MS. The core on a real SQLite database, with a moved clock.
 */
import { afterEach, describe, expect, it } from "vitest";
import { EXPORT_MAX_WAIT_MS, EXPORT_QUIET_MS, exportAt, SNAPSHOT_EVERY_COMMITS, SNAPSHOT_MAX_AGE_MS, SNAPSHOT_MIN_INTERVAL_MS, snapshotDueAt } from "../../../durable/core/snapshot-schedule.js";
import type { SnapshotManifest } from "../../../protocol/index.js";
import { actor, DEVICES, makeCore } from "../../support/branch.js";
import { makeEventFactory } from "../../support/events.js";

const T0 = Date.UTC(2026, 10, 25, 4, 0, 0);

describe("the snapshot schedule", () => {
  it("is due after 10,000 commits (not before 15 minutes after the last export), else a day after it", () => {
    expect(snapshotDueAt({ seq: 0, at_ms: 0 }, 0, T0)).toBeNull();
    expect(snapshotDueAt({ seq: 0, at_ms: 0 }, 1, T0)).toBe(T0 + SNAPSHOT_MAX_AGE_MS);
    expect(snapshotDueAt({ seq: 5, at_ms: T0 }, SNAPSHOT_EVERY_COMMITS + 5, T0 + 60_000)).toBe(T0 + SNAPSHOT_MIN_INTERVAL_MS);
    expect(snapshotDueAt({ seq: 5, at_ms: T0 }, SNAPSHOT_EVERY_COMMITS + 5, T0 + SNAPSHOT_MIN_INTERVAL_MS + 1)).toBe(T0 + SNAPSHOT_MIN_INTERVAL_MS + 1);
    expect(snapshotDueAt({ seq: 5, at_ms: T0 }, 6, T0 + 1)).toBe(T0 + SNAPSHOT_MAX_AGE_MS);
  });

  it("a due export waits until the branch has been quiet for EXPORT_QUIET_MS, and never longer than EXPORT_MAX_WAIT_MS", () => {
    expect(exportAt(T0, null, null)).toBe(T0); // no traffic since the object started
    expect(exportAt(T0, T0 - EXPORT_QUIET_MS, T0)).toBe(T0); // quiet long enough
    expect(exportAt(T0, T0 - 500, T0)).toBe(T0 - 500 + EXPORT_QUIET_MS);
    expect(exportAt(T0 + 10_000, T0, null)).toBe(T0 + 10_000); // not due yet: traffic now does not delay it
    // Traffic every moment: at the latest EXPORT_MAX_WAIT_MS after it was first seen due.
    expect(exportAt(T0 + EXPORT_MAX_WAIT_MS + 5_000, T0 + EXPORT_MAX_WAIT_MS + 4_999, T0)).toBe(T0 + EXPORT_MAX_WAIT_MS + 5_000);
    expect(exportAt(T0 + 60_000, T0 + 60_000, T0)).toBe(T0 + 60_000 + EXPORT_QUIET_MS);
    expect(exportAt(T0 + EXPORT_MAX_WAIT_MS - 1_000, T0 + EXPORT_MAX_WAIT_MS - 1_000, T0)).toBe(T0 + EXPORT_MAX_WAIT_MS);
  });
});

describe("a due export in the branch core", () => {
  let close: (() => void) | undefined;
  afterEach(() => close?.());

  /** A branch whose daily export is due at T0 + SNAPSHOT_MAX_AGE_MS, with the clock there. */
  function dueBranch() {
    const branch = makeCore(":memory:", { nowMs: T0 });
    close = branch.close;
    const f = makeEventFactory(71);
    const a = actor(DEVICES.A);
    const push = () => expect(branch.core.push(a, [f.createProject(DEVICES.A)]).verdicts[0]!.status).toBe("confirmed");
    push();
    branch.core.setMeta("last_snapshot", { seq: 0, at_ms: T0 });
    branch.advance(SNAPSHOT_MAX_AGE_MS);
    return { ...branch, push, now: T0 + SNAPSHOT_MAX_AGE_MS };
  }

  it("waits while devices push and pull, and runs once they stop for EXPORT_QUIET_MS", () => {
    const { core, advance, push, now } = dueBranch();
    // The push above was a day ago: quiet long enough, due now.
    expect(core.snapshotDueAt()).toBe(now);
    push();
    expect(core.snapshotDueAt()).toBe(now + EXPORT_QUIET_MS);
    advance(1_500);
    core.pull(0, 100, "r-1");
    expect(core.snapshotDueAt()).toBe(now + 1_500 + EXPORT_QUIET_MS);
    advance(1_000);
    core.pullText(0, 100, "r-2");
    expect(core.snapshotDueAt()).toBe(now + 2_500 + EXPORT_QUIET_MS);
    advance(EXPORT_QUIET_MS);
    expect(core.snapshotDueAt()).toBe(now + 2_500 + EXPORT_QUIET_MS); // that moment has come: the alarm exports
  });

  it("a branch that is never quiet exports EXPORT_MAX_WAIT_MS after the export came due, and the next one waits afresh", () => {
    const { core, advance, push, now } = dueBranch();
    expect(core.snapshotDueAt()).toBe(now);
    for (let waited = 0; waited < EXPORT_MAX_WAIT_MS + 60_000; waited += 1_000) {
      push();
      expect(core.snapshotDueAt()).toBe(Math.min(now + waited + EXPORT_QUIET_MS, now + EXPORT_MAX_WAIT_MS));
      advance(1_000);
    }
    expect(core.snapshotDueAt()).toBe(now + EXPORT_MAX_WAIT_MS); // long past: the alarm exports, traffic or not
    const head = core.head();
    core.snapshotExported({ seq: head, byte_size: 1, sha256: "0".repeat(64) } as SnapshotManifest, "alarm", null);
    // Nothing new since the export: nothing due. The next due export waits for quiet again.
    expect(core.snapshotDueAt()).toBeNull();
    push();
    advance(SNAPSHOT_MAX_AGE_MS);
    push();
    expect(core.snapshotDueAt()).toBe(now + EXPORT_MAX_WAIT_MS + 60_000 + SNAPSHOT_MAX_AGE_MS + EXPORT_QUIET_MS);
  });
});
