/**
 * The sync engine: the sync machine (machines/) run against the real session (partysocket + the
 * local store). Plain Node: the CLI runs it, and the Electron main process will host it.
 */
import { type Actor, createActor } from "xstate";
import { CONNECT_TIMEOUT_MS, type PublicStatus, publicStatus, syncMachine } from "../../machines/index.js";
import { type Change, type Chunk, compileServerDecoder, type DayReportIssued, type LeaseAction, type SnapshotManifest } from "../../protocol/index.js";
import { compileEventSchemas, type EntityId, type LeaseGroup } from "../../domain/index.js";
import type { LocalStore } from "../store/local-store.js";
import { bootstrap, type BootstrapProgress } from "./bootstrap.js";
import { describeStop, stopCause } from "../../machines/status-words.js";
import { type LeaseAnswer, LeaseBook, type LeaseOptions, type LeasesSeen } from "./leases.js";
import { sessionActor, type SessionOptions, type SessionTimers } from "./session.js";
import { openPartySocket, type OpenSocket } from "./transport.js";

export interface EngineOptions {
  store: LocalStore;
  app?: string;
  /** The socket factory; defaults to partysocket over `ws`. */
  openSocket?: OpenSocket;
  /** Randomness for backoff jitter (tests make it deterministic). */
  random?: () => number;
  onChanges?: (changes: readonly Change[], origin: "pull" | "live") => void;
  /** This device's own events were confirmed: their entities are synced now (session.ts `onConfirmed`). */
  onConfirmed?: (count: number) => void;
  onLog?: (line: string) => void;
  /** Called when a push came back with rejections (the UI shows the conflict inbox). */
  onConflicts?: () => void;
  /**
   * v10: the branch issued a day's report (a close, or an amendment by late POS commits). The session
   * has already answered it with this till's days (`status`); the app reads the report again. Also
   * `subscribeDayReports`, for listeners that come and go.
   */
  onDayReport?: (issued: DayReportIssued) => void;
  sliceSize?: number;
  /** Push batches in flight at most (default MAX_BATCHES_IN_FLIGHT; the simulation draws it, 1 included). */
  maxBatchesInFlight?: number;
  /** Progress of a snapshot bootstrap (a new device starts from the branch's latest snapshot). */
  onBootstrapProgress?: (progress: BootstrapProgress) => void;
  /**
   * The simulation's seam (test/sim): what downloads, verifies and stages the branch's newest snapshot
   * chain, returning its last manifest or null (default: desktop/sync/bootstrap.ts `bootstrap` with
   * `fetch` and `onBootstrapProgress`). The simulation stages its in-memory chain through the same
   * store API, synchronously; the download and verification are covered by e2e tests against workerd.
   * Everything else the engine does around a bootstrap (the compaction check) runs either way.
   */
  bootstrapper?: (store: LocalStore) => Promise<SnapshotManifest | null>;
  /**
   * Injected for deterministic simulation (STYLE.md §7); the defaults are what the app uses.
   * `timers`: the engine's housekeeping intervals, `untilDrained`'s timers, the sync machine's
   * delays (XState `clock`) and the session's pong deadline; default: the global timers.
   * `fetch`: how the snapshot bootstrap reaches the server; default: the global fetch.
   * The rest are passed to the session (desktop/sync/session.ts).
   */
  timers?: EngineTimers;
  /** A monotonic clock in ms: when the branch's leases arrived, to count them down (default: performance.now). */
  monotonicMs?: () => number;
  fetch?: typeof fetch;
  yieldToEventLoop?: SessionOptions["yieldToEventLoop"];
  newRequestId?: SessionOptions["newRequestId"];
  pullPageLimit?: SessionOptions["pullPageLimit"];
  maxBatchEvents?: SessionOptions["maxBatchEvents"];
  protocolVersion?: SessionOptions["protocolVersion"];
}

/**
 * Timers as the engine uses them; `setTimeout`/`clearTimeout` double as the sync machine's clock
 * and the session's timers.
 */
export interface EngineTimers extends SessionTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const GLOBAL_TIMERS: EngineTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
};

export const APP_NAME = "studiovault-desktop/0.1.0";
const QUEUE_POLL_MS = 2_000;
const CHECKPOINT_MS = 30_000;

export class SyncEngine {
  readonly #actor: Actor<typeof syncMachine>;
  readonly #uploads = new Map<string, Chunk[]>();
  readonly #timers: EngineTimers;
  /** The session's listener for queue changes it does not see (its status reports, v6). */
  readonly #queueListeners = new Set<() => void>();
  /** v10: who hears of the branch's day reports (subscribeDayReports). */
  readonly #dayReportListeners = new Set<(issued: DayReportIssued) => void>();
  /** v7: lease questions waiting for the branch, and the leases it last sent on this connection. */
  readonly #leases: LeaseBook;
  /**
   * v9: the branch compacted its log past this device's cursor (welcome, or a pull answered
   * `history_compacted`): the next bootstrap is a re-bootstrap, which must get the cursor past
   * `through` (0: the point was not said) or fail, so the machine backs off instead of pulling into
   * the same refusal again. Null once a bootstrap got past it.
   */
  #compacted: { through: number } | null = null;

  constructor(private readonly options: EngineOptions) {
    // Every frame from the server is decoded, and every local write and every event a batch reads back
    // is checked: both compiled once per process, here at start-up rather than on the first frame or
    // write (protocol/wire.ts compileServerDecoder, about 20-70 ms; domain/events.ts
    // compileEventSchemas, about 12 ms, which took a fresh process's writeMany of 10,000 creates from
    // 65-69 to 57 µs of CPU each).
    compileServerDecoder();
    compileEventSchemas();
    this.#timers = options.timers ?? GLOBAL_TIMERS;
    const leases = new LeaseBook({
      timers: this.#timers,
      monotonicMs: options.monotonicMs ?? (() => performance.now()),
      newRequestId: options.newRequestId ?? (() => crypto.randomUUID()),
    });
    this.#leases = leases;
    const machine = syncMachine.provide({
      actors: {
        session: sessionActor({
          store: options.store,
          // partysocket's own connect timeout is the machine's: whichever fires first ends the attempt.
          openSocket: options.openSocket ?? openPartySocket(CONNECT_TIMEOUT_MS),
          uploads: this.#uploads,
          app: options.app ?? APP_NAME,
          sliceSize: options.sliceSize,
          onChanges: options.onChanges,
          onConfirmed: options.onConfirmed,
          onLog: options.onLog,
          onLeases: (message) => leases.seen(message),
          onLeaseResult: (result) => leases.answered(result),
          onLeaseUnanswered: (answer) => leases.answered(answer),
          onDayReport: (issued) => {
            options.onDayReport?.(issued);
            for (const listener of [...this.#dayReportListeners]) listener(issued);
          },
          onDisconnected: () => leases.disconnected(),
          bootstrap: () => this.#bootstrap(),
          onHistoryCompacted: (through) => {
            this.#compacted = { through: Math.max(through ?? 0, this.#compacted?.through ?? 0) };
          },
          timers: this.#timers,
          queueChanges: (listener) => {
            this.#queueListeners.add(listener);
            return () => void this.#queueListeners.delete(listener);
          },
          yieldToEventLoop: options.yieldToEventLoop,
          newRequestId: options.newRequestId,
          pullPageLimit: options.pullPageLimit,
          maxBatchEvents: options.maxBatchEvents,
          protocolVersion: options.protocolVersion,
        }),
      },
      actions: { conflictsRaised: () => options.onConflicts?.() },
    });
    // A device that never synced starts from the branch's snapshot rather than from seq 0.
    const needsBootstrap = options.store.cursor() === 0 && options.store.snapshotSeq() === null;
    this.#actor = createActor(machine, {
      // The store's injected clock stamps when a retry is due (the app counts down on the same clock).
      input: { online: false, needsBootstrap, random: options.random, now: () => options.store.nowMs(), maxBatchesInFlight: options.maxBatchesInFlight },
      // Without injected timers, XState's own default clock (the global timers) as before.
      ...(options.timers ? { clock: options.timers } : {}),
    });
  }

  /**
   * The snapshot bootstrap (desktop/sync/bootstrap.ts), the first one and a re-bootstrap after
   * compaction alike: the store keeps every queued event across it (pending and sent), and the machine
   * pushes them after; the branch answers those it decided already from its exactly-once record (I3).
   */
  async #bootstrap(): Promise<void> {
    const { store } = this.options;
    const compacted = this.#compacted;
    const cursorBefore = store.cursor();
    const manifest = this.options.bootstrapper
      ? await this.options.bootstrapper(store)
      : await bootstrap(store, { onProgress: this.options.onBootstrapProgress, ...(this.options.fetch ? { fetch: this.options.fetch } : {}) });
    if (!compacted) return;
    if (manifest === null || store.cursor() < compacted.through || store.cursor() <= cursorBefore) {
      throw new Error(
        `the branch compacted its history${compacted.through > 0 ? ` through seq ${compacted.through}` : ""} past this device's cursor ${cursorBefore}, and its newest snapshot ${manifest ? `(seq ${manifest.seq}) ` : ""}does not cover it yet: retrying later`,
      );
    }
    store.audit("rebootstrap", `bootstrapped again at seq ${manifest.seq}: the branch compacted its history past seq ${cursorBefore}; ${store.summary().pending} queued event(s) kept, sent next`);
    this.#compacted = null;
  }

  start(online = true): this {
    this.#actor.start();
    if (online) this.#actor.send({ type: "CONNECTIVITY.ONLINE" });
    // Another process (the CLI beside the app) may write to the same database without telling this
    // engine: look at the queue now and then while live. A COUNT on an index, cheap. The session's
    // status reports compare it with what the branch last heard (the same indexed read).
    this.#poll = this.#timers.setInterval(() => {
      if (this.status().kind === "live" && this.options.store.summary().pending > 0) this.notifyWrite();
      else this.#queueMayHaveChanged();
    }, QUEUE_POLL_MS);
    // Local writes never checkpoint (see LocalStore.open): do it here, in the background.
    this.#checkpoint = this.#timers.setInterval(() => this.options.store.checkpoint(), CHECKPOINT_MS);
    return this;
  }

  stop(): void {
    this.#timers.clearInterval(this.#poll);
    this.#timers.clearInterval(this.#checkpoint);
    this.#actor.stop();
    this.#leases.stop();
  }

  #poll: unknown;
  #checkpoint: unknown;

  /** A local write queued an event: push it now if live, and tell the branch the queue grew. */
  notifyWrite(): void {
    this.#actor.send({ type: "LOCAL_WRITE" });
    this.#queueMayHaveChanged();
  }

  #queueMayHaveChanged(): void {
    for (const listener of this.#queueListeners) listener();
  }

  setOnline(online: boolean): void {
    this.#actor.send({ type: online ? "CONNECTIVITY.ONLINE" : "CONNECTIVITY.OFFLINE" });
  }

  retryNow(): void {
    this.#actor.send({ type: "RETRY_NOW" });
  }

  tokenUpdated(): void {
    this.#actor.send({ type: "TOKEN_UPDATED" });
  }

  /**
   * v7: asks the branch for a lease on one entity's field group (domain/lease-groups.ts): `acquire`
   * (again to renew it, with `ttlMs`), `release` it, or, as an owner or manager, `break` another
   * device's (`reason`). Resolves with the branch's `lease_result`, or with why there is none
   * (desktop/sync/leases.ts: offline, timed out after LEASE_ANSWER_TIMEOUT_MS, a server error, an
   * invalid request); never rejects. Only a welcomed connection asks: otherwise "offline" at once.
   */
  lease(action: LeaseAction, entityId: EntityId | string, group: LeaseGroup | string, opts: LeaseOptions = {}): Promise<LeaseAnswer> {
    return this.#leases.ask(action, entityId, group, opts, (request) => {
      const kind = this.status().kind;
      if (kind !== "live" && kind !== "syncing") return false;
      this.#actor.send({ type: "LEASE", request });
      return true;
    });
  }

  /**
   * v7: the leases in force on the branch as it last said (on `welcome`, then whenever they change),
   * with the server's clock then and the monotonic clock on arrival (leaseRemainingMs counts one
   * down); null while not connected: leases seen before going offline are stale.
   */
  leases(): LeasesSeen | null {
    return this.#leases.current();
  }

  /** Called whenever `leases()` changes (null: the connection ended). */
  subscribeLeases(listener: (seen: LeasesSeen | null) => void): () => void {
    return this.#leases.subscribe(listener);
  }

  /**
   * v10: called whenever the branch issues a day's report (`day_report`: a day closed, or amended by
   * late POS commits) while this device is connected. Returns the unsubscribe.
   */
  subscribeDayReports(listener: (issued: DayReportIssued) => void): () => void {
    this.#dayReportListeners.add(listener);
    return () => void this.#dayReportListeners.delete(listener);
  }

  status(): PublicStatus {
    return publicStatus(this.#actor.getSnapshot());
  }

  subscribe(listener: (status: PublicStatus) => void): () => void {
    const sub = this.#actor.subscribe(() => listener(this.status()));
    return () => sub.unsubscribe();
  }

  /** Every queued event has a verdict, and the device has pulled its own commits back. */
  isDrained(): boolean {
    const store = this.options.store;
    return this.status().kind === "live" && store.summary().pending === 0 && store.cursor() >= store.maxConfirmedSeq();
  }

  /**
   * Resolves when drained; rejects when sync stops for good (auth failure, update required,
   * replaced) or after `timeoutMs`.
   */
  untilDrained(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const status = this.status();
        if (this.isDrained()) return finish(null);
        const cause = stopCause(status);
        if (cause) return finish(new Error(`sync stopped: ${describeStop(cause)}`));
      };
      const timer = this.#timers.setTimeout(() => finish(new Error(`not drained after ${Math.round(timeoutMs / 1000)} s (status: ${this.status().kind})`)), timeoutMs);
      const interval = this.#timers.setInterval(check, 200);
      const unsubscribe = this.subscribe(check);
      const finish = (error: Error | null) => {
        this.#timers.clearTimeout(timer);
        this.#timers.clearInterval(interval);
        unsubscribe();
        if (error) reject(error);
        else resolve();
      };
      check();
    });
  }
}
