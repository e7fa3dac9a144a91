/**
 * The branch's alarm and its snapshot exports to R2, adapted for the Durable Object shell. A Durable
 * Object has one alarm; every part of the branch that wants to be woken (upload expiry, lease expiry,
 * the snapshot schedule) asks for a time and the alarm keeps the earliest.
 */
import { type SnapshotManifest } from "../../protocol/index.js";
import type { Actor } from "../core/actor.js";
import type { BranchCore } from "../core/branch.js";
import { exportSnapshot } from "../snapshots/export.js";

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
    await this.wakeAt(this.core.snapshotDueAt());
  }

  /** Exports a snapshot now (one at a time: a second request joins the running export). */
  exportSnapshot(trigger: "alarm" | "request", by: Actor | null = null): Promise<SnapshotManifest> {
    return (this.#exporting ??= exportSnapshot(this.core, this.snapshots)
      .then((manifest) => (this.core.snapshotExported(manifest, trigger, by), manifest))
      .finally(() => (this.#exporting = null)));
  }

  /** Be woken at `ms` at the latest (an earlier alarm already set stays). */
  async wakeAt(ms: number | null): Promise<void> {
    if (ms === null) return;
    const current = await this.storage.getAlarm();
    if (current === null || current > ms) await this.storage.setAlarm(ms);
  }
}
