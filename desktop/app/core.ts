/**
 * The main-process core of the desktop app: the local store and the sync engine behind the
 * DesktopApi. Plain Node: Electron's main process hosts it, and so does browser mode. Sync runs in
 * the engine, beside the UI, never in it: the renderer only calls this API and gets events.
 */
import type { LocalStore } from "../store/local-store.js";
import type { BootstrapProgress } from "../sync/bootstrap.js";
import { type EngineOptions, SyncEngine } from "../sync/engine.js";
import { decodeTokenUnverified } from "../../protocol/token.js";
import { canDo } from "../../domain/index.js";
import { requestResolution } from "../sync/conflict-resolution.js";
import { resolveWithManagerCode } from "../sync/manager-override.js";
import type { ApiRequest, ApiResults, AppEvent, AppStatus, ConflictView, WriteAction, WriteManyResult, WriteResult } from "./api.js";
import { conflictView } from "./conflict-view.js";
import { closeDay, countDrawer, dayView } from "./day-close.js";
import { addTill, setUp, signInAgain } from "./enrollment.js";
import { LeaseHolds } from "./leases.js";

/** When a token runs out, from the token itself (unverified: for words on the screen only). */
function tokenExpiresMs(token: string): number | null {
  const claims = decodeTokenUnverified(token);
  return claims.ok ? claims.value.exp * 1000 : null;
}

/**
 * After a `day_report`, when to read the day again: this till's answer (a `status` with its days) is
 * on its way over the socket; a second or so is ample on a LAN or a phone link.
 */
const DAY_REPORT_SETTLE_MS = 1_500;

/** How often the status (and its clock) is sent while the window is open. */
const STATUS_TICK_MS = 1_000;

export class DesktopCore {
  readonly #listeners = new Set<(event: AppEvent) => void>();
  readonly engine: SyncEngine;
  #bootstrap: BootstrapProgress | null = null;
  #paused = false;
  #changedTimer: ReturnType<typeof setTimeout> | null = null;
  #dayReportTimer: ReturnType<typeof setTimeout> | null = null;
  #tick: ReturnType<typeof setInterval> | undefined;
  #stopped = false;

  readonly #leases: LeaseHolds;

  /**
   * `engine`: the engine's injected randomness, timers, monotonic clock, sockets and fetch (STYLE.md §7), for
   * tests that must hold the sync machine in a state (a backoff that never fires on its own), count a
   * lease down on a clock of their own or reach an in-memory branch; the app uses the defaults.
   */
  constructor(readonly store: LocalStore, options: { online?: boolean; engine?: Pick<EngineOptions, "random" | "timers" | "monotonicMs" | "openSocket" | "fetch"> } = {}) {
    // The engine's monotonic clock is also the one leases are counted down on (leaseRemainingMs).
    const monotonicMs = options.engine?.monotonicMs ?? (() => performance.now());
    this.engine = new SyncEngine({
      ...options.engine,
      monotonicMs,
      store,
      onChanges: () => this.#changed(),
      // Its own events confirmed: pending → synced on every screen (since v11 their changes do not come back).
      onConfirmed: () => this.#changed(),
      onConflicts: () => this.#changed(),
      onBootstrapProgress: (p) => {
        this.#bootstrap = p.phase === "done" ? null : p;
        this.#emitStatus();
      },
    });
    this.engine.subscribe(() => this.#emitStatus());
    this.#leases = new LeaseHolds({
      engine: this.engine,
      timers: options.engine?.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) },
      monotonicMs,
      ownDeviceId: () => this.store.config()?.device_id ?? null,
      onChange: () => this.#emitStatus(),
      hasOpenChanges: (entityId) => this.store.get(entityId)?.status === "pending",
    });
    // The branch's leases changed (or the connection ended): the screens show who edits what.
    this.engine.subscribeLeases(() => this.#emitStatus());
    // v10: the branch issued a day's report (closed by another manager, or amended by late sales):
    // the Close of day screen reads it again. This till answers `day_report` with its own account of
    // its days, which the branch records a moment later; a second read after DAY_REPORT_SETTLE_MS
    // shows this till's proof as the branch then has it.
    this.engine.subscribeDayReports(() => {
      this.#changed();
      if (this.#dayReportTimer) clearTimeout(this.#dayReportTimer);
      this.#dayReportTimer = setTimeout(() => {
        this.#dayReportTimer = null;
        this.#changed();
      }, DAY_REPORT_SETTLE_MS);
      this.#dayReportTimer.unref?.();
    });
    this.#paused = options.online === false;
    // A database not set up yet has nothing to sync: the engine starts once it is bound (setup).
    if (store.config()) this.#startEngine();
    // The renderer shows ages ("oldest pending 12 s ago") and today's totals from the status's clock:
    // send it once a second while anyone listens, so they move with time and "today" rolls over.
    this.#tick = setInterval(() => {
      if (this.#listeners.size > 0) this.#emitStatus();
    }, STATUS_TICK_MS);
    this.#tick.unref?.();
  }

  #engineStarted = false;
  #startEngine(): void {
    if (this.#engineStarted || this.#stopped) return;
    this.#engineStarted = true;
    this.engine.start(!this.#paused);
  }

  /** Stops sync and every pending notification; the store may be closed right after. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#tick);
    if (this.#changedTimer) clearTimeout(this.#changedTimer);
    this.#changedTimer = null;
    if (this.#dayReportTimer) clearTimeout(this.#dayReportTimer);
    this.#dayReportTimer = null;
    // Leases still held are released while the socket is still up (a lost release ends at its TTL).
    this.#leases.releaseAll();
    this.#leases.stop();
    if (this.#engineStarted) this.engine.stop();
  }

  /**
   * A window listens. When the last one stops (the window closed, the browser tab went), nobody is
   * editing any more: the leases held for its edits are released rather than renewed.
   */
  subscribe(listener: (event: AppEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#leases.releaseAll();
    };
  }

  status(): AppStatus {
    const cfg = this.store.config();
    return {
      sync: this.engine.status(),
      paused: this.#paused,
      summary: this.store.summary(),
      identity: cfg && { branch_id: cfg.branch_id, device_id: cfg.device_id, user_id: cfg.user_id, role: cfg.role, token_expires_ms: tokenExpiresMs(cfg.token) },
      bootstrap: this.#bootstrap,
      clock: { now_ms: this.store.nowMs(), today: this.store.today(), time_zone: this.store.timeZone(), skew_ms: this.store.clockSkewMs() },
      studio: this.store.studio(),
      leases: this.#leases.view(),
    };
  }

  /** One request of the API, already validated by the transport. */
  async handle(request: ApiRequest): Promise<ApiResults[ApiRequest["method"]]> {
    switch (request.method) {
      case "status":
        return this.status();
      case "list":
        return this.store.list(request.type, { search: request.search, limit: request.limit, offset: request.offset });
      case "get":
        return this.store.get(request.id);
      case "posHistory":
        return this.store.posHistory({ day: request.day, search: request.search, limit: request.limit, offset: request.offset });
      case "queue":
        return this.store.queue({ status: request.status, entity_type: request.entity_type, newest_first: true, limit: request.limit, offset: request.offset });
      case "conflicts":
        return this.#conflicts(request.open);
      case "resolveConflict": {
        const r = this.store.resolveConflict(request.id, request.action);
        if (r.ok) this.#afterWrite();
        return r.ok ? { ok: true } : { ok: false, error: r.error };
      }
      case "managerResolveConflict":
        return this.#managerResolve(request.id, request.note, request.code);
      case "ledger":
        return this.store.ledger(request.day);
      case "write": {
        const outcome = this.#write(request.action);
        if (outcome.ok) this.#afterWrite();
        return outcome;
      }
      case "writeMany": {
        const outcome = this.#writeMany(request.actions);
        if (outcome.ok) this.#afterWrite();
        return outcome;
      }
      case "retryNow":
        this.engine.retryNow();
        return null;
      case "setOnline":
        this.#paused = !request.online;
        this.engine.setOnline(request.online);
        this.#emitStatus();
        return null;
      case "setup":
        return setUp(this.store, request, () => {
          this.#startEngine();
          this.#emitStatus();
        });
      case "signIn":
        return signInAgain(this.store, request.code, () => {
          this.engine.tokenUpdated();
          this.#emitStatus();
        });
      case "addTill":
        return addTill(this.store, request);
      case "leaseAcquire":
        return this.#leases.acquire(request.entity_id, request.group);
      case "leaseRelease":
        return this.#leases.release(request.entity_id, request.group);
      case "dayReport":
        return dayView(this.store, request.day, { paused: this.#paused });
      case "closeDay":
        return closeDay(this.store, request.day, request.note, { paused: this.#paused });
      case "countDrawer": {
        const { day, device_id, currency, counted_minor, note } = request;
        return countDrawer(this.store, { day, device_id, currency, counted_minor, ...(note === undefined ? {} : { note }) }, { paused: this.#paused });
      }
    }
  }

  /** The inbox in people's words, built here (conflict-view.ts), on the store's clock and zone. */
  #conflicts(open: boolean): ConflictView[] {
    const cfg = this.store.config();
    const viewer = { device_id: cfg?.device_id ?? "", role: cfg?.role ?? "viewer", time_zone: this.store.timeZone(), now_ms: this.store.nowMs() };
    return this.store.conflicts({ open }).map((c) => conflictView(c, viewer));
  }

  /**
   * A manager closes an entry kept for one: through the server, which checks the role and audits
   * who, on which device, and why. Only when the server accepts does the entry close here. On a till
   * whose own role cannot, a manager's one-time `code` stands in for this one request
   * (sync/manager-override.ts); the till's own sign-in is never touched.
   */
  async #managerResolve(id: number, note: string, code?: string): Promise<ApiResults["managerResolveConflict"]> {
    const cfg = this.store.config();
    const conflict = this.store.conflicts().find((c) => c.id === id);
    if (!cfg || !conflict) return { ok: false, error: "This entry is no longer in the inbox." };
    if (!conflict.needs_manager) return { ok: false, error: "This entry is not waiting for a manager; choose one of its actions instead." };
    if (conflict.resolved_at) return { ok: true };
    const byCode = !canDo(cfg.role, "resolve_conflicts");
    if (byCode && code === undefined) return { ok: false, error: "Only a manager or the owner can resolve a refused POS sale. Ask a manager." };
    const trimmed = note.trim();
    if (trimmed.length === 0) return { ok: false, field: "note", error: "Write a note saying what was decided (for example: customer refunded in cash)." };
    if (this.#paused) return { ok: false, error: "Sync is switched off (working offline), so the server cannot record the resolution and the sale stays open. Go online, then resolve it." };
    const request = { action: "keep_server", note: trimmed } as const;
    const answer = byCode ? await resolveWithManagerCode(cfg, conflict.event_id, request, code ?? "") : await requestResolution(cfg, conflict.event_id, request);
    switch (answer.kind) {
      case "unreachable":
        return { ok: false, error: "The server could not be reached, so the sale stays open for a manager. Try again when this till is online." };
      case "code_refused":
        return { ok: false, field: "code", error: answer.message };
      case "refused":
        return { ok: false, error: `The server did not accept the resolution: ${answer.message}` };
      case "accepted": {
        const closed = this.store.recordManagerResolution(id, answer.resolution);
        if (!closed.ok) return { ok: false, error: closed.error };
        this.#changed();
        return { ok: true };
      }
    }
  }

  #write(action: WriteAction): WriteResult {
    return this.store.write(action);
  }

  /** All or none, in one local transaction; a refusal names the write by its index and says nothing was written. */
  #writeMany(actions: readonly WriteAction[]): WriteManyResult {
    const outcome = this.store.writeMany(actions);
    if (outcome.ok) return { ok: true, value: outcome.value.map((w) => ({ event_id: w.event.id, entity_id: w.entity.entity_id })) };
    const { index, code, message, detail } = outcome.error;
    return { ok: false, error: { index, code, detail, message: `Write ${index + 1} of ${actions.length} was refused, so none of them was saved: ${message}` } };
  }

  #afterWrite() {
    this.engine.notifyWrite();
    this.#changed();
  }

  /** Coalesces bursts (a 50,000-change pull) into at most one "changed" every 100 ms. */
  #changed() {
    if (this.#changedTimer || this.#stopped) return;
    this.#changedTimer = setTimeout(() => {
      this.#changedTimer = null;
      this.#emit({ type: "changed" });
      this.#emitStatus();
    }, 100);
  }

  #emitStatus() {
    if (this.#stopped) return;
    this.#emit({ type: "status", status: this.status() });
  }

  #emit(event: AppEvent) {
    if (this.#stopped) return;
    for (const l of this.#listeners) l(event);
  }
}
