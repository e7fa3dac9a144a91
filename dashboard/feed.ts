/**
 * One signed-in branch as the dashboard sees it, live: the client's connection, the branch's devices
 * as `watching` gave them and every `observed` since (kept in place by device id), the leases in
 * force (protocol v7: the welcome's, then every `leases`), the head, the audit's head, and the
 * server's clock. Views re-read when it says something changed; nothing here polls. Rejections and commits are passed on to the views that show them (`onRejections`,
 * `onChanges`, `onAudit`), which refetch their first page, throttled (`throttle`).
 */
import type { Change, DayReportIssued, Lease, Leases, Observed, Watching, Welcome } from "../protocol/messages.js";
import type { DevicePresence, RejectionSummary } from "../protocol/observe.js";
import { closedWords } from "../client/index.js";
import type { DayApi } from "./day-api.js";
import type { LeaseApi } from "./lease-api.js";
import type { BranchLink, ClosedInfo, LinkState } from "./link.js";
import type { SignIn } from "./sessions.js";

/** An injected clock (ms since epoch): main.tsx passes the real one, tests their own. */
export type Clock = () => number;
/**
 * An injected monotonic clock (ms from any origin; main.tsx passes `performance.now`): how much time
 * passed since the server last said its time. The wall clock would jump with the machine's clock.
 */
export type MonotonicClock = () => number;

type Listener<T> = (value: T) => void;

const NOTHING_QUEUED = { pending: 0, oldest_pending_age_ms: null } as const;

export class BranchFeed {
  readonly devices = new Map<string, DevicePresence>();
  state: LinkState = "connecting";
  welcome: Welcome | null = null;
  closed: ClosedInfo | null = null;
  /** True once `watching` has answered on this connection; false again while reconnecting. */
  watching = false;
  head = 0;
  auditHead = 0;
  /** Rejections seen live since the page was opened (not the branch's total). */
  liveRejections = 0;
  /**
   * The leases in force as the branch last said (soonest to end first), or null when this connection
   * has not said: not welcomed yet, or a server older than protocol v7 (its welcome has no `leases`).
   * Kept while offline (the view says it may be stale); `leasesInForce()` drops those whose time is up.
   */
  leases: readonly Lease[] | null = null;
  /** A count views can key re-renders on: moves whenever anything here changes. */
  version = 0;
  private serverTimeMs = 0;
  private serverTimeAtMs = 0;
  private readonly listeners = new Set<() => void>();
  private readonly rejectionListeners = new Set<Listener<readonly RejectionSummary[]>>();
  private readonly changeListeners = new Set<Listener<readonly Change[]>>();
  private readonly auditListeners = new Set<Listener<number>>();
  private readonly dayReportListeners = new Set<Listener<DayReportIssued | null>>();
  private readonly deviceListeners = new Set<Listener<readonly DevicePresence[]>>();
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    readonly signIn: SignIn,
    readonly link: BranchLink,
    private readonly clock: Clock,
    /** Defaults to `clock` (tests that need neither); main.tsx passes `performance.now`. */
    private readonly monotonic: MonotonicClock = clock,
    /** The lease routes over HTTP (break); main.tsx makes it with the sign-in's token. */
    readonly leaseApi: LeaseApi | null = null,
    /** The end-of-day routes over HTTP (protocol v10); main.tsx makes it with the sign-in's token. */
    readonly dayApi: DayApi | null = null,
  ) {}

  start(): void {
    const l = this.link;
    this.unsubscribe.push(
      l.on("state", (s) => {
        this.state = s;
        if (s !== "open") this.watching = false;
        this.bump();
      }),
      l.on("welcome", (w) => {
        // A dashboard queues nothing; saying so (with its cursor, now the head) keeps it from showing
        // on every other dashboard as a device behind the head with an unknown queue.
        l.reportStatus(NOTHING_QUEUED);
        this.welcome = w;
        this.head = w.head;
        this.setServerTime(w.server_time_ms);
        // A v7 welcome always carries them; an older server's has none to say.
        this.leases = w.leases ?? null;
        this.bump();
      }),
      l.on("leases", (m) => this.onLeases(m)),
      l.on("watching", (w) => this.onWatching(w)),
      l.on("observed", (o) => this.onObserved(o)),
      l.on("changes", ({ changes, head }) => {
        this.head = Math.max(this.head, head);
        if (changes.length > 0) for (const fn of this.changeListeners) fn(changes);
        this.bump();
      }),
      l.on("day_report", (m) => {
        for (const fn of this.dayReportListeners) fn(m);
      }),
      l.on("closed", (c) => {
        this.closed = c;
        this.bump();
      }),
    );
    l.reportStatus(NOTHING_QUEUED);
    l.watch();
    l.start();
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    this.link.stop();
  }

  /** The server's clock now: its last word, advanced by the injected monotonic clock since it came. */
  serverNow(): number {
    return this.serverTimeMs === 0 ? this.clock() : this.serverTimeMs + (this.monotonic() - this.serverTimeAtMs);
  }

  /**
   * The leases in force now by the server's clock (soonest to end first): those whose time is up are
   * over whether or not the branch's `leases` saying so has arrived (the server counts them the same
   * way, durable/core/leases.ts). Null when the branch has not said (see `leases`).
   */
  leasesInForce(): Lease[] | null {
    if (this.leases === null) return null;
    const now = this.serverNow();
    return this.leases.filter((l) => l.expires_at_ms > now).sort((a, b) => a.expires_at_ms - b.expires_at_ms || a.entity_id.localeCompare(b.entity_id));
  }

  /**
   * A lease this dashboard broke, before `leases` says so: only that very lease (same holder, same
   * grant) is dropped, so a newer lease on the same group is never hidden.
   */
  leaseEnded(ended: Lease): void {
    if (this.leases === null) return;
    const next = this.leases.filter((l) => !(l.entity_id === ended.entity_id && l.group === ended.group && l.device_id === ended.device_id && l.acquired_at_ms === ended.acquired_at_ms));
    if (next.length === this.leases.length) return;
    this.leases = next;
    this.bump();
  }

  /** A terminal close in words (revoked, expired, opened in another tab, …), or null. */
  closedWords(): string | null {
    return this.closed ? closedWords(this.closed) : null;
  }

  get timeZone(): string {
    return this.welcome?.time_zone ?? "UTC";
  }

  /** The devices, connected first, then most recently seen. */
  deviceList(): DevicePresence[] {
    return [...this.devices.values()].sort((a, b) => Number(b.connected) - Number(a.connected) || b.last_seen_at.localeCompare(a.last_seen_at) || a.device_id.localeCompare(b.device_id));
  }

  /** Events waiting on every device, as last reported. */
  backlog(): number {
    let n = 0;
    for (const d of this.devices.values()) if (d.revoked_at === null) n += d.pending ?? 0;
    return n;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  onRejections(fn: Listener<readonly RejectionSummary[]>): () => void {
    this.rejectionListeners.add(fn);
    return () => this.rejectionListeners.delete(fn);
  }
  onChanges(fn: Listener<readonly Change[]>): () => void {
    this.changeListeners.add(fn);
    return () => this.changeListeners.delete(fn);
  }
  onAudit(fn: Listener<number>): () => void {
    this.auditListeners.add(fn);
    return () => this.auditListeners.delete(fn);
  }
  /**
   * A day's report was issued (protocol v10 `day_report`: a close or an amendment), or null when the
   * connection came back (`watching` again): one may have been missed, so a shown report is read again.
   */
  onDayReport(fn: Listener<DayReportIssued | null>): () => void {
    this.dayReportListeners.add(fn);
    return () => this.dayReportListeners.delete(fn);
  }
  /** Devices changed (`observed`): a till connected, went, or reported its queue and days. */
  onDevices(fn: Listener<readonly DevicePresence[]>): () => void {
    this.deviceListeners.add(fn);
    return () => this.deviceListeners.delete(fn);
  }

  /** A device after a revoke answered, before `observed` says so. */
  updateDevice(d: DevicePresence): void {
    this.devices.set(d.device_id, d);
    this.bump();
  }

  private onWatching(w: Watching): void {
    this.devices.clear();
    for (const d of w.devices) this.devices.set(d.device_id, d);
    this.watching = true;
    this.head = w.head;
    this.setServerTime(w.server_time_ms);
    this.setAuditHead(w.audit_head);
    // A reconnect may have missed rejections and day reports: views refetch what they show.
    for (const fn of this.rejectionListeners) fn([]);
    for (const fn of this.dayReportListeners) fn(null);
    this.bump();
  }

  private onObserved(o: Observed): void {
    for (const d of o.devices) this.devices.set(d.device_id, d);
    if (o.devices.length > 0) for (const fn of this.deviceListeners) fn(o.devices);
    this.head = Math.max(this.head, o.head);
    this.setServerTime(o.server_time_ms);
    if (o.rejections.length > 0 || o.more_rejections) {
      this.liveRejections += o.rejections.length;
      for (const fn of this.rejectionListeners) fn(o.rejections);
    }
    this.setAuditHead(o.audit_head);
    this.bump();
  }

  private onLeases(m: Leases): void {
    this.leases = m.leases;
    this.setServerTime(m.server_time_ms);
    this.bump();
  }

  private setAuditHead(head: number): void {
    if (head === this.auditHead) return;
    this.auditHead = head;
    for (const fn of this.auditListeners) fn(head);
  }

  private setServerTime(ms: number): void {
    this.serverTimeMs = ms;
    this.serverTimeAtMs = this.monotonic();
  }

  private bump(): void {
    this.version++;
    for (const fn of this.listeners) fn();
  }
}

/**
 * `fn` at most once per `intervalMs`: the first call runs at once, calls within the interval make one
 * trailing run at its end (so the last news is never lost). `cancel` drops a pending run.
 */
export function throttle(fn: () => void, intervalMs: number, timers: Pick<typeof globalThis, "setTimeout" | "clearTimeout"> = globalThis): { (): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let pending = false;
  const run = () => {
    pending = false;
    fn();
    timer = timers.setTimeout(() => {
      timer = null;
      if (pending) run();
    }, intervalMs);
  };
  const call = () => {
    if (timer === null) run();
    else pending = true;
  };
  call.cancel = () => {
    if (timer !== null) timers.clearTimeout(timer);
    timer = null;
    pending = false;
  };
  return call;
}
