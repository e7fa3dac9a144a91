/**
 * One branch over the browser's WebSocket: hello/welcome, following the branch (pull pages, then
 * live), pokes, chunked server messages, the heartbeat, pushes with their verdicts, the dashboard's
 * watch, and status reports; reconnecting with jittered backoff after a lost connection and never
 * after a terminal close. Browser globals only (WebSocket, fetch, crypto), all injectable.
 *
 * Every frame from the server is decoded with the protocol's ServerMessage schema before anything
 * reads it; a frame that does not decode is reported (`error`, source `frame`) and dropped.
 * Frames are handled strictly one after another (`#inbound`): reassembling a chunked message
 * awaits WebCrypto, and a `live` must not overtake the `changes` page that arrived before it.
 *
 * What the client keeps about its connection is one value, `Connection`; the public `state` is a
 * summary of it (Liveblocks' connection.ts does the same).
 */
import {
  type Change,
  isWholeChange,
  type WireChange,
  type Changes,
  ChunkAssembler,
  CLOSE_CODES,
  CLOSE_OUTCOMES,
  closeReasonOf,
  type ClientMessage,
  type CloseReason,
  decodeServerMessage,
  type ErrorMessage,
  FRAME_LIMIT_BYTES,
  type Hello,
  type Live,
  MAX_ASSEMBLED_MESSAGE_BYTES,
  MAX_BATCH_EVENTS,
  MAX_PULL_PAGE_CHANGES,
  type Observed,
  type Leases,
  type DayReportIssued,
  type LeaseResult,
  type Poke,
  type Push,
  PROTOCOL_VERSION,
  type QueueReport,
  type ServerMessage,
  STATUS_INTERVAL_MS,
  STATUS_MIN_INTERVAL_MS,
  utf8ByteLength,
  type Verdict,
  type Verdicts,
  type Watching,
  type Welcome,
} from "../protocol/index.js";
import type { SyncEvent } from "../domain/events.js";
import { backoffDelayMs } from "../machines/backoff.js";
import { unreachable } from "../lib/result.js";
import { BranchApi } from "./api.js";
import { Emitter } from "./emitter.js";
import { type ClientProblem, type ClosedInfo, SyncRequestError } from "./errors.js";
import { newRequestId, systemClock } from "./ids.js";

/**
 * An idle open connection is pinged this often, and taken for dead when no frame at all arrives
 * within PONG_TIMEOUT_MS of a ping: the desktop's values (machines/sync-machine.ts HEARTBEAT_MS,
 * desktop/sync/session.ts PONG_TIMEOUT_MS; test/node/client/constants.test.ts keeps them equal).
 * The ping is the exact frame the Cloudflare runtime answers itself without waking the branch.
 */
export const HEARTBEAT_MS = 25_000;
export const PONG_TIMEOUT_MS = 10_000;
/**
 * No socket `open` within CONNECT_TIMEOUT_MS of starting to connect, or no `welcome` within
 * HANDSHAKE_TIMEOUT_MS of the hello: give up on that connection and back off (the desktop's values,
 * machines/sync-machine.ts). Without them a connection that opens and then hears nothing would
 * stay `connecting` for good.
 */
export const CONNECT_TIMEOUT_MS = 15_000;
export const HANDSHAKE_TIMEOUT_MS = 15_000;
const IDLE_PING = '{"type":"ping","nonce":0}';

/** Standard close codes (RFC 6455 §7.4.1) the client sends or reads. */
const WS_NORMAL = 1000;
/** WebSocket.OPEN (readyState). */
const WS_OPEN = 1;

/**
 * The public summary of the connection:
 *  - `idle`: not started, or stopped;
 *  - `connecting`: a socket is opening or its hello waits for `welcome`;
 *  - `open`: welcomed; pushes are sent;
 *  - `offline`: the connection was lost; a retry is scheduled (backoff);
 *  - `closed`: a terminal close (`closed` says why); the client does not reconnect by itself.
 */
export type ClientState = "idle" | "connecting" | "open" | "offline" | "closed";

export interface ChangesEvent {
  /** Contiguous commits, oldest first: the first has seq = the previous cursor + 1. */
  changes: Change[];
  origin: "pull" | "live";
  /** The client's cursor after these changes (the last one's seq). */
  cursor: number;
  /** The branch's head as last heard. */
  head: number;
}

export interface ClientEvents {
  state: ClientState;
  welcome: Welcome;
  changes: ChangesEvent;
  poke: Poke;
  watching: Watching;
  observed: Observed;
  /** Since v7: every lease in force on the branch, after welcome and whenever they change. */
  leases: Leases;
  /** Since v7: the answer to a lease request. */
  lease_result: LeaseResult;
  /** v10: a business day's report was issued (closed, or amended by late sales): read it again. */
  day_report: DayReportIssued;
  error: ClientProblem;
  closed: ClosedInfo;
}

export interface TimerApi {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface BranchClientOptions {
  /** The server's origin, e.g. `http://127.0.0.1:8787`; the socket uses ws: or wss: to match. */
  server: string;
  branch: string;
  token: string;
  deviceId: string;
  /** This install's id, made once and kept (localStorage): two installs may not share a device id. */
  installId: string;
  /** For the server's audit log, e.g. `studiovault-dashboard/0.1.0`. */
  app: string;
  /** The last seq already applied (0 = none). With `follow: "live"` and no cursor: the welcome's head. */
  cursor?: number;
  /**
   * `all` (default): pull every commit after the cursor, then follow live. `live`: start at the
   * welcome's head (no history), then follow live; after a reconnect the gap is pulled.
   */
  follow?: "all" | "live";
  /**
   * The version said in hello (default PROTOCOL_VERSION). Frames are decoded with the current
   * schemas, so 5 to 7 work (v7's `leases` is optional in a welcome); an older version's welcome
   * (no `studio`) would not decode.
   */
  protocolVersion?: number;
  /** `limit` of each pull (default MAX_PULL_PAGE_CHANGES). */
  pullPageLimit?: number;
  /** Injected for tests (STYLE.md §7); the defaults are the browser's. */
  clock?: () => number;
  random?: () => number;
  WebSocket?: typeof WebSocket;
  fetch?: typeof fetch;
  timers?: TimerApi;
}

interface PendingPush {
  resolve(verdicts: Verdict[]): void;
  reject(error: SyncRequestError): void;
}

/** One socket and what belongs to it; a new connection gets a new Link, so stale callbacks see theirs is gone. */
interface Link {
  socket: WebSocket;
  assembler: ChunkAssembler;
  /** Frames handled one after another. */
  inbound: Promise<void>;
  /** The fatal error the server sent before closing, for the close's message. */
  fatal: ErrorMessage | null;
  /** The pull in flight (one at a time), and whether another is needed when it is answered. */
  pull: string | null;
  pullAgain: boolean;
  /** Pulls given up on (#repull): their pages, should they still come, are dropped without a word. */
  abandoned: Set<string>;
  /** The watch request in flight, if any. */
  watch: string | null;
  /** Pushes waiting for their verdicts, by batch id. */
  pushes: Map<string, PendingPush>;
  heartbeat: unknown;
  pongDeadline: unknown;
  /** Until the welcome: the connect, then the handshake deadline. */
  handshakeDeadline: unknown;
  statusTimer: { handle: unknown; kind: "trailing" | "periodic" } | null;
  lastStatusAtMs: number | null;
}

type Connection =
  | { phase: "idle" }
  | { phase: "connecting"; link: Link; opened: boolean }
  | { phase: "open"; link: Link; welcome: Welcome }
  /** `timer` is null while a failed connect's refusal is being asked about (#probeRefusal). */
  | { phase: "backoff"; timer: unknown }
  | { phase: "closed"; closed: ClosedInfo };

export class BranchClient {
  readonly api: BranchApi;
  readonly #o: Required<Omit<BranchClientOptions, "cursor">> & { cursor: number | undefined };
  readonly #events = new Emitter<ClientEvents>();
  #connection: Connection = { phase: "idle" };
  /** Failed attempts since the last welcome: the backoff's exponent. */
  #attempt = 0;
  #cursor: number | null;
  #head = 0;
  #lastWelcome: Welcome | null = null;
  #watching = false;
  #queue: QueueReport | null = null;
  /** Pushes run one batch at a time, in call order. */
  #pushChain: Promise<unknown> = Promise.resolve();

  constructor(options: BranchClientOptions) {
    const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#o = {
      server: options.server,
      branch: options.branch,
      token: options.token,
      deviceId: options.deviceId,
      installId: options.installId,
      app: options.app,
      cursor: options.cursor,
      follow: options.follow ?? "all",
      protocolVersion: options.protocolVersion ?? PROTOCOL_VERSION,
      pullPageLimit: options.pullPageLimit ?? MAX_PULL_PAGE_CHANGES,
      clock: options.clock ?? systemClock,
      random: options.random ?? Math.random,
      WebSocket: options.WebSocket ?? globalThis.WebSocket,
      fetch: fetchImpl,
      timers: options.timers ?? { setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms), clearTimeout: (h) => globalThis.clearTimeout(h as number) },
    };
    this.#cursor = options.cursor ?? (this.#o.follow === "all" ? 0 : null);
    this.api = new BranchApi({ server: options.server, branch: options.branch, token: options.token, protocolVersion: this.#o.protocolVersion, fetch: fetchImpl, clock: this.#o.clock });
  }

  get state(): ClientState {
    const c = this.#connection;
    switch (c.phase) {
      case "idle":
        return "idle";
      case "connecting":
        return "connecting";
      case "open":
        return "open";
      case "backoff":
        return "offline";
      case "closed":
        return "closed";
      default:
        return unreachable(c, "connection phase");
    }
  }

  /** Why the client stopped for good; null unless state is `closed`. */
  get closed(): ClosedInfo | null {
    return this.#connection.phase === "closed" ? this.#connection.closed : null;
  }

  /** The latest welcome (kept while offline); null before the first. */
  get welcome(): Welcome | null {
    return this.#lastWelcome;
  }

  /** The last seq applied (reported by `changes`); null with `follow: "live"` before the first welcome. */
  get cursor(): number | null {
    return this.#cursor;
  }

  on<K extends keyof ClientEvents>(name: K, fn: (value: ClientEvents[K]) => void): () => void {
    return this.#events.on(name, fn);
  }

  /** Connects (again, after `stop()` or a terminal close). */
  start(): void {
    if (this.#connection.phase === "connecting" || this.#connection.phase === "open") return;
    if (this.#connection.phase === "backoff" && this.#connection.timer !== null) this.#o.timers.clearTimeout(this.#connection.timer);
    this.#attempt = 0;
    this.#connect();
  }

  /** Closes the connection and stops reconnecting; waiting pushes reject with `stopped`. */
  stop(): void {
    const c = this.#connection;
    if (c.phase === "connecting" || c.phase === "open") this.#drop(c.link, new SyncRequestError("stopped", "the client was stopped"), WS_NORMAL, "client_stopped");
    if (c.phase === "backoff" && c.timer !== null) this.#o.timers.clearTimeout(c.timer);
    this.#set({ phase: "idle" });
  }

  /** Subscribes to the branch's dashboard feed now (when open) and again after every reconnect. */
  watch(): void {
    this.#watching = true;
    if (this.#connection.phase === "open") this.#sendWatch(this.#connection.link);
  }

  /**
   * Sends the events, in order, in batches of at most MAX_BATCH_EVENTS (smaller when a batch would
   * not fit one frame), one batch in flight; resolves with one verdict per event in the same order.
   * Rejects with a SyncRequestError when the client is not open or the connection ends first
   * (re-sending the same events is then safe: the server deduplicates by event id).
   */
  push(events: SyncEvent[]): Promise<Verdict[]> {
    const run = this.#pushChain.then(async () => {
      const verdicts: Verdict[] = [];
      for (const batch of this.#batches(events)) verdicts.push(...(await this.#pushBatch(batch)));
      return verdicts;
    });
    this.#pushChain = run.catch(() => undefined);
    return run;
  }

  /**
   * This device's queue, for the branch's dashboard: sent as `status` at once, or at most every
   * STATUS_MIN_INTERVAL_MS with the latest value (trailing), again every STATUS_INTERVAL_MS while
   * connected, and in every later hello. Protocol v6 and later only.
   */
  reportStatus(queue: QueueReport): void {
    this.#queue = queue;
    if (this.#connection.phase === "open") this.#scheduleStatus(this.#connection.link, "changed");
  }

  // ───────────────────────────── connecting ─────────────────────────────

  #connect(): void {
    const url = new URL(`/v1/branches/${encodeURIComponent(this.#o.branch)}/sync`, this.#o.server);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("token", this.#o.token);
    let socket: WebSocket;
    try {
      socket = new this.#o.WebSocket(url.toString());
    } catch (error) {
      // A malformed URL or a blocked port: no socket, nothing to wait for. Retried like a failed connect.
      this.#problem({ source: "unexpected", code: "connect_failed", message: String(error), in_reply_to: null });
      this.#retry();
      return;
    }
    socket.binaryType = "arraybuffer";
    const link: Link = {
      socket,
      assembler: new ChunkAssembler(),
      inbound: Promise.resolve(),
      fatal: null,
      pull: null,
      pullAgain: false,
      abandoned: new Set(),
      watch: null,
      pushes: new Map(),
      heartbeat: null,
      pongDeadline: null,
      handshakeDeadline: null,
      statusTimer: null,
      lastStatusAtMs: null,
    };
    this.#set({ phase: "connecting", link, opened: false });
    this.#deadline(link, CONNECT_TIMEOUT_MS, "connect_timeout");
    socket.onopen = () => {
      const c = this.#connection;
      if (c.phase !== "connecting" || c.link !== link) return;
      this.#set({ ...c, opened: true });
      this.#deadline(link, HANDSHAKE_TIMEOUT_MS, "handshake_timeout");
      this.#send(link, this.#hello());
    };
    socket.onmessage = (event: MessageEvent) => {
      if (!this.#current(link)) return;
      this.#heard(link);
      const data = event.data as string | ArrayBuffer;
      link.inbound = link.inbound.then(() => this.#frame(link, data)).catch((error: unknown) => {
        // A bug of ours while handling a frame: say so and start over on a new connection.
        this.#problem({ source: "unexpected", code: "client_bug", message: String(error), in_reply_to: null });
        if (this.#current(link)) this.#lostLink(link, 1011, "client_error");
      });
    };
    socket.onclose = (event: CloseEvent) => {
      if (!this.#current(link)) return;
      const wasOpen = this.#connection.phase === "open" || (this.#connection.phase === "connecting" && this.#connection.opened);
      // Frames already received are handled before the close is (a fatal error precedes its close).
      void link.inbound.then(() => {
        if (this.#current(link)) this.#closedBy(link, event.code, event.reason, wasOpen);
      });
    };
    // `error` is always followed by `close`, which carries what there is to know.
    socket.onerror = () => undefined;
  }

  /** Until the welcome, the connection is given up (and retried) when `ms` pass first. */
  #deadline(link: Link, ms: number, why: string): void {
    if (link.handshakeDeadline !== null) this.#o.timers.clearTimeout(link.handshakeDeadline);
    link.handshakeDeadline = this.#o.timers.setTimeout(() => {
      link.handshakeDeadline = null;
      if (this.#connection.phase === "connecting" && this.#connection.link === link) this.#lostLink(link, WS_NORMAL, why);
    }, ms);
  }

  #hello(): Hello {
    const hello: Hello = {
      type: "hello",
      protocol_version: this.#o.protocolVersion,
      device_id: this.#o.deviceId as Hello["device_id"],
      cursor: this.#cursor ?? 0,
      app: this.#o.app,
      install_id: this.#o.installId,
      clock_ms: Math.max(0, Math.round(this.#o.clock())),
    };
    if (this.#queue && this.#o.protocolVersion >= 6) hello.queue = this.#queue;
    return hello;
  }

  /** The socket closed (not by us). Terminal reasons stop; everything else backs off and retries. */
  #closedBy(link: Link, code: number, reason: string, wasOpen: boolean): void {
    const closeReason = closeReasonOf(code);
    if (closeReason !== null && isTerminal(closeReason)) {
      this.#drop(link, new SyncRequestError("connection_lost", `the server closed the connection: ${closeReason}`), null, "");
      this.#close({ code, reason: closeReason, message: link.fatal?.message ?? `the server closed the connection: ${closeReason}` });
      return;
    }
    if (closeReason === null && !wasOpen) {
      // The browser says nothing about a refused upgrade (just 1006). Ask the branch over plain
      // HTTP with the same token: the Worker checks the token before anything else and answers
      // 401/403 when it is the token; any other answer (or none) means it is not, and the retry goes on.
      this.#drop(link, new SyncRequestError("connection_lost", "the connection failed"), null, "");
      this.#set({ phase: "backoff", timer: null });
      void this.#probeRefusal().then((refused) => {
        const c = this.#connection;
        if (c.phase !== "backoff" || c.timer !== null) return; // stopped or restarted meanwhile
        if (refused) this.#close(refused);
        else this.#retry();
      });
      return;
    }
    this.#lostLink(link, null, reason || `close ${code}`);
  }

  async #probeRefusal(): Promise<ClosedInfo | null> {
    // `changes` takes every role and the smallest page; the sync URL itself answers 426 before it
    // looks at the token.
    const url = new URL(`/v1/branches/${encodeURIComponent(this.#o.branch)}/changes?since=0&limit=1`, this.#o.server);
    try {
      const response = await this.#o.fetch(url.toString(), { headers: { Authorization: `Bearer ${this.#o.token}` } });
      const reason: CloseReason | null = response.status === 401 ? "unauthorized" : response.status === 403 ? "forbidden" : null;
      if (reason === null) return null;
      const body = (await response.json().catch(() => null)) as { error?: unknown; message?: unknown } | null;
      const message = typeof body?.message === "string" ? body.message : `the server refused the token (HTTP ${response.status})`;
      // A revoked device's token is refused 403 `device_revoked` on HTTP; say which.
      const named = body?.error === "device_revoked" ? "device_revoked" : reason;
      return { code: response.status, reason: named, message };
    } catch {
      return null; // no answer at all: the network, not the token
    }
  }

  /** The connection is gone for a reason worth retrying: reject what waited on it and back off. */
  #lostLink(link: Link, sendClose: number | null, why: string): void {
    this.#drop(link, new SyncRequestError("connection_lost", `the connection was lost (${why}) before the answer`), sendClose, why);
    this.#retry();
  }

  #retry(): void {
    this.#attempt += 1;
    const delayMs = backoffDelayMs(this.#attempt, this.#o.random);
    const timer = this.#o.timers.setTimeout(() => {
      if (this.#connection.phase === "backoff" && this.#connection.timer === timer) this.#connect();
    }, delayMs);
    this.#set({ phase: "backoff", timer });
  }

  #close(closed: ClosedInfo): void {
    this.#set({ phase: "closed", closed });
    this.#emit("closed", closed);
  }

  /**
   * Ends a link: its timers, its socket (closed with `sendClose` when given; the handlers are
   * detached first, so its close is not handled again), and rejects every push waiting on it.
   */
  #drop(link: Link, error: SyncRequestError, sendClose: number | null, why: string): void {
    for (const timer of [link.heartbeat, link.pongDeadline, link.handshakeDeadline, link.statusTimer?.handle ?? null]) if (timer !== null) this.#o.timers.clearTimeout(timer);
    link.heartbeat = link.pongDeadline = link.handshakeDeadline = link.statusTimer = null;
    link.socket.onopen = link.socket.onmessage = link.socket.onclose = null;
    if (sendClose !== null) {
      try {
        link.socket.close(sendClose, why.slice(0, 100));
      } catch {
        link.socket.close();
      }
    }
    link.assembler.reset();
    for (const pending of link.pushes.values()) pending.reject(error);
    link.pushes.clear();
  }

  #current(link: Link): boolean {
    const c = this.#connection;
    return (c.phase === "connecting" || c.phase === "open") && c.link === link;
  }

  #set(next: Connection): void {
    const before = this.state;
    this.#connection = next;
    if (this.state !== before) this.#emit("state", this.state);
  }

  // ───────────────────────────── frames ─────────────────────────────

  async #frame(link: Link, data: string | ArrayBuffer): Promise<void> {
    if (!this.#current(link)) return;
    const decoded = decodeServerMessage(data, FRAME_LIMIT_BYTES);
    if (!decoded.ok) return this.#badFrame(decoded.error.code, decoded.error.message, data);
    const message = decoded.value;
    if (message.type !== "chunk") return this.#message(link, message);
    const assembled = await link.assembler.accept(message);
    if (!this.#current(link)) return;
    if (!assembled.ok) {
      this.#problem({ source: "chunk", code: assembled.error.code, message: assembled.error.message, in_reply_to: message.transfer_id });
      // The transfer is dropped: whatever it carried (a page, most likely) is asked for again.
      this.#repull(link);
      return;
    }
    if (assembled.value === null) return;
    const whole = decodeServerMessage(assembled.value, MAX_ASSEMBLED_MESSAGE_BYTES);
    if (!whole.ok) {
      this.#badFrame(whole.error.code, whole.error.message, assembled.value);
      this.#repull(link);
      return;
    }
    if (whole.value.type === "chunk") {
      this.#problem({ source: "unexpected", code: "nested_chunk", message: "a chunked message reassembled into another chunk", in_reply_to: message.transfer_id });
      return;
    }
    this.#message(link, whole.value);
  }

  #badFrame(code: string, message: string, data: string | ArrayBuffer): void {
    const size = typeof data === "string" ? utf8ByteLength(data) : data.byteLength;
    this.#problem({ source: "frame", code, message: `a server frame of ${size} bytes did not decode and was dropped: ${message}`, in_reply_to: null });
  }

  #message(link: Link, message: Exclude<ServerMessage, { type: "chunk" }>): void {
    switch (message.type) {
      case "welcome":
        return this.#welcomed(link, message);
      case "changes":
        return this.#page(link, message);
      case "live":
        return this.#live(link, message);
      case "poke":
        this.#head = Math.max(this.#head, message.head);
        this.#emit("poke", message);
        // Answered with a pull (a frame from us), or the server closes this connection as a slow consumer.
        if (link.pull === null) this.#pull(link);
        else link.pullAgain = true;
        return;
      case "verdicts":
        return this.#verdicts(link, message);
      case "error":
        return this.#error(link, message);
      case "watching":
        if (message.request_id === link.watch) link.watch = null;
        this.#head = Math.max(this.#head, message.head);
        this.#emit("watching", message);
        return;
      case "observed":
        this.#head = Math.max(this.#head, message.head);
        this.#emit("observed", message);
        return;
      case "leases":
        this.#emit("leases", message);
        return;
      case "lease_result":
        this.#emit("lease_result", message);
        return;
      case "day_report":
        this.#emit("day_report", message);
        return;
      case "pong":
        return; // any frame met the ping's deadline (#heard)
      case "upload_state":
        this.#problem({ source: "unexpected", code: "unexpected_message", message: `upload_state for transfer ${message.transfer_id}: this client uploads nothing`, in_reply_to: message.transfer_id });
        return;
      default:
        return unreachable(message, "server message");
    }
  }

  #welcomed(link: Link, welcome: Welcome): void {
    const c = this.#connection;
    if (c.phase !== "connecting" || c.link !== link) {
      this.#problem({ source: "unexpected", code: "unexpected_message", message: "a second welcome on one connection", in_reply_to: null });
      return;
    }
    this.#cursor ??= welcome.head; // follow "live": no history before the first welcome's head
    if (welcome.head < this.#cursor) {
      this.#drop(link, new SyncRequestError("connection_lost", "the branch is behind this client"), WS_NORMAL, "server_behind");
      this.#close({ code: WS_NORMAL, reason: "server_behind", message: `the branch's head is ${welcome.head}, below this client's cursor ${this.#cursor}: the branch was restored from an older copy; start again from 0` });
      return;
    }
    // v9: the commits after this client's cursor were compacted out of the log while it was away. It
    // keeps no entities to bootstrap again into, so it stops and says so (a dashboard reloads).
    const compacted = welcome.compacted_through ?? 0;
    if (compacted > this.#cursor) {
      this.#drop(link, new SyncRequestError("connection_lost", "the branch's history after this client's cursor was compacted"), WS_NORMAL, "history_compacted");
      this.#close({ code: WS_NORMAL, reason: "history_compacted", message: `the branch's history through seq ${compacted} was compacted while this client was at seq ${this.#cursor}: start again from the branch's head` });
      return;
    }
    if (link.handshakeDeadline !== null) this.#o.timers.clearTimeout(link.handshakeDeadline);
    link.handshakeDeadline = null;
    this.#attempt = 0;
    this.#head = welcome.head;
    this.#lastWelcome = welcome;
    this.#set({ phase: "open", link, welcome });
    this.#emit("welcome", welcome);
    if (this.#connection.phase !== "open" || this.#connection.link !== link) return; // a listener stopped us
    this.#beat(link);
    if (welcome.head > this.#cursor) this.#pull(link);
    if (this.#watching) this.#sendWatch(link);
    if (this.#queue) this.#scheduleStatus(link, "periodic");
  }

  #pull(link: Link): void {
    const request_id = newRequestId(this.#o.clock());
    link.pull = request_id;
    link.pullAgain = false;
    this.#send(link, { type: "pull", request_id, since: this.#cursor ?? 0, limit: this.#o.pullPageLimit });
  }

  /**
   * After a transfer was dropped: it may have been the answer to the pull in flight, so that pull
   * is given up (its page is ignored if it comes after all) and the client asks again from its cursor.
   */
  #repull(link: Link): void {
    if (!this.#current(link) || this.#connection.phase !== "open") return;
    if (link.pull !== null) link.abandoned.add(link.pull);
    this.#pull(link);
  }

  #page(link: Link, page: Changes): void {
    if (link.abandoned.delete(page.request_id)) return;
    if (page.request_id !== link.pull) {
      this.#problem({ source: "unexpected", code: "unexpected_message", message: `a changes page for request ${page.request_id}, which is not the pull in flight`, in_reply_to: page.request_id });
      return;
    }
    link.pull = null;
    this.#head = Math.max(this.#head, page.head);
    const fresh = this.#advance(page.changes);
    // Ask for the next page before this one is handed out (client-guide: ask on arrival); after a
    // gap, after news heard meanwhile, or while the head is ahead, pull again from the cursor.
    if (fresh === null || page.more || link.pullAgain || this.#head > (this.#cursor ?? 0)) this.#pull(link);
    if (fresh !== null) this.#emitChanges(fresh, "pull");
  }

  #live(link: Link, live: Live): void {
    this.#head = Math.max(this.#head, live.head);
    if (link.pull !== null) {
      link.pullAgain = true; // the page in flight or the next pull covers these
      return;
    }
    const fresh = this.#advance(live.changes);
    if (fresh === null) this.#pull(link);
    else this.#emitChanges(fresh, "live");
  }

  /**
   * Moves the cursor over the changes that continue it (seq = cursor + 1, + 2…), skipping those
   * already applied, and returns the new ones; null when they leave a gap (the caller pulls from
   * the cursor; the cursor moves only over contiguous seqs).
   */
  #advance(changes: readonly WireChange[]): Change[] | null {
    const fresh: Change[] = [];
    let cursor = this.#cursor ?? 0;
    for (const change of changes) {
      if (change.seq <= cursor) continue;
      if (change.seq !== cursor + 1) return null;
      if (!isWholeChange(change)) {
        // This client keeps no entities and never says `deltas` in its hello: a delta is the server's mistake.
        this.#problem({ source: "frame", code: "malformed_message", message: `change ${change.seq} came as a delta, which this client did not ask for; the cursor stays before it`, in_reply_to: null });
        break;
      }
      cursor = change.seq;
      fresh.push(change);
    }
    this.#cursor = cursor;
    return fresh;
  }

  #emitChanges(changes: Change[], origin: "pull" | "live"): void {
    if (changes.length === 0) return;
    this.#emit("changes", { changes, origin, cursor: this.#cursor ?? 0, head: this.#head });
  }

  #verdicts(link: Link, message: Verdicts): void {
    const pending = link.pushes.get(message.batch_id);
    if (!pending) {
      this.#problem({ source: "unexpected", code: "unexpected_message", message: `verdicts for batch ${message.batch_id}, which this client is not waiting for`, in_reply_to: message.batch_id });
      return;
    }
    link.pushes.delete(message.batch_id);
    pending.resolve(message.verdicts);
  }

  #error(link: Link, error: ErrorMessage): void {
    const inReplyTo = error.in_reply_to ?? null;
    if (error.fatal) {
      link.fatal = error; // its close follows; #closedBy reads it
    }
    this.#problem({ source: "server", code: error.code, message: error.message, in_reply_to: inReplyTo });
    if (inReplyTo === null) return;
    const push = link.pushes.get(inReplyTo);
    if (push) {
      link.pushes.delete(inReplyTo);
      push.reject(new SyncRequestError("server_error", error.message, error.code));
    } else if (inReplyTo === link.pull) {
      link.pull = null; // a refused pull is a bug of ours: reported, not retried in a loop
    } else if (inReplyTo === link.watch) {
      link.watch = null;
      // A role that may not observe stays refused: do not ask again after reconnects.
      if (error.code === "forbidden") this.#watching = false;
    }
  }

  #problem(problem: ClientProblem): void {
    this.#emit("error", problem);
  }

  /**
   * Hands `value` to the listeners of `name`. A listener that throws is reported as an `error`
   * (source `listener`) and the client goes on; one of the `error` listeners themselves goes to the
   * console instead (reporting it as an `error` could loop).
   */
  #emit<K extends keyof ClientEvents>(name: K, value: ClientEvents[K]): void {
    this.#events.emit(name, value, (thrown) => {
      if (name === "error") console.error(`a BranchClient "error" listener threw`, thrown);
      else this.#problem({ source: "listener", code: "listener_threw", message: `a "${String(name)}" listener threw: ${String(thrown)}`, in_reply_to: null });
    });
  }

  // ───────────────────────────── sending ─────────────────────────────

  #send(link: Link, message: ClientMessage): void {
    this.#sendText(link, JSON.stringify(message));
  }

  #sendText(link: Link, text: string): void {
    if (link.socket.readyState !== WS_OPEN) return; // its close is on the way
    link.socket.send(text);
  }

  #sendWatch(link: Link): void {
    const request_id = newRequestId(this.#o.clock());
    link.watch = request_id;
    this.#send(link, { type: "watch", request_id });
  }

  #batches(events: SyncEvent[]): SyncEvent[][] {
    const max = Math.min(MAX_BATCH_EVENTS, this.#lastWelcome?.limits.max_batch_events ?? MAX_BATCH_EVENTS);
    const batches: SyncEvent[][] = [];
    for (let i = 0; i < events.length; i += max) batches.push(events.slice(i, i + max));
    return batches;
  }

  async #pushBatch(events: SyncEvent[]): Promise<Verdict[]> {
    const c = this.#connection;
    if (c.phase !== "open") throw new SyncRequestError("not_open", `the client is ${this.state}, not open: nothing was sent`);
    const batch_id = newRequestId(this.#o.clock());
    const text = JSON.stringify({ type: "push", batch_id: batch_id as Push["batch_id"], events } satisfies ClientMessage);
    const frameLimit = Math.min(FRAME_LIMIT_BYTES, c.welcome.limits.frame_limit_bytes);
    if (utf8ByteLength(text) > frameLimit) {
      if (events.length === 1) throw new SyncRequestError("frame_too_large", `event ${events[0]!.id} alone is larger than a frame (${frameLimit} bytes); this client does not upload in chunks`);
      const half = Math.ceil(events.length / 2);
      return [...(await this.#pushBatch(events.slice(0, half))), ...(await this.#pushBatch(events.slice(half)))];
    }
    return new Promise<Verdict[]>((resolve, reject) => {
      c.link.pushes.set(batch_id, { resolve, reject });
      this.#sendText(c.link, text);
    });
  }

  /**
   * `changed`: send now if the last status is STATUS_MIN_INTERVAL_MS old, else once it is (reading
   * the latest queue then: a trailing send already waiting covers later changes). `periodic`: again
   * STATUS_INTERVAL_MS after the last send. A trailing send replaces a waiting periodic one (it is due sooner).
   */
  #scheduleStatus(link: Link, why: "changed" | "periodic"): void {
    if (this.#o.protocolVersion < 6) return;
    if (why === "changed" && link.statusTimer?.kind === "trailing") return;
    if (link.statusTimer !== null) this.#o.timers.clearTimeout(link.statusTimer.handle);
    link.statusTimer = null;
    const dueMs = why === "periodic" ? STATUS_INTERVAL_MS : link.lastStatusAtMs === null ? 0 : Math.max(0, link.lastStatusAtMs + STATUS_MIN_INTERVAL_MS - this.#o.clock());
    if (dueMs === 0) return this.#sendStatus(link);
    const handle = this.#o.timers.setTimeout(() => {
      link.statusTimer = null;
      if (this.#current(link)) this.#sendStatus(link);
    }, dueMs);
    link.statusTimer = { handle, kind: why === "periodic" ? "periodic" : "trailing" };
  }

  #sendStatus(link: Link): void {
    if (!this.#queue) return;
    link.lastStatusAtMs = this.#o.clock();
    this.#send(link, { type: "status", cursor: this.#cursor ?? 0, queue: this.#queue });
    this.#scheduleStatus(link, "periodic");
  }

  // ───────────────────────────── heartbeat ─────────────────────────────

  /** (Re)starts the idle ping: HEARTBEAT_MS after the last frame heard. */
  #beat(link: Link): void {
    if (link.heartbeat !== null) this.#o.timers.clearTimeout(link.heartbeat);
    link.heartbeat = this.#o.timers.setTimeout(() => {
      link.heartbeat = null;
      if (!this.#current(link)) return;
      this.#sendText(link, IDLE_PING);
      link.pongDeadline ??= this.#o.timers.setTimeout(() => {
        link.pongDeadline = null;
        // Half-open: no frame since the ping. Close it ourselves and reconnect.
        if (this.#current(link)) this.#lostLink(link, WS_NORMAL, "pong_timeout");
      }, PONG_TIMEOUT_MS);
    }, HEARTBEAT_MS);
  }

  /** Any frame proves the connection alive: the ping's deadline is met and the idle wait restarts. */
  #heard(link: Link): void {
    if (link.pongDeadline !== null) {
      this.#o.timers.clearTimeout(link.pongDeadline);
      link.pongDeadline = null;
    }
    if (this.#connection.phase === "open") this.#beat(link);
  }
}

/**
 * Close reasons after which the client does not reconnect by itself: the protocol's terminal ones
 * (CLOSE_OUTCOMES), and `superseded` too. The desktop retries after `superseded` (a stray older
 * connection of its one install just goes away); in a browser the usual cause is the same install
 * (one localStorage) open in a second tab, and two tabs retrying would take the connection from each
 * other in turn forever. So this tab stops and says so; the user picks the tab to keep.
 */
export function isTerminal(reason: CloseReason): boolean {
  return reason === "superseded" || CLOSE_OUTCOMES[reason] !== "backoff";
}

/** What to tell a person about a terminal close, and what to do. */
export function closedWords(closed: ClosedInfo): string {
  switch (closed.reason) {
    case "unauthorized":
      return "This sign-in is not valid any more (missing, malformed or expired token). Sign in again.";
    case "token_expired":
      return "This sign-in expired. Sign in again with a new token or sign-in code.";
    case "forbidden":
      return "This token is not for this branch, or its role may not do this.";
    case "device_revoked":
      return "A manager revoked this device. Sign in again with a sign-in code for a new device.";
    case "install_conflict":
      return "This token is in use by another device. Sign in with a sign-in code to get a token of your own.";
    case "superseded":
      return "This dashboard was opened in another tab or window, which now has the connection. Close this one or reload it to take the connection back.";
    case "replaced":
      return "The same device connected again elsewhere, which now has the connection.";
    case "protocol_too_old":
      return "This dashboard is too old for the server. Reload the page to update it.";
    case "server_behind":
      return "The branch was restored from an older copy. Reload the page.";
    case "history_compacted":
      return "The branch's older history was compacted while this dashboard was away. Reload the page.";
    case "protocol_too_new":
    case "handshake_required":
    case "protocol_violation":
    case "slow_consumer":
      return `The connection was closed (${closed.reason}).`;
    default:
      return unreachable(closed.reason, "close reason");
  }
}

/** The protocol's close code for a reason (re-exported for callers that show it). */
export const closeCodeOf = (reason: CloseReason): number => CLOSE_CODES[reason];
