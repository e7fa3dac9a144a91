/**
 * The session: everything the sync machine does on one connection, as an XState callback actor.
 *
 * It opens the socket, speaks the protocol (protocol/messages.ts), applies what arrives to the local
 * store, and reports summarised events (SESSION.*) to the machine, which decides what comes next.
 * Inbound frames and the machine's commands are processed strictly one after another (`#chain`): a
 * PULL must read the cursor after the live changes before it were applied, and verdicts apply in
 * arrival order. What it keeps about the connection is one value, `SessionState`.
 */
import { fromCallback } from "xstate";
import { type Change, ChunkAssembler, type Chunk, CLOSE_CODES, type ClientMessage, DAY_REPORTS_SINCE, decodeServerMessage, DELTAS_SINCE, ECHO_OPTIONAL_SINCE, type WireChange, type ErrorMessage, FRAME_LIMIT_BYTES, type LeaseRequest, type Leases, type LeaseResult, type DayReportIssued, LIVE_UNREAD_BUDGET_BYTES, MAX_ASSEMBLED_MESSAGE_BYTES, MAX_PULL_PAGE_CHANGES, PROTOCOL_VERSION, type Push, type QueueReport, type ServerMessage, splitIntoChunks, utf8ByteLength } from "../../protocol/index.js";
import { type EventId, type TillDay, type TransferId } from "../../domain/index.js";
import { unreachable } from "../../lib/result.js";
import type { SessionCommand, SessionEvent } from "../../machines/index.js";
import type { LocalStore } from "../store/local-store.js";
import { resolveChanges } from "./deltas.js";
import { LEASE_WORDS, type LeaseUnanswered } from "./leases.js";
import { StatusReports } from "./status-report.js";
import { type OpenSocket, type Socket, syncUrl, WS_CLOSE } from "./transport.js";

/**
 * After a ping, the socket is taken for dead when no frame at all arrives within this long: the
 * session closes it and the machine backs off and reconnects. A half-open connection (the peer or
 * a middlebox gone without a FIN) otherwise looks open until the OS gives up, minutes later.
 * 10 s as docs/protocol/wire.md#heartbeat suggests: the idle ping is answered by the runtime itself, so a
 * healthy connection answers within a round trip; a busy branch's frames count as answers too.
 */
export const PONG_TIMEOUT_MS = 10_000;

/**
 * A connection that only listens says it is keeping up once it has read this much of `live` since it
 * last sent anything: half the branch's unread budget. The branch counts what it sends a connection
 * without a frame from it, and past LIVE_UNREAD_BUDGET_BYTES sends `poke`s instead, which a device
 * answers by pulling, behind every push in the branch's queue (docs/protocol/wire.md, "poke"). A device
 * that applies what it is sent sends a `ping` (READING_NONCE, answered by the branch itself, which is
 * what resets the count) before that: in the side-by-side bench, device B was poked 20 times while A
 * pushed 10,000 records and ended 200-400 ms behind A, catching up by pulls. A device that stops
 * applying sends nothing, so the budget still bounds what a slow one is sent (I12).
 */
export const READ_ACK_CHARS = LIVE_UNREAD_BUDGET_BYTES / 2;
/** The ping that says "still reading": not the idle heartbeat's 0, which the runtime answers without the branch (wire.md, "Heartbeat"). */
export const READING_NONCE = 1;

/** The timers the session uses (the pong deadline); the engine passes its own (EngineTimers). */
export interface SessionTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SessionOptions {
  store: LocalStore;
  openSocket: OpenSocket;
  /** Chunked uploads in progress, by batch id: kept across sessions so an upload resumes. */
  uploads: Map<string, Chunk[]>;
  /** Client identification for the server's audit log. */
  app: string;
  /** Changes applied per transaction before yielding to the event loop (I8). */
  sliceSize?: number;
  /** Every applied change, for `watch` and the UI. */
  onChanges?: (changes: readonly Change[], origin: "pull" | "live") => void;
  /**
   * This device's own events confirmed (`count` of them): their entities are now synced as the server
   * committed them. Since v11 their changes do not come back (`onChanges` does not hear of them), so the
   * UI refreshes on this.
   */
  onConfirmed?: (count: number) => void;
  /** Diagnostics. */
  onLog?: (line: string) => void;
  /**
   * v7: the branch's leases in force, as `welcome` carries them and `leases` sends them whenever they
   * change; only while the connection is open, so nothing stale arrives after `onDisconnected`.
   */
  onLeases?: (leases: Leases) => void;
  /** v7: the answer to a lease request this device sent (also when it arrives just after a close). */
  onLeaseResult?: (result: LeaseResult) => void;
  /**
   * v10: the branch issued a day's report (a close, an amendment). The session has already answered
   * it with a `status` (the till's days), so the branch can confirm the till for the day at once.
   */
  onDayReport?: (issued: DayReportIssued) => void;
  /**
   * v7: a lease request (the machine's LEASE) the branch will not answer with `lease_result`: not
   * sent (not welcomed yet, or closed), lost with the connection, or answered by an `error`.
   */
  onLeaseUnanswered?: (answer: LeaseUnanswered) => void;
  /** The connection ended (closed, or the machine stopped the session): what it said is stale. Once. */
  onDisconnected?: () => void;
  /**
   * Tells the session when the local queue may have changed without it seeing (a local write, a
   * write by another process): it subscribes while connected and reports the queue (`status`, v6).
   * Verdicts it applies itself. Without it, queue changes are reported with the periodic status.
   */
  queueChanges?: (listener: () => void) => () => void;
  /** The snapshot bootstrap (issue 5). Without it BOOTSTRAP succeeds at once and pulling starts at 0. */
  bootstrap?: () => Promise<void>;
  /**
   * v9: the branch compacted its log past this device's cursor: `welcome.compacted_through` (its
   * value) or a pull answered `history_compacted` (null: the point is not said). The machine bootstraps
   * again next; the engine checks that the bootstrap got past the point (docs/protocol/compaction.md).
   */
  onHistoryCompacted?: (compactedThrough: number | null) => void;
  /**
   * Injected for deterministic simulation (STYLE.md §7); the defaults are what the app uses.
   * `timers`: the pong deadline's and the status reports' timers (default: the global timers).
   * `yieldToEventLoop`: how applying changes yields between slices (default: `setImmediate`).
   * `newRequestId`: the `request_id` of a pull (default: `crypto.randomUUID`).
   * `pullPageLimit`: `limit` of a pull (default: MAX_PULL_PAGE_CHANGES); smaller pages exercise paging.
   * `maxBatchEvents`: events per push at most (default: MAX_BATCH_EVENTS); smaller batches put
   * several in flight with few writes.
   */
  timers?: SessionTimers;
  /**
   * The version said in hello (default PROTOCOL_VERSION). An older one makes this session that
   * version's client on the wire, which the tests of older desktops against this server use (the
   * messages it decodes are a superset of the older version's).
   */
  protocolVersion?: number;
  yieldToEventLoop?: () => Promise<void>;
  newRequestId?: () => string;
  pullPageLimit?: number;
  maxBatchEvents?: number;
}

export const DEFAULT_SLICE_SIZE = 100;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
const GLOBAL_TIMERS: SessionTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Errors after which an upload cannot continue as it is: it is forgotten and sent again from chunk 0. */
const UPLOAD_RESTART_CODES: ReadonlySet<ErrorMessage["code"]> = new Set(["transfer_expired", "checksum_mismatch", "chunk_invalid"]);

/**
 * A request sent on this connection and not answered yet, by the id the server names it with
 * (in `changes.request_id`, `verdicts.batch_id`, `upload_state.transfer_id`, `error.in_reply_to`).
 */
type PendingRequest =
  /**
   * `ahead`: sent as soon as the page before it arrived (with `more`), before applying that page,
   * so the server builds page k+1 while this device applies page k. The machine's next PULL is then
   * already answered and is not sent again. Any page is valid whenever it is applied: the store
   * applies only the change right after its cursor and stops at a gap, and the machine pulls again
   * from the cursor if the page left it short.
   */
  | { kind: "pull"; requestId: string; ahead: boolean }
  /**
   * How the batch went out: in one `frame`, in `chunks` (transfer id = batch id), or `resuming`: an
   * `upload_query` went out for an upload begun on an earlier connection, and its `upload_state`
   * says from which chunk to continue.
   */
  | { kind: "push"; batchId: string; upload: "frame" | "chunks" | "resuming" }
  /** v7: a `lease` request, answered by `lease_result` (or an `error` naming it). */
  | { kind: "lease"; requestId: string; request: LeaseRequest };

/**
 * The session's protocol state, one value (STYLE.md §5):
 *  - `connecting`: the socket is not open yet.
 *  - `open`: the requests in flight, the pong deadline while a ping waits for any frame, the queue
 *    the hello carried (read when it went out), whether `welcome` came (a lease request goes out
 *    only after it), and once welcomed the status reports (v6).
 *  - `closed`: the socket closed or the machine stopped the session: nothing more is reported
 *    (frames and commands already queued still run, so what arrived is still applied).
 */
type SessionState =
  | { phase: "connecting" }
  | {
      phase: "open";
      requests: Map<string, PendingRequest>;
      pongDeadline: { handle: unknown } | null;
      hello: { cursor: number; queue: QueueReport; pos_days?: TillDay[]; atMs: number } | null;
      welcomed: boolean;
      reports: StatusReports | null;
    }
  | { phase: "closed" };

/** What an `error`'s `in_reply_to` designates. */
type Addressee =
  /** null or absent: a v1-v3 server, a frame it could not read that far, or a fatal close. */
  | { to: "unnamed" }
  /** An id that names no request in flight (answered already, or never ours). */
  | { to: "unknown"; id: string }
  | { to: "request"; request: PendingRequest };

export function sessionActor(options: SessionOptions) {
  return fromCallback<SessionCommand>(({ sendBack, receive }) => new Session(options, sendBack).start(receive));
}

class Session {
  #socket: Socket | null = null;
  #chain: Promise<void> = Promise.resolve();
  #state: SessionState = { phase: "connecting" };
  /** Characters of `live` and `poke` read since this connection last sent a frame (READ_ACK_CHARS). */
  #readSinceSent = 0;
  #assembler = new ChunkAssembler();
  /** A delta could not be made whole: the next pull asks for whole entities (v9 `full`). */
  #fullNextPull = false;

  constructor(
    private readonly o: SessionOptions,
    private readonly sendBack: (event: SessionEvent) => void,
  ) {}

  start(receive: (listener: (command: SessionCommand) => void) => void): () => void {
    const cfg = this.o.store.config();
    if (!cfg) {
      this.#report({ type: "SESSION.CLOSED", code: CLOSE_CODES.unauthorized, reason: "unauthorized" });
      this.#state = { phase: "closed" };
      return () => {};
    }
    this.#socket = this.o.openSocket(syncUrl(cfg.server_url, cfg.branch_id, cfg.token), {
      open: () => this.#opened(),
      message: (text) => {
        this.#heard();
        this.#enqueue(() => this.#frame(text));
      },
      closed: (code, reason) => this.#closed(code, reason),
    });
    receive((command) => this.#enqueue(() => this.#command(command)));
    const unsubscribe = this.o.queueChanges?.(() => this.#queueMayHaveChanged()) ?? (() => {});
    return () => {
      unsubscribe();
      this.#stopPongDeadline();
      this.#stopReports();
      this.#ended();
      this.#socket?.close(WS_CLOSE.normal, "client_closed");
    };
  }

  // ───────────────────────────── the connection ─────────────────────────────

  #opened(): void {
    if (this.#state.phase !== "connecting") return;
    this.#state = { phase: "open", requests: new Map(), pongDeadline: null, hello: null, welcomed: false, reports: null };
    this.#readSinceSent = 0;
    this.#report({ type: "SESSION.OPEN" });
  }

  #closed(code: number, reason: string): void {
    this.#stopPongDeadline();
    this.#stopReports();
    this.#report({ type: "SESSION.CLOSED", code, reason });
    this.#ended();
  }

  /**
   * The connection is over: the leases it told are stale (said at once), and the lease requests it
   * carried will get no answer on it. Those are answered "offline" after the frames already queued,
   * so a `lease_result` that arrived just before the close still wins.
   */
  #ended(): void {
    const state = this.#state;
    this.#state = { phase: "closed" };
    if (state.phase === "closed") return;
    this.o.onDisconnected?.();
    if (state.phase !== "open") return;
    const lost = [...state.requests.values()].flatMap((r) => (r.kind === "lease" ? [r] : []));
    if (lost.length === 0) return;
    this.#enqueue(async () => {
      for (const { requestId, request } of lost) {
        this.o.onLeaseUnanswered?.({ outcome: "offline", action: request.action, request_id: requestId, code: null, message: LEASE_WORDS.connectionLost });
      }
      return null;
    });
  }

  /** Any frame proves the connection alive: the ping's deadline is met. */
  #heard(): void {
    this.#stopPongDeadline();
  }

  #startPongDeadline(): void {
    const state = this.#state;
    if (state.phase !== "open" || state.pongDeadline) return; // an earlier ping's deadline still runs
    const timers = this.o.timers ?? GLOBAL_TIMERS;
    const deadline = {
      handle: timers.setTimeout(() => {
        if (state.pongDeadline !== deadline) return;
        state.pongDeadline = null;
        this.o.onLog?.(`no frame within ${PONG_TIMEOUT_MS} ms of a ping: the connection is dead`);
        // The transport reports this close (SESSION.CLOSED): the machine backs off and reconnects.
        this.#socket?.close(WS_CLOSE.normal, "pong_timeout");
      }, PONG_TIMEOUT_MS),
    };
    state.pongDeadline = deadline;
  }

  #stopPongDeadline(): void {
    const state = this.#state;
    if (state.phase !== "open" || !state.pongDeadline) return;
    (this.o.timers ?? GLOBAL_TIMERS).clearTimeout(state.pongDeadline.handle);
    state.pongDeadline = null;
  }

  // ───────────────────────────── status reports (v6) ─────────────────────────────

  /** The hello was admitted: from now on the branch hears this device's queue when it changes. */
  #startReports(): void {
    const state = this.#state;
    if (state.phase !== "open" || state.reports || !state.hello) return;
    const store = this.o.store;
    state.reports = new StatusReports(
      {
        timers: this.o.timers ?? GLOBAL_TIMERS,
        nowMs: () => store.nowMs(),
        read: () => ({ cursor: store.cursor(), queue: store.queueReport(), ...this.#posDays() }),
        send: (status) => this.#send(status),
      },
      state.hello,
    );
    // What changed between the hello and its welcome.
    state.reports.queueMayHaveChanged();
  }

  #queueMayHaveChanged(): void {
    if (this.#state.phase === "open") this.#state.reports?.queueMayHaveChanged();
  }

  /**
   * v10: the till's account of its business days (LocalStore.tillDays), for hello and every status;
   * nothing for an older protocol, nor before the device knows its branch's zone (its first hello:
   * days counted in UTC could name the wrong ones; the status after the welcome says them right).
   */
  #posDays(): { pos_days?: TillDay[] } {
    const store = this.o.store;
    if ((this.o.protocolVersion ?? PROTOCOL_VERSION) < DAY_REPORTS_SINCE || !store.config()?.time_zone) return {};
    return { pos_days: store.tillDays(store.nowMs()) };
  }

  #stopReports(): void {
    if (this.#state.phase !== "open") return;
    this.#state.reports?.stop();
    this.#state.reports = null;
  }

  #report(event: SessionEvent) {
    if (this.#state.phase !== "closed") this.sendBack(event);
  }

  #enqueue(work: () => Promise<SessionEvent | null>) {
    this.#chain = this.#chain
      .then(work)
      .then((event) => {
        if (event) this.#report(event);
      })
      .catch((error: unknown) => {
        // A bug or a broken store: say so and drop the connection; the machine backs off and retries.
        this.o.onLog?.(`session error: ${error instanceof Error ? error.stack : String(error)}`);
        this.#report({ type: "SESSION.ERROR", code: "client_error", message: String(error) });
        this.#socket?.close(WS_CLOSE.internalError, "client_error");
      });
  }

  /** Every frame out: typed by the protocol. `text` when the caller serialised it already (to measure it). */
  #send(message: ClientMessage, text = JSON.stringify(message)) {
    this.#readSinceSent = 0; // any frame tells the branch this connection reads (READ_ACK_CHARS)
    this.#socket?.send(text);
  }

  // ───────────────────────────── requests in flight ─────────────────────────────

  /** Remembers a request sent, while the socket is open (before, nothing goes out; after, nothing comes back). */
  #track(request: PendingRequest): void {
    if (this.#state.phase === "open") this.#state.requests.set(requestIdOf(request), request);
  }

  /** The request in flight with this id, forgotten (it is answered). */
  #settle(id: string): PendingRequest | null {
    if (this.#state.phase !== "open") return null;
    const request = this.#state.requests.get(id) ?? null;
    this.#state.requests.delete(id);
    return request;
  }

  #pending(id: string): PendingRequest | null {
    return this.#state.phase === "open" ? (this.#state.requests.get(id) ?? null) : null;
  }

  #pullAhead(): PendingRequest | null {
    if (this.#state.phase !== "open") return null;
    for (const request of this.#state.requests.values()) if (request.kind === "pull" && request.ahead) return request;
    return null;
  }

  #pull(since: number, ahead: boolean): void {
    const requestId = this.o.newRequestId?.() ?? crypto.randomUUID();
    this.#track({ kind: "pull", requestId, ahead });
    // After a delta this device could not make whole: the next page comes with whole entities (v9).
    const full = this.#fullNextPull;
    this.#fullNextPull = false;
    this.#send({ type: "pull", request_id: requestId, since, limit: this.o.pullPageLimit ?? MAX_PULL_PAGE_CHANGES, ...(full ? { full: true } : {}) });
  }

  /**
   * A message's changes made whole (deltas.ts) against what this device holds. When one cannot be,
   * the changes before it are returned, it is logged, and the next pull asks for whole entities.
   */
  #resolve(changes: readonly WireChange[]): { changes: Change[]; complete: boolean } {
    const store = this.o.store;
    const resolved = resolveChanges(changes, store.cursor(), (id) => store.base(id));
    if (resolved.failed === null) return { changes: resolved.changes, complete: true };
    this.#fullNextPull = true;
    this.o.onLog?.(`change ${resolved.failed.seq} came as a delta this device cannot apply (${resolved.failed.reason}): pulling it whole`);
    return { changes: resolved.changes, complete: false };
  }

  // ───────────────────────────── the machine's commands ─────────────────────────────

  async #command(command: SessionCommand): Promise<SessionEvent | null> {
    const store = this.o.store;
    switch (command.type) {
      case "HELLO": {
        // v6: the queue as it is now, for the branch's dashboard; later changes go in `status`.
        const queue = store.queueReport();
        // v10: and its business days (the till's proof for a closed day).
        const days = this.#posDays();
        if (this.#state.phase === "open") this.#state.hello = { cursor: store.cursor(), queue, ...days, atMs: store.nowMs() };
        const version = this.o.protocolVersion ?? PROTOCOL_VERSION;
        this.#send({
          type: "hello",
          protocol_version: version,
          device_id: store.deviceId,
          cursor: store.cursor(),
          app: this.o.app,
          // One install per device id (a copied token or database is refused), and this till's clock:
          // a wrong clock would book sales to the wrong day, so the server audits the skew.
          install_id: store.installId(),
          clock_ms: store.nowMs(),
          queue,
          // v9: this device keeps every entity as of its cursor (its base), so it can take changes as deltas (deltas.ts).
          ...(version >= DELTAS_SINCE ? { deltas: true } : {}),
          // v11: its own pushes' commits need not come back: applyVerdicts folds each into the base and
          // moves the cursor over it (sync-apply.ts cursorOver), and pulls what it could not.
          ...(version >= ECHO_OPTIONAL_SINCE ? { echo: false } : {}),
          ...days,
        });
        return null;
      }
      case "BOOTSTRAP":
        if (!this.o.bootstrap) return { type: "SESSION.BOOTSTRAPPED" };
        try {
          await this.o.bootstrap();
          return { type: "SESSION.BOOTSTRAPPED" };
        } catch (error) {
          return { type: "SESSION.BOOTSTRAP_FAILED", message: String(error) };
        }
      case "PULL":
        if (!this.#pullAhead()) this.#pull(store.cursor(), false);
        return null;
      case "PUSH_NEXT":
        return this.#pushNext(command.inFlight);
      case "PING":
        // The fixed heartbeat frame: answered by the runtime without waking a hibernated branch.
        this.#send({ type: "ping", nonce: 0 });
        this.#startPongDeadline();
        return null;
      case "CLOSE":
        this.#socket?.close(WS_CLOSE.normal, command.reason);
        return null;
      case "LEASE":
        this.#lease(command.request);
        return null;
      default:
        return unreachable(command, "session command");
    }
  }

  /**
   * Sends the batch that comes after the ones in flight (the machine keeps up to
   * MAX_BATCHES_IN_FLIGHT out; see machines/sync-machine.ts). The store gives the oldest unanswered
   * batch not in flight first (after a reconnect nothing is in flight: every batch without verdicts
   * goes again, same ids, in order), then new events. The socket keeps the order: the server handles
   * a connection's frames one at a time, in arrival order, and answers in the same order.
   */
  async #pushNext(inFlight: readonly string[]): Promise<SessionEvent> {
    const batch = this.o.store.nextBatch(this.o.maxBatchEvents, new Set(inFlight));
    if (!batch) return { type: "SESSION.QUEUE_EMPTY" };
    const batchId = batch.batch_id;
    // The store makes a batch id like an event id (and it doubles as the upload's transfer id).
    const push: Push = { type: "push", batch_id: batchId as EventId, events: batch.events };
    // The frame `JSON.stringify(push)` would make, from the events' texts the store measured them by.
    const text = `{"type":"push","batch_id":${JSON.stringify(batchId)},"events":[${batch.texts.join(",")}]}`;
    const chunked = utf8ByteLength(text) > FRAME_LIMIT_BYTES;
    if (!chunked) {
      this.#track({ kind: "push", batchId, upload: "frame" });
      this.#send(push, text);
    } else if (this.o.uploads.has(batchId)) {
      // Part of this upload may already be on the server: ask where to continue.
      this.#track({ kind: "push", batchId, upload: "resuming" });
      this.#send({ type: "upload_query", transfer_id: batchId as TransferId });
    } else {
      const chunks = await splitIntoChunks(text, batchId as TransferId);
      this.o.uploads.set(batchId, chunks);
      this.#track({ kind: "push", batchId, upload: "chunks" });
      for (const chunk of chunks) this.#send(chunk);
    }
    this.o.store.audit("push_sent", `batch ${batchId}: ${batch.events.length} event(s), ${text.length} characters`);
    return { type: "SESSION.BATCH_SENT", batchId, events: batch.events.length, chunked };
  }

  /**
   * v7: sends a lease request once the branch has welcomed this connection (before, the server would
   * not take it; after a close, nothing comes back): otherwise it is answered "offline" here.
   */
  #lease(request: LeaseRequest): void {
    const state = this.#state;
    if (state.phase !== "open" || !state.welcomed) {
      this.o.onLeaseUnanswered?.({ outcome: "offline", action: request.action, request_id: request.request_id, code: null, message: LEASE_WORDS.offline });
      return;
    }
    this.#track({ kind: "lease", requestId: request.request_id, request });
    this.#send(request);
  }

  // ───────────────────────────── frames from the server ─────────────────────────────

  async #frame(text: string): Promise<SessionEvent | null> {
    const decoded = decodeServerMessage(text);
    if (!decoded.ok) {
      this.o.onLog?.(`server sent an invalid frame: ${decoded.error.message}`);
      return { type: "SESSION.ERROR", code: decoded.error.code, message: decoded.error.message };
    }
    let message: ServerMessage = decoded.value;
    if (message.type === "chunk") {
      const joined = await this.#assembler.accept(message);
      if (!joined.ok) return { type: "SESSION.ERROR", code: joined.error.code, message: joined.error.message };
      if (joined.value === null) return null;
      const whole = decodeServerMessage(joined.value, MAX_ASSEMBLED_MESSAGE_BYTES);
      if (!whole.ok) return { type: "SESSION.ERROR", code: whole.error.code, message: whole.error.message };
      message = whole.value;
    }
    const event = await this.#dispatch(message);
    if (message.type === "live" || message.type === "poke") this.#read(text.length);
    return event;
  }

  /**
   * `chars` of `live` or `poke` read and handled (the branch counts a frame's text length against the
   * connection's budget): past READ_ACK_CHARS since this connection last sent a frame, it says so.
   */
  #read(chars: number): void {
    if (this.#state.phase !== "open") return;
    this.#readSinceSent += chars;
    if (this.#readSinceSent >= READ_ACK_CHARS) this.#send({ type: "ping", nonce: READING_NONCE });
  }

  async #dispatch(message: ServerMessage): Promise<SessionEvent | null> {
    const store = this.o.store;
    switch (message.type) {
      case "welcome":
        // The branch's zone decides which calendar day a sale belongs to (I13); it is fixed per
        // branch, so this is a no-op after the first connection.
        store.setTimeZone(message.time_zone);
        store.recordClockSkew(store.nowMs() - message.server_time_ms);
        // v5: the studio that heads this device's receipts and invoices, kept for printing offline.
        store.setStudio(message.studio);
        if (this.#state.phase === "open") {
          this.#state.welcomed = true;
          // v7: the leases in force as this connection opens; `leases` says when they change.
          this.o.onLeases?.({ type: "leases", leases: message.leases ?? [], server_time_ms: message.server_time_ms });
        }
        this.#startReports();
        {
          // v9: commits up to compacted_through left the branch's log; a cursor below it cannot pull on.
          const historyCompacted = (message.compacted_through ?? 0) > store.cursor();
          if (historyCompacted) {
            this.o.onLog?.(`the branch compacted its history through seq ${message.compacted_through}, past this device's cursor ${store.cursor()}: bootstrapping again, the queue kept`);
            this.o.onHistoryCompacted?.(message.compacted_through ?? null);
          }
          return { type: "SESSION.WELCOME", head: message.head, historyCompacted };
        }
      case "changes": {
        if (this.#settle(message.request_id)?.kind !== "pull") {
          // Applied all the same: a page is valid whenever it is applied (see PendingRequest).
          this.o.onLog?.(`changes for request ${message.request_id}, which is no pull in flight`);
        }
        // Made whole before the next page is asked for: a delta that cannot be applied is pulled again from it, whole.
        const page = this.#resolve(message.changes);
        const last = message.changes.at(-1);
        if (page.complete && message.more && last) this.#pull(last.seq, true);
        await this.#applyInSlices(page.changes, "pull");
        if (this.#state.phase === "open") {
          this.#state.reports?.cursorMoved();
        }
        return { type: "SESSION.PAGE_APPLIED", cursor: store.cursor(), more: message.more || !page.complete };
      }
      case "live": {
        const first = message.changes[0]!;
        if (first.seq > store.cursor() + 1) return { type: "SESSION.GAP" };
        // A delta that cannot be applied leaves the cursor before it: the gap below pulls it, whole.
        await this.#applyInSlices(this.#resolve(message.changes).changes, "live");
        if (this.#state.phase === "open") this.#state.reports?.cursorMoved();
        // A hole inside the message (never expected) is handled like any gap: pull.
        if (store.cursor() < message.head) return { type: "SESSION.GAP" };
        return { type: "SESSION.LIVE_APPLIED", cursor: store.cursor() };
      }
      case "poke":
        return message.head > store.cursor() ? { type: "SESSION.GAP" } : null;
      case "verdicts": {
        const before = store.cursor();
        const summary = store.applyVerdicts(message.batch_id, message.verdicts);
        this.#queueMayHaveChanged();
        if (summary.cursor !== before && this.#state.phase === "open") this.#state.reports?.cursorMoved();
        if (summary.confirmed > 0) this.o.onConfirmed?.(summary.confirmed);
        const complete = summary.open_in_batch === 0;
        if (complete) {
          this.o.uploads.delete(message.batch_id);
          this.#settle(message.batch_id);
        }
        const applied: SessionEvent = {
          type: "SESSION.VERDICTS_APPLIED",
          batchId: message.batch_id,
          confirmed: summary.confirmed,
          rejected: summary.rejected,
          complete,
        };
        // v11, echo off: a commit of ours the cursor could not move over will not come back live; a
        // pull brings it (once the queue is drained, or at once when live).
        if (!summary.behind || (this.o.protocolVersion ?? PROTOCOL_VERSION) < ECHO_OPTIONAL_SINCE) return applied;
        this.#report(applied);
        return { type: "SESSION.GAP" };
      }
      case "upload_state": {
        const push = this.#pending(message.transfer_id);
        if (push?.kind !== "push" || push.upload !== "resuming") return null; // an answer to a chunk: nothing to do
        push.upload = "chunks";
        const chunks = this.o.uploads.get(message.transfer_id) ?? [];
        for (const chunk of chunks.slice(message.next_index)) this.#send(chunk);
        return null;
      }
      case "error":
        return this.#serverError(message);
      case "pong": // its arrival met the ping's deadline (#heard)
      case "chunk": // a chunk inside a reassembled message: never sent by the server
        return null;
      case "leases":
        // v7: every lease in force on the branch, whenever they change (welcome carried the first). Not
        // after the close: the engine has forgotten the leases then, and these may be stale.
        if (this.#state.phase === "open") this.o.onLeases?.(message);
        return null;
      case "lease_result":
        // Told all the same when it is no request in flight (arrived just after a close): it is the
        // branch's answer, and the engine ignores an id nobody waits for.
        this.#settle(message.request_id);
        this.o.onLeaseResult?.(message);
        return null;
      case "day_report":
        // v10: a day closed or amended. A close is answered at once with this till's days, not a
        // second later: the branch confirms a till for the day from a report made after the close. An
        // amendment is not: it changes no other till's proof, and the till whose late sales made it
        // reports its drained queue as usual (a branch selling on after an early close would
        // otherwise have every till answer every sale).
        if (this.#state.phase === "open") {
          if (message.reason === "close") this.#state.reports?.reportNow();
          this.o.onDayReport?.(message);
        }
        return null;
      case "watching":
      case "observed":
        // Answers to `watch` (v6), which a desktop never sends: said, and otherwise ignored, like
        // any frame that answers nothing of ours.
        this.o.onLog?.(`server sent ${message.type}, but this device watches nothing: ignored`);
        return null;
      default:
        return unreachable(message, "server message");
    }
  }

  #addressee(inReplyTo: string | null | undefined): Addressee {
    if (inReplyTo === null || inReplyTo === undefined) return { to: "unnamed" };
    const request = this.#settle(inReplyTo);
    return request ? { to: "request", request } : { to: "unknown", id: inReplyTo };
  }

  /** A server `error`, matched to the request it answers when the server names it (`in_reply_to`). */
  #serverError(message: ErrorMessage): SessionEvent | null {
    const what = `server error ${message.code}${message.fatal ? " (fatal)" : ""}`;
    const addressee = this.#addressee(message.in_reply_to);
    switch (addressee.to) {
      case "unknown":
        this.o.onLog?.(`${what} answering ${addressee.id}, which is no request in flight: ignored: ${message.message}`);
        return null;
      case "unnamed": {
        // No name: it answers the oldest unanswered frame (docs/protocol/wire.md#non-fatal-errors), which may be a
        // pull sent ahead: forget that one, so the machine's next PULL goes out.
        const ahead = this.#pullAhead();
        if (ahead) this.#settle(requestIdOf(ahead));
        this.o.onLog?.(`${what}: ${message.message}`);
        if (UPLOAD_RESTART_CODES.has(message.code)) {
          // Which upload it was is not said: forget them all; each batch is sent again from scratch.
          this.o.uploads.clear();
          this.#socket?.close(WS_CLOSE.normal, "upload_restart");
        }
        return { type: "SESSION.ERROR", code: message.code, message: message.message };
      }
      case "request": {
        const request = addressee.request;
        const id = requestIdOf(request);
        this.o.onLog?.(`${what} answering ${request.kind} ${id}: ${message.message}`);
        if (request.kind === "lease") {
          // The asker hears it; the lifecycle has nothing to do (a fatal error closes the socket anyway).
          this.o.onLeaseUnanswered?.({ outcome: "error", action: request.request.action, request_id: id, code: message.code, message: message.message });
          return null;
        }
        if (request.kind === "pull" && message.code === "history_compacted") {
          // v9: compacted past this pull's `since` during the session: bootstrap again, the queue kept.
          this.o.onHistoryCompacted?.(null);
          return { type: "SESSION.HISTORY_COMPACTED" };
        }
        if (request.kind === "push" && UPLOAD_RESTART_CODES.has(message.code)) {
          // This upload cannot continue as it is: forget it; the batch is sent again from scratch.
          this.o.uploads.delete(request.batchId);
          this.#socket?.close(WS_CLOSE.normal, "upload_restart");
        }
        return { type: "SESSION.ERROR", code: message.code, message: message.message, answering: { request: request.kind, id } };
      }
      default:
        return unreachable(addressee, "error addressee");
    }
  }

  /** Applies changes a slice per transaction, yielding between slices so the UI never stalls (I8). */
  async #applyInSlices(changes: readonly Change[], origin: "pull" | "live"): Promise<number> {
    const size = this.o.sliceSize ?? DEFAULT_SLICE_SIZE;
    let applied = 0;
    for (let i = 0; i < changes.length; i += size) {
      const slice = changes.slice(i, i + size);
      const result = this.o.store.applyChanges(slice);
      applied += result.applied;
      if (result.applied > 0) this.o.onChanges?.(slice, origin);
      if (i + size < changes.length) await (this.o.yieldToEventLoop ?? yieldToEventLoop)();
    }
    return applied;
  }
}

/** The id a request goes by on the wire. */
function requestIdOf(request: PendingRequest): string {
  switch (request.kind) {
    case "pull":
      return request.requestId;
    case "push":
      return request.batchId;
    case "lease":
      return request.requestId;
    default:
      return unreachable(request, "request");
  }
}
