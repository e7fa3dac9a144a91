/**
 * The branch core: the truth of one studio branch, with no Cloudflare code in it. It takes an
 * injected SQLite store and clock, so the same class runs in the Durable Object (workerd) and in
 * plain Node for simulation and property tests.
 */
import { keysetRows } from "../../sqlite/keyset.js";
import { LEDGER_SQL } from "../../sqlite/ledger.js";
import { type DayReport, type DrawerCountRequest, type TillDay } from "../../domain/index.js";
import { closeDay, type CloseOutcome, countDrawer, dayReport, type IssuedRevision, recordTillDays } from "./days.js";
import { type BranchId, type Entity, type LedgerRow, type Role, StudioDetails, type StudioDetailsPatch, type TransferId, isTimeZone } from "../../domain/index.js";
import { type WholeChanges, type ConflictResolutionRequest, type DevicePresence, MAX_PULL_PAGE_CHANGES, type Chunk, type QueueReport, type RejectionSummary, type SnapshotManifest, type UploadState, type Verdict, type Lease, type LeaseRequest } from "../../protocol/index.js";
import type { Actor } from "./actor.js";
import { type AuditEntry, readAudit, recordAudit } from "./audit.js";
import { resolveConflict } from "./conflict-resolution.js";
import { admitHello, type DeviceRow, type HelloAdmission, isRevoked, listDevices, listPresence, presenceOf, recordGone, recordHelloReport, recordPullCursor, recordStatus, revokeDevice } from "./devices.js";
import { Dashboard } from "./dashboard.js";
import { rejectionHead, rejectionsAfter } from "./rejections.js";
import { issueEnrollment, type IssueOutcome, redeemEnrollment, type RedeemOutcome } from "./enrollments.js";
import { readEntityVersion } from "./entity-store.js";
import { migrate } from "./migrations.js";
import { compactedThrough, compactionDue, type CompactionSettings, compactSlice, DEFAULT_COMPACTION, LAST_BASE_SNAPSHOT, type SliceOutcome } from "./compaction.js";
import { pageMessageText, pullPage, readPage } from "./pull.js";
import type { DeltasFor } from "./log.js";
import { headSeq } from "./log.js";
import { eventBytesAtMost } from "./decide.js";
import { type PushedEvent, type PushOutcome, pushBatch } from "./push.js";
import { exportAt, type LastSnapshot, NO_SNAPSHOT, snapshotDueAt } from "./snapshot-schedule.js";
import { type SnapshotCounts, snapshotLines } from "./snapshot-source.js";
import type { SqlStore } from "./sql.js";
import { storedDeviceId } from "./ids.js";
import { storedVerdict } from "./verdicts.js";
import { activeLeases, answerLease, endLeasesOf, expireLeases, type LeaseAnswer, nextLeaseExpiry } from "./leases.js";
import { completeUpload, dropUpload, expireUploads, nextUploadExpiry, storeChunk, uploadState } from "./uploads.js";

/** A branch's settings, stored in its `meta` table. */
export interface BranchSettings {
  /**
   * IANA time zone of the branch: business days are calendar days in it (I13). Fixed when the branch
   * is first used, from the server's default, so every day ever recorded uses the same zone.
   */
  time_zone: string;
  /**
   * The studio's name and address (and phone, tax id) that head its receipts and invoices. A manager
   * changes them (`PUT …/settings`); until then they are the server's defaults (`STUDIO_NAME`, …).
   * Absent in settings stored before they existed: read as the defaults then, and stored.
   */
  studio: StudioDetails;
}

export interface BranchCoreOptions {
  /** The zone a new branch takes (the server's `BRANCH_TIME_ZONE`); default UTC. */
  defaultTimeZone?: string;
  /**
   * The studio details a branch starts with (the server's `STUDIO_NAME`, `STUDIO_ADDRESS`,
   * `STUDIO_PHONE`, `STUDIO_TAX_ID`); the name defaults to the branch id, the address to none.
   */
  defaultStudio?: { name?: string; address?: string; phone?: string; tax_id?: string };
  /**
   * How much of the log compaction keeps (compaction.ts): the DO reads its COMPACTION_* vars, tests set
   * their own. A function is asked each time compaction runs (a test inside workerd may change it).
   */
  compaction?: Partial<CompactionSettings> | (() => Partial<CompactionSettings>);
}

export class BranchCore {
  #settings: BranchSettings | null = null;
  /** The last push or pull (this object's clock), null since it started: a due export waits for quiet (exportAt). */
  #lastTrafficMs: number | null = null;
  /** When the pending export was first seen due, null when none is due; kept in memory only (after an eviction, the branch was quiet). */
  #exportDueSinceMs: number | null = null;
  /** Day report revisions not yet told to connections (takeIssuedRevisions). */
  #issued: IssuedRevision[] = [];

  constructor(
    // The branch's storage: only the core's modules reach it, through this class (issue 13, move 1).
    private readonly sql: SqlStore,
    readonly branchId: BranchId,
    private readonly clockMs: () => number,
    private readonly options: BranchCoreOptions = {},
  ) {
    migrate(sql);
  }

  /** The branch's settings; a branch used for the first time takes the server's defaults and keeps them. */
  settings(): BranchSettings {
    if (this.#settings) return this.#settings;
    let settings = this.meta<Partial<BranchSettings>>("settings");
    if (!settings) {
      const zone = this.options.defaultTimeZone ?? "UTC";
      if (!isTimeZone(zone)) throw new Error(`the server's default time zone ${JSON.stringify(zone)} is not an IANA time zone (set BRANCH_TIME_ZONE, e.g. Asia/Colombo)`);
      settings = { time_zone: zone };
    }
    if (!settings.studio) {
      settings = { ...settings, studio: this.#defaultStudio() };
      this.setMeta("settings", settings);
    }
    this.#settings = settings as BranchSettings;
    return this.#settings;
  }

  #defaultStudio(): StudioDetails {
    const d = this.options.defaultStudio ?? {};
    const studio = StudioDetails.safeParse({ name: d.name || this.branchId, address: d.address ?? "", phone: d.phone || null, tax_id: d.tax_id || null });
    if (!studio.success) {
      const issue = studio.error.issues[0]!;
      throw new Error(`the server's default studio ${issue.path.join(".")} is not valid: ${issue.message} (set STUDIO_NAME, STUDIO_ADDRESS, STUDIO_PHONE, STUDIO_TAX_ID)`);
    }
    return studio.data;
  }

  /**
   * A manager's change to the studio's details (the caller checks `manage_settings` and validated
   * the patch): stored and audited (I10) with what changed. Returns the settings now in force.
   */
  updateStudio(by: Actor, patch: StudioDetailsPatch): BranchSettings {
    const before = this.settings();
    const studio: StudioDetails = { ...before.studio, ...patch };
    const changed = (Object.keys(patch) as (keyof StudioDetails)[]).filter((k) => before.studio[k] !== studio[k]);
    if (changed.length === 0) return before;
    const settings: BranchSettings = { ...before, studio };
    this.setMeta("settings", settings);
    this.#settings = settings;
    this.audit({
      kind: "settings_changed",
      device_id: by.device_id,
      user_id: by.user_id,
      role: by.role,
      message: `studio ${changed.map((k) => `${k} ${JSON.stringify(before.studio[k])} → ${JSON.stringify(studio[k])}`).join("; ")}`,
    });
    return settings;
  }

  timeZone(): string {
    return this.settings().time_zone;
  }

  /** A small value in the branch's `meta` table (the storage layout version lives there too). */
  meta<T>(key: string): T | null {
    const row = this.sql.one<{ value: string }>("SELECT value FROM meta WHERE key = ?", key);
    return row ? (JSON.parse(row.value) as T) : null;
  }

  setMeta(key: string, value: unknown): void {
    this.sql.run("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, JSON.stringify(value));
  }

  nowMs(): number {
    return this.clockMs();
  }

  head(): number {
    return headSeq(this.sql);
  }

  /**
   * Decides a batch. `textBytesAtMost` bounds the JSON text the events were read from (the frame
   * limit for a frame): events that cannot be too large are not serialized to be measured.
   */
  push(actor: Actor, events: ReadonlyArray<PushedEvent>, textBytesAtMost = Number.POSITIVE_INFINITY): PushOutcome {
    this.#lastTrafficMs = this.clockMs();
    const outcome = pushBatch({ sql: this.sql, nowMs: this.clockMs(), actor, timeZone: this.timeZone(), eventBytesAtMost: eventBytesAtMost(textBytesAtMost) }, events);
    this.#issued.push(...outcome.issued);
    return outcome;
  }

  /** Revisions of day reports issued (a close, an amendment) since the last call: the room tells v10 connections. */
  takeIssuedRevisions(): IssuedRevision[] {
    return this.#issued.splice(0);
  }

  /**
   * Closes business day `day` (the caller checked `close_day`): revision 1 of its report, audited.
   * Refused when the day has not begun in the branch's zone, or is closed already.
   */
  closeDay(by: Actor, day: string, note: string | null): CloseOutcome {
    const outcome = this.sql.transaction(() => closeDay(this.sql, this.clockMs(), this.timeZone(), by, day, note));
    if (outcome.ok) this.#issued.push(outcome.issued);
    return outcome;
  }

  /** A day's report as it stands (open or closed); `connected` is the host's to say. */
  dayReport(day: string, connected: ReadonlySet<string>): DayReport {
    return dayReport(this.sql, this.clockMs(), this.timeZone(), this.settings().studio.name, day, connected);
  }

  /** A manager's count of a till's drawer for a day (the caller checked `close_day`), audited. */
  countDrawer(by: Actor, day: string, count: DrawerCountRequest) {
    return this.sql.transaction(() => countDrawer(this.sql, this.clockMs(), by, day, count));
  }

  /** A till's account of its days (hello or status, v10). */
  recordTillDays(deviceId: string, days: readonly TillDay[]): void {
    recordTillDays(this.sql, this.clockMs(), deviceId, days);
  }

  /** Every entity's current version (tombstones included), in id order, a page at a time (I9). */
  *entities(pageSize = 500): Generator<Entity> {
    const pages = keysetRows(
      // An entity's current version is its last change's (entity-store.ts); SQLite takes `version` from
      // the row whose seq is the MAX, and reads it all from the covering index changes_by_entity.
      (after) => this.sql.all<{ entity_id: string; version: number }>("SELECT entity_id, MAX(seq) AS seq, version FROM changes WHERE entity_id > ? GROUP BY entity_id ORDER BY entity_id LIMIT ?", after, pageSize),
      (row) => row.entity_id,
    );
    for (const row of pages) yield readEntityVersion(this.sql, row.entity_id, row.version)!;
  }

  verdictOf(eventId: string): Verdict | null {
    return storedVerdict(this.sql, eventId);
  }

  pull(since: number, limit: number, requestId: string): WholeChanges {
    this.#lastTrafficMs = this.clockMs();
    return pullPage(this.sql, since, Math.min(limit, MAX_PULL_PAGE_CHANGES), requestId);
  }

  /**
   * The same page as pull(), as the JSON text of its `changes` message, entities never parsed.
   * `reader` (a v9 connection that asked for deltas and not `full`): changes as deltas where the log has them (log.ts DeltasFor).
   */
  pullText(since: number, limit: number, requestId: string, reader: DeltasFor = null): string {
    this.#lastTrafficMs = this.clockMs();
    return pageMessageText(readPage(this.sql, since, Math.min(limit, MAX_PULL_PAGE_CHANGES), undefined, reader), requestId);
  }

  audit(entry: AuditEntry): void {
    recordAudit(this.sql, new Date(this.clockMs()).toISOString(), entry);
  }

  readAudit(afterId: number, limit: number) {
    return readAudit(this.sql, afterId, limit);
  }

  /** The newest audit entry's id (0: none). */
  auditHead(): number {
    return this.sql.one<{ n: number | null }>("SELECT MAX(id) AS n FROM audit")?.n ?? 0;
  }

  /** The POS ledger of one day (or every day), per device and currency; its device ids decoded, not cast. */
  ledger(day: string | null): LedgerRow[] {
    return this.sql.all<Omit<LedgerRow, "device_id"> & { device_id: string }>(LEDGER_SQL, day, day).map((row) => ({ ...row, device_id: storedDeviceId(row.device_id) }));
  }

  /** A hello: admits the device or says why not (revoked, another install); audits first sight and skew. */
  admitHello(actor: Actor, hello: { app: string; install_id?: string; clock_ms?: number }): HelloAdmission {
    return admitHello(this.sql, this.clockMs(), actor, hello);
  }

  /** What an admitted hello says of the device: protocol, token expiry, cursor, queue (v6). */
  recordHello(deviceId: string, report: { protocol_version: number; cursor: number; queue?: QueueReport; token_expires_at_ms: number }): void {
    recordHelloReport(this.sql, this.clockMs(), deviceId, report);
  }

  /** A device's `status` (v6): its cursor and queue now. */
  recordStatus(deviceId: string, cursor: number, queue: QueueReport): void {
    recordStatus(this.sql, this.clockMs(), deviceId, cursor, queue);
  }

  /** A device pulled from `since`: its cursor. True when that moved it. */
  recordPullCursor(deviceId: string, since: number): boolean {
    return recordPullCursor(this.sql, deviceId, since);
  }

  /** A device's last connection closed. */
  recordGone(deviceId: string): void {
    recordGone(this.sql, this.clockMs(), deviceId);
  }

  /** Devices as the dashboard shows them, most recently seen first; `connected` is the host's to say. */
  presence(connected: ReadonlySet<string>, limit: number): DevicePresence[] {
    return listPresence(this.sql, connected, limit);
  }

  presenceOf(deviceIds: Iterable<string>, connected: ReadonlySet<string>): DevicePresence[] {
    return presenceOf(this.sql, deviceIds, connected);
  }

  /** The newest rejection's id (0: none), and the rejections decided after one, oldest first. */
  rejectionHead(): number {
    return rejectionHead(this.sql);
  }

  rejectionsAfter(afterId: number, limit: number): RejectionSummary[] {
    return rejectionsAfter(this.sql, afterId, limit);
  }

  /** The dashboard's reads (dashboard.ts). */
  get dashboard(): Dashboard {
    return (this.#dashboard ??= new Dashboard(this.sql, () => this.clockMs(), () => this.timeZone()));
  }
  #dashboard: Dashboard | undefined;

  /** A manager's resolution of a conflict kept open for one (conflict-resolution.ts). */
  resolveConflict(by: Actor, eventId: string, request: ConflictResolutionRequest) {
    return resolveConflict(this.sql, this.clockMs(), by, eventId, request);
  }

  /** A manager's revocation of a device (the caller checks `manage_devices`). */
  revokeDevice(by: Actor, deviceId: string, reason: string) {
    const revoked = revokeDevice(this.sql, this.clockMs(), by, deviceId, reason);
    // A revoked till's leases end with it: they would keep everyone else out until they ran out.
    if (endLeasesOf(this.sql, deviceId) > 0) this.#leaseEpoch++;
    return revoked;
  }

  isRevoked(deviceId: string): boolean {
    return isRevoked(this.sql, deviceId);
  }

  devices(): DeviceRow[] {
    return listDevices(this.sql);
  }

  /** A manager's one-time sign-in code, stored by its hash (the caller checks `manage_devices` and the role). */
  issueEnrollment(by: Actor, codeHash: string, role: Role, user: string, ttlMinutes: number): IssueOutcome {
    return issueEnrollment(this.sql, this.clockMs(), by, codeHash, role, user, ttlMinutes);
  }

  /** A till exchanges a code (by its hash): a grant for a device, or why not. */
  redeemEnrollment(codeHash: string, deviceId: string | null, newDeviceId: () => string): RedeemOutcome {
    return redeemEnrollment(this.sql, this.clockMs(), codeHash, deviceId, newDeviceId);
  }

  // ───────────────────────────── leases (leases.ts, protocol v7) ─────────────────────────────

  /** Counts the changes to the branch's leases since this object was made (memory only): the room tells devices when it moves. */
  get leaseEpoch(): number {
    return this.#leaseEpoch;
  }
  #leaseEpoch = 0;

  /** A device's lease request (acquire, release, break): answered, audited where it breaks one. */
  lease(actor: Actor, request: LeaseRequest): LeaseAnswer {
    const answer = answerLease(this.sql, this.clockMs(), actor, request);
    if (answer.changed) this.#leaseEpoch++;
    return answer;
  }

  /** Every lease in force now, soonest to end first. */
  leases(): Lease[] {
    return activeLeases(this.sql, this.clockMs());
  }

  /** Deletes the leases whose time is up (the alarm); returns how many. */
  expireLeases(): number {
    const n = expireLeases(this.sql, this.clockMs());
    if (n > 0) this.#leaseEpoch++;
    return n;
  }

  /** When the next lease ends (to schedule the alarm), or null. */
  nextLeaseExpiry(): number | null {
    return nextLeaseExpiry(this.sql);
  }

  // ───────────────────────────── chunked uploads (uploads.ts) ─────────────────────────────

  /** Stores one verified piece of a device's upload (the device's quota applies). */
  storeChunk(deviceId: string, chunk: Chunk) {
    return storeChunk(this.sql, this.clockMs(), deviceId, chunk);
  }

  uploadState(transferId: TransferId): UploadState {
    return uploadState(this.sql, this.clockMs(), transferId);
  }

  completeUpload(transferId: string) {
    return completeUpload(this.sql, transferId);
  }

  dropUpload(transferId: string): void {
    dropUpload(this.sql, transferId);
  }

  /** Deletes the uploads whose time is up; returns how many (the alarm). */
  expireUploads(): number {
    return expireUploads(this.sql, this.clockMs());
  }

  /** When the next upload expires (to schedule the alarm), or null. */
  nextUploadExpiry(): number | null {
    return nextUploadExpiry(this.sql);
  }

  /** Uploads in progress and the pieces they hold, for tests and the dashboard. */
  uploadsInProgress(): { uploads: number; chunks: number } {
    return {
      uploads: this.sql.one<{ n: number }>("SELECT COUNT(*) AS n FROM uploads")!.n,
      chunks: this.sql.one<{ n: number }>("SELECT COUNT(*) AS n FROM upload_chunks")!.n,
    };
  }

  // ───────────────────────────── compaction (compaction.ts) ─────────────────────────────

  /**
   * The branch's `compacted_through` (protocol v9): commits up to it may no longer be in the log, so a
   * pull from below it is refused (`history_compacted`, HTTP 410) and the device bootstraps again.
   */
  compactedThrough(): number {
    return compactedThrough(this.sql);
  }

  get compactionSettings(): CompactionSettings {
    const settings = this.options.compaction;
    return { ...DEFAULT_COMPACTION, ...(typeof settings === "function" ? settings() : settings) };
  }

  /** Whether compaction has work: a pass running, or the retention point moved far enough (the alarm asks). */
  compactionDue(): boolean {
    return compactionDue(this.sql, this.compactionSettings, this.clockMs(), this.meta<LastSnapshot>(LAST_BASE_SNAPSHOT) ?? NO_SNAPSHOT);
  }

  /** One bounded slice of compaction (one transaction); call until `finished`, yielding between calls. */
  compactSlice(): SliceOutcome {
    return compactSlice(this.sql, this.compactionSettings, this.clockMs(), this.meta<LastSnapshot>(LAST_BASE_SNAPSHOT) ?? NO_SNAPSHOT);
  }

  // ───────────────────────────── snapshots (snapshot-source.ts) ─────────────────────────────

  /**
   * The lines of a snapshot consistent at `seq`, one entity or POS fact at a time (I9): a base, or
   * with `afterSeq` an increment of what was committed after it.
   */
  snapshotLines(seq: number, counts: SnapshotCounts, afterSeq: number | null = null): Generator<string> {
    return snapshotLines(this.sql, this.branchId, seq, counts, afterSeq);
  }

  /**
   * When the next snapshot export should run (ms since epoch), or null while nothing new was
   * committed: when the schedule makes it due (snapshotDueAt), once devices have stopped pushing and
   * pulling for a moment (exportAt).
   */
  snapshotDueAt(head: number = this.head()): number | null {
    const now = this.clockMs();
    const due = snapshotDueAt(this.meta<LastSnapshot>("last_snapshot") ?? NO_SNAPSHOT, head, now);
    if (due === null) return (this.#exportDueSinceMs = null);
    if (due <= now) this.#exportDueSinceMs ??= now;
    return exportAt(due, this.#lastTrafficMs, this.#exportDueSinceMs);
  }

  /** An export finished: it is the new base of the schedule, and audited (I10). `by` is null for the alarm. */
  snapshotExported(manifest: SnapshotManifest, trigger: "alarm" | "request", by: Actor | null): void {
    this.setMeta("last_snapshot", { seq: manifest.seq, at_ms: this.clockMs() } satisfies LastSnapshot);
    // Compaction stays at or below the newest BASE: every reader can bootstrap from it (`…/snapshots/latest`).
    if (manifest.base_seq === undefined) this.setMeta(LAST_BASE_SNAPSHOT, { seq: manifest.seq, at_ms: this.clockMs() } satisfies LastSnapshot);
    this.#exportDueSinceMs = null;
    this.audit({
      kind: "snapshot_export",
      device_id: by?.device_id ?? null,
      user_id: by?.user_id ?? null,
      role: by?.role ?? null,
      message: `snapshot at seq ${manifest.seq} (${trigger}): ${manifest.base_seq === undefined ? "base" : `increment after seq ${manifest.base_seq}`}, ${manifest.byte_size} bytes, sha256 ${manifest.sha256}`,
    });
  }
}
