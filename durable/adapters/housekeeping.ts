/**
 * The branch's alarm and its snapshot exports to R2, adapted for the Durable Object shell. A Durable
 * Object has one alarm; every part of the branch that wants to be woken (upload expiry, lease expiry,
 * the snapshot schedule, compaction) asks for a time and the alarm keeps the earliest.
 */
import { type SnapshotManifest } from "../../protocol/index.js";
import type { Actor } from "../core/actor.js";
import type { BranchCore } from "../core/branch.js";
import { exportSnapshot } from "../snapshots/export.js";

/**
 * Compaction slices (core/compaction.ts) one alarm runs at most before it hands over to the next: each
 * is one short transaction, and between them the object yields, so frames and requests are handled
 * in between; a long pass (a million-commit branch compacted for the first time) spans alarms.
 */
export const COMPACTION_SLICES_PER_ALARM = 100;

/** Lets the runtime deliver what waits (socket frames, requests) before the next slice. */
const yieldToOthers = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export class BranchHousekeeping {
  #exporting: Promise<SnapshotManifest> | null = null;

  constructor(
    private readonly core: BranchCore,
    private readonly storage: DurableObjectStorage,
    private readonly snapshots: R2Bucket,
  ) {}

  /** The alarm fired: expire abandoned uploads and ended leases, export a snapshot if one is due, and ask to be woken for what is next. */
  async alarm(): Promise<void> {
    const now = this.core.nowMs();
    this.core.expireUploads();
    await this.wakeAt(this.core.nextUploadExpiry());
    // Leases whose time is up end here; the room tells devices right after (branch-do.ts onAlarm).
    this.core.expireLeases();
    await this.wakeAt(this.core.nextLeaseExpiry());
    const due = this.core.snapshotDueAt();
    if (due !== null && due <= now) await this.exportSnapshot("alarm");
    await this.compact();
    await this.wakeAt(this.core.snapshotDueAt());
  }

  /**
   * Compacts the log in the background while it is due (a pass running, or the retention point moved
   * far enough since the last): up to COMPACTION_SLICES_PER_ALARM slices, yielding between them, then
   * the next alarm carries on. Returns whether the pass is over.
   */
  async compact(): Promise<boolean> {
    if (!this.core.compactionDue()) return true;
    for (let slice = 0; slice < COMPACTION_SLICES_PER_ALARM; slice++) {
      if (this.core.compactSlice().finished) return true;
      await yieldToOthers();
    }
    await this.wakeAt(this.core.nowMs());
    return false;
  }

  /** Exports a snapshot now (one at a time: a second request joins the running export). */
  exportSnapshot(trigger: "alarm" | "request", by: Actor | null = null): Promise<SnapshotManifest> {
    return (this.#exporting ??= exportSnapshot(this.core, this.snapshots)
      .then(async (manifest) => {
        this.core.snapshotExported(manifest, trigger, by);
        // A new snapshot moves the retention point: compaction follows in the background (the alarm).
        if (trigger === "request" && this.core.compactionDue()) await this.wakeAt(this.core.nowMs());
        return manifest;
      })
      .finally(() => (this.#exporting = null)));
  }

  /** Be woken at `ms` at the latest (an earlier alarm already set stays). */
  async wakeAt(ms: number | null): Promise<void> {
    if (ms === null) return;
    const current = await this.storage.getAlarm();
    if (current === null || current > ms) await this.storage.setAlarm(ms);
  }
}
