/**
 * The connection protocol of one branch: handshake, dispatch, chunk reassembly, verdict replies and
 * live fan-out. Runtime-free: sockets are `Peer`s and the host supplies the set of open peers, so
 * this runs behind partyserver in workerd and over in-memory sockets in Node.
 *
 * Connections that sent `watch` (protocol v6) are also told what changed on the branch (`observed`),
 * right after each message, close or HTTP request that changed it (#flushObserved); v7 connections
 * are sent the branch's leases (`leases`) the same way when they changed (#flushLeases).
 *
 * Messages are handled strictly one at a time across all connections of the branch (`#serial`).
 * Storage work is synchronous, but hashing chunks awaits WebCrypto, and without the queue a second
 * frame could be handled in that gap and reorder a device's messages.
 */
import { CHUNK_RAW_BYTES, MAX_OBSERVED_REJECTIONS, MAX_WATCHED_DEVICES, type Observed, type Status, type Watch, Chunk as ChunkSchema, type Chunk, CLOSE_CODES, type CloseReason, decodeClientFrame, type ErrorMessage, FRAME_LIMIT_BYTES, type Hello, joinPieces, type Live, LIVE_UNREAD_BUDGET_BYTES, MAX_BATCH_EVENTS, MAX_EVENT_BYTES, MAX_UNANSWERED_POKES, MAX_PULL_PAGE_CHANGES, MIN_SUPPORTED_PROTOCOL_VERSION, type MessageErrorCode, PROTOCOL_VERSION, Pull, type PushFrame, type ServerMessage, splitIntoChunks, type Verdict, utf8ByteLength, verifyChunk, type Welcome, decodeWith, frameText, parseJson, PushFrame as PushFrameSchema, MAX_ASSEMBLED_MESSAGE_BYTES, sentAsIs, serverMessageFor, type LeaseRequest, type Leases, LEASES_SINCE, DELTAS_SINCE, COMPACTION_SINCE, DAY_REPORTS_SINCE, ECHO_OPTIONAL_SINCE, type DayReportIssued } from "../../protocol/index.js";
import { canDo, type DeviceId, type Role, type TransferId, type UserId } from "../../domain/index.js";
import { bytesFromBase64 } from "../../lib/bytes.js";
import { unreachable } from "../../lib/result.js";
import type { DeviceClaims } from "../../protocol/token.js";
import type { Actor } from "./actor.js";
import type { BranchCore } from "./branch.js";
import type { DeltasFor, LoggedChange } from "./log.js";

/** Who a connection is, from its verified token: fixed for the connection's life. */
interface SessionIdentity {
  device_id: DeviceId;
  user_id: UserId;
  role: Role;
  /** Token expiry, ms since epoch. */
  expires_at_ms: number;
}

/**
 * Per-connection state, one of three; a connection only moves forward through them. Kept small and
 * JSON-only: it survives hibernation as a socket attachment.
 */
export type Session =
  /** Connected, hello not read yet: its protocol version is not known, so errors use v1's shape. */
  | (SessionIdentity & { state: "awaiting_hello"; /** Malformed frames in a row. */ strikes: number })
  | (SessionIdentity & {
      state: "open";
      /** The version the client said hello with (MIN_SUPPORTED..PROTOCOL_VERSION): what it is answered in. */
      protocol_version: number;
      /** The install that said hello (v3+), null for v1/v2 clients. */
      install_id: string | null;
      strikes: number;
      /** It sent `watch` (v6) and is sent `observed`. Absent in attachments written before v6: false. */
      watching: boolean;
      /** Its hello (v9) said `deltas`: it is sent changes as deltas where the log has them. Absent before v9: false. */
      deltas?: boolean;
      /**
       * Its hello (v11) said `echo: false`: it is not sent its own pushes' commits in `live` (their
       * verdicts stand for them). Absent before v11, and in attachments written before it: false.
       */
      noEcho?: boolean;
    })
  /** Closed by the server (or the runtime): frames already queued for it are not handled (I12). */
  | (SessionIdentity & { state: "closed" });

/** The session once closed; the same session when it already was. */
export function sessionClosed(session: Session): Session {
  if (session.state === "closed") return session;
  const { device_id, user_id, role, expires_at_ms } = session;
  return { state: "closed", device_id, user_id, role, expires_at_ms };
}

/**
 * A session as a socket attachment holds it. Sockets that hibernated under the previous code hold
 * its flag-set shape ({ open, closed?, protocol_version?, install_id? }); they are read as the state
 * those flags meant (a socket from before v2 spoke v1).
 */
export function readSession(stored: unknown): Session | null {
  if (typeof stored !== "object" || stored === null) return null;
  const s = stored as Session | LegacySession;
  if ("state" in s) return s.state === "open" && s.watching === undefined ? { ...s, watching: false } : s;
  const identity = { device_id: s.device_id, user_id: s.user_id, role: s.role, expires_at_ms: s.expires_at_ms };
  if (s.closed) return { ...identity, state: "closed" };
  if (!s.open) return { ...identity, state: "awaiting_hello", strikes: s.strikes };
  return { ...identity, state: "open", protocol_version: s.protocol_version ?? 1, install_id: s.install_id ?? null, strikes: s.strikes, watching: false };
}

/** The attachment written before sessions had one state (issue 13); read by readSession only. */
interface LegacySession extends SessionIdentity {
  open: boolean;
  protocol_version?: number;
  install_id?: string | null;
  closed?: boolean;
  strikes: number;
}

export interface Peer {
  readonly id: string;
  session(): Session | null;
  setSession(session: Session): void;
  send(text: string): void;
  close(code: number, reason: string): void;
}

export interface RoomHost {
  peers(): Iterable<Peer>;
  newTransferId(): TransferId;
  /** Ask to be woken (alarm) at this time for housekeeping. */
  wakeAt(ms: number): void;
  /** Commits were published: the host may schedule a snapshot. */
  committed?(head: number): void;
  log(message: string, error?: unknown): void;
}

/** Malformed frames in a row before a connection is considered broken. */
export const MAX_STRIKES = 8;

/** What a connection was sent by `publish` since its last frame. */
interface Unread {
  bytes: number;
  /** Pokes sent since the budget ran out. */
  pokes: number;
}

/** The first protocol version that may send `status` and `watch`. */
const OBSERVE_SINCE = 6;

export class BranchRoom {
  #serial: Promise<void> = Promise.resolve();
  #unread = new Map<string, Unread>();
  /** Devices whose presence or report changed since watchers were last told. */
  #changedDevices = new Set<string>();
  /**
   * The newest rejection and audit entry watchers were told of. Memory only: after a wake they are
   * read from storage when the room is made, which the host does before it handles what woke it.
   */
  #toldRejection: number;
  #toldAudit: number;
  /** The branch's lease epoch v7 connections were last sent `leases` at (BranchCore.leaseEpoch). */
  #toldLeases: number;

  constructor(
    private readonly core: BranchCore,
    private readonly host: RoomHost,
  ) {
    this.#toldRejection = core.rejectionHead();
    this.#toldAudit = core.auditHead();
    this.#toldLeases = core.leaseEpoch;
  }

  /**
   * A connection whose token the Worker verified. It replaces the device's older connections only
   * once its hello is admitted (#replaceOthers): a refused connection never evicts the real device.
   */
  connect(peer: Peer, claims: DeviceClaims): void {
    peer.setSession({
      state: "awaiting_hello",
      device_id: claims.device,
      user_id: claims.user,
      role: claims.role,
      expires_at_ms: claims.exp * 1000,
      strikes: 0,
    });
    if (this.core.isRevoked(claims.device)) {
      this.#fatal(peer, "device_revoked", "this device was revoked; ask a manager for a token for a new device");
      void this.#serialized(() => this.#flushObserved());
    }
  }

  message(peer: Peer, raw: string | ArrayBuffer): Promise<void> {
    this.#unread.delete(peer.id); // it reads and writes: nothing it was sent is outstanding
    return this.#serialized(async () => {
      await this.#handle(peer, raw);
      await this.#flushObserved();
    }, peer);
  }

  /**
   * The runtime says a connection closed (the client closed it, or the network did). Its session is
   * closed so nothing queued for it runs (I12); if it was the device's open connection, the device
   * was last seen now and watchers are told it left.
   */
  closed(peer: Peer): Promise<void> {
    return this.#serialized(async () => {
      const session = peer.session();
      if (!session || session.state === "closed") return;
      this.#markClosed(peer);
      await this.#flushObserved(peer.id);
    });
  }

  /** After work outside the sockets (an HTTP request: a push, a revocation, a resolution; the alarm): watchers are told what it changed. */
  tellWatchers(): Promise<void> {
    return this.#serialized(() => this.#flushObserved());
  }

  /** Devices with an open (hello admitted) connection now, but for the connection `except`. */
  connectedDevices(except?: string): Set<string> {
    const connected = new Set<string>();
    for (const peer of this.host.peers()) {
      const session = peer.id === except ? null : peer.session();
      if (session?.state === "open") connected.add(session.device_id);
    }
    return connected;
  }

  /** Runs `work` after everything queued before it; a failure is logged and closes `peer`, if any. */
  #serialized(work: () => Promise<void>, peer?: Peer): Promise<void> {
    const run = this.#serial.then(work);
    this.#serial = run.catch((error) => {
      this.host.log(peer ? `internal error handling a message from ${peer.id}` : "internal error telling watchers", error);
      if (!peer) return;
      // This handler must not throw, or every later message would be skipped: marking the device
      // gone writes storage, which may be what just failed.
      try {
        this.#markClosed(peer);
      } catch (closing) {
        this.host.log(`internal error closing ${peer.id}`, closing);
      }
      peer.close(1011, "internal_error");
    });
    return this.#serial;
  }

  /**
   * Tells every watching connection what changed since it was last told: devices whose presence or
   * report changed, rejections decided (oldest first, bounded), the audit's newest id. Nothing is
   * sent when nothing changed. `leaving` is a connection closing now: it is neither told nor counted
   * as connected.
   */
  async #flushObserved(leaving?: string): Promise<void> {
    await this.#flushLeases(leaving);
    const rejectionHead = this.core.rejectionHead();
    const auditHead = this.core.auditHead();
    const devices = this.#changedDevices;
    if (rejectionHead === this.#toldRejection && auditHead === this.#toldAudit && devices.size === 0) return;
    this.#changedDevices = new Set();
    const watchers = [...this.host.peers()].filter((p) => {
      const s = p.id === leaving ? null : p.session();
      return s?.state === "open" && s.watching;
    });
    const after = this.#toldRejection;
    this.#toldRejection = rejectionHead;
    this.#toldAudit = auditHead;
    if (watchers.length === 0) return;
    const rejections = rejectionHead > after ? this.core.rejectionsAfter(after, MAX_OBSERVED_REJECTIONS) : [];
    const observed: Observed = {
      type: "observed",
      head: this.core.head(),
      server_time_ms: this.core.nowMs(),
      audit_head: auditHead,
      devices: this.core.presenceOf(devices, this.connectedDevices(leaving)).slice(0, MAX_WATCHED_DEVICES),
      rejections,
      more_rejections: rejectionHead - after > rejections.length,
    };
    // Counted against each watcher's unread budget like live changes (I12): a watcher that never
    // reads is poked by the next publish and then closed as a slow consumer.
    const bytes = JSON.stringify(observed).length;
    for (const peer of watchers) {
      await this.#send(peer, observed);
      const u = this.#unread.get(peer.id) ?? { bytes: 0, pokes: 0 };
      this.#unread.set(peer.id, { ...u, bytes: u.bytes + bytes });
    }
  }

  /**
   * Sends `leases` (every lease in force) to each v7 connection when the branch's leases changed since
   * they were last sent: granted, renewed, released, broken or expired (the alarm).
   */
  async #flushLeases(leaving?: string): Promise<void> {
    const epoch = this.core.leaseEpoch;
    if (epoch === this.#toldLeases) return;
    this.#toldLeases = epoch;
    const peers = [...this.host.peers()].filter((p) => {
      const s = p.id === leaving ? null : p.session();
      return s?.state === "open" && s.protocol_version >= LEASES_SINCE;
    });
    if (peers.length === 0) return;
    const text = JSON.stringify(this.#leasesMessage());
    for (const peer of peers) {
      await this.#sendText(peer, text);
      const u = this.#unread.get(peer.id) ?? { bytes: 0, pokes: 0 };
      this.#unread.set(peer.id, { ...u, bytes: u.bytes + text.length });
    }
  }

  #leasesMessage(): Leases {
    return { type: "leases", leases: this.core.leases(), server_time_ms: this.core.nowMs() };
  }

  /**
   * A lease request (v7): answered with `lease_result`; a granted lease asks the alarm to wake the
   * branch when it ends, and every v7 connection is sent `leases` right after (#flushLeases).
   */
  async #lease(peer: Peer, session: Extract<Session, { state: "open" }>, actor: Actor, request: LeaseRequest): Promise<void> {
    if (session.protocol_version < LEASES_SINCE) {
      return this.#error(peer, "malformed_message", `lease is protocol ${LEASES_SINCE}; this connection said hello with protocol ${session.protocol_version}`, request.request_id);
    }
    const { result, nowMs } = this.core.lease(actor, request);
    await this.#send(peer, { type: "lease_result", request_id: request.request_id, action: request.action, ...result, server_time_ms: nowMs });
    if (result.outcome === "granted" && result.lease !== null) this.host.wakeAt(result.lease.expires_at_ms);
  }

  /** Closes every connection of a device with a fatal reason (a revocation takes effect at once). */
  disconnectDevice(deviceId: string, reason: CloseReason, message: string): number {
    this.#changedDevices.add(deviceId); // revoked, whether connected or not
    let closed = 0;
    for (const peer of this.host.peers()) {
      const session = peer.session();
      if (session?.device_id === deviceId && session.state !== "closed") {
        this.#fatal(peer, reason, message);
        closed++;
      }
    }
    return closed;
  }

  /**
   * A socket error the runtime reports for one connection. The one a client can cause on purpose is
   * a frame larger than the runtime accepts (32 MiB in workerd: "protocolError.statusCode = 1009"),
   * after which the runtime has already closed the socket with 1009 (docs/protocol.md, 10.2).
   * Handled as a value: the session is marked closed so nothing still queued for it runs (I12), the
   * socket is closed if it is still open, and the host logs what is returned (one line).
   */
  socketError(peer: Peer, error: unknown): { kind: "message_too_big" | "other"; device: string | null; message: string } {
    const message = error instanceof Error ? error.message : String(error);
    const tooBig = /statusCode = 1009|too large/i.test(message);
    const device = peer.session()?.device_id ?? null;
    this.#markClosed(peer);
    peer.close(tooBig ? 1009 : 1011, tooBig ? "message_too_big" : "internal_error");
    return { kind: tooBig ? "message_too_big" : "other", device, message: message.slice(0, 500) };
  }

  /**
   * Sends committed changes to every open connection of the branch: the pusher too (its cursor needs
   * them), unless its hello said `echo: false` (v11), when its verdicts, sent just before, stand for
   * them. `pusher`: the connection whose push made `changes`; null for commits made over HTTP.
   */
  publish(changes: readonly LoggedChange[], pusher: Peer | null = null): void {
    this.#publishChanges(changes, pusher);
    this.#tellDayReports();
  }

  /**
   * Tells every v10 connection of each day report revision issued since (a close, an amendment by
   * late POS commits): after the live changes that made it, so a till sees its sales, then the report.
   */
  #tellDayReports(): void {
    const issued = this.core.takeIssuedRevisions();
    if (issued.length === 0) return;
    const texts = issued.map((r) => JSON.stringify({ type: "day_report", day: r.day, revision: r.revision, reason: r.reason } satisfies DayReportIssued));
    for (const peer of this.host.peers()) {
      const session = peer.session();
      if (session?.state !== "open" || session.protocol_version < DAY_REPORTS_SINCE) continue;
      for (const text of texts) peer.send(text);
    }
  }

  #publishChanges(changes: readonly LoggedChange[], pusher: Peer | null): void {
    if (changes.length === 0) return;
    const head = changes[changes.length - 1]!.change.seq;
    const poke = JSON.stringify({ type: "poke", head });
    // One text per version spoken, made once: from the changes' own text where the version takes the
    // message as it is, else serialized in the older shape (older entities, protocol/downgrade.ts).
    // A connection that asked for deltas (v9) gets each change's delta where it has one, but its own
    // commits whole (log.ts DeltasFor): a text for the devices that made none of them, one for each that did.
    const texts = new Map<string, string>();
    const textFor = (version: number, reader: DeltasFor) => {
      const own = reader !== null && changes.some((c) => c.change.device_id === reader.device_id);
      const key = reader === null ? String(version) : own ? `deltas:${reader.device_id}` : "deltas";
      let text = texts.get(key);
      if (text === undefined) {
        text = sentAsIs(version)
          ? `{"type":"live","changes":[${changes.map((c) => (reader !== null && c.deltaJson !== null && c.change.device_id !== reader.device_id ? c.deltaJson : c.json)).join(",")}],"head":${head}}`
          : JSON.stringify(serverMessageFor(version, { type: "live", changes: changes.map((c) => c.change), head } as Live));
        if (changes.length > MAX_BATCH_EVENTS || !fitsFrame(text)) text = poke;
        texts.set(key, text);
      }
      return text;
    };
    const unread = new Map<string, Unread>();
    for (const peer of this.host.peers()) {
      const session = peer.session();
      if (session?.state !== "open") continue;
      // Slow consumers (I12): a connection that sends nothing back is not fed without bound. Past
      // its budget it gets pokes (an honest device answers one with a pull, which resets the count);
      // one that lets MAX_UNANSWERED_POKES pass is closed and pulls from its cursor when it reconnects.
      const u = this.#unread.get(peer.id) ?? { bytes: 0, pokes: 0 };
      if (u.pokes >= MAX_UNANSWERED_POKES) {
        this.#fatal(peer, "slow_consumer", `${u.bytes} bytes of live changes and ${u.pokes} pokes went unanswered; reconnect and pull from your cursor`);
        continue;
      }
      if (peer.id === pusher?.id && session.noEcho === true) {
        unread.set(peer.id, u); // sent nothing: its budget stands as it was
        continue;
      }
      const text = textFor(session.protocol_version, session.deltas === true ? { device_id: session.device_id } : null);
      const over = u.bytes + text.length > LIVE_UNREAD_BUDGET_BYTES;
      const out = over ? poke : text;
      peer.send(out);
      unread.set(peer.id, { bytes: u.bytes + out.length, pokes: u.pokes + (over ? 1 : 0) });
    }
    this.#unread = unread; // only connections still open are remembered
    this.host.committed?.(head);
  }

  async #handle(peer: Peer, raw: string | ArrayBuffer): Promise<void> {
    let session = peer.session();
    // Closed or never authenticated: nothing to answer. A connection the server closed may still have
    // frames queued behind the one that closed it (#serial); none of them may write (I12).
    if (!session || session.state === "closed") return;
    if (this.core.nowMs() >= session.expires_at_ms) {
      return this.#fatal(peer, "token_expired", "the device token expired; reconnect with a fresh token");
    }
    const decoded = decodeClientFrame(raw);
    if (!decoded.ok) {
      // Read as far as it goes: a hello from another protocol version may not match v1's shape, so
      // its version is read first (the client learns "too old"/"too new" instead of "malformed"),
      // and the error names the request it answers when the frame says which (v4's in_reply_to).
      const frame = decoded.error.code === "frame_too_large" ? null : readFrame(raw);
      const version = session.state === "awaiting_hello" ? helloVersion(frame) : null;
      if (version !== null && !isSupportedVersion(version)) return this.#versionMismatch(peer, version);
      return this.#strike(peer, session, decoded.error.code, decoded.error.message, requestIdOf(frame));
    }
    const message = decoded.value;
    // A valid frame ends a run of malformed ones. What follows works on the reset session: a handler
    // that stores the session it was given (hello, watch) must not put the old count back.
    if (session.strikes > 0) {
      session = { ...session, strikes: 0 };
      peer.setSession(session);
    }

    if (message.type === "hello") {
      if (session.state === "open") return this.#fatal(peer, "handshake_required", "hello was already sent on this connection");
      return this.#hello(peer, session, message);
    }
    if (session.state !== "open") return this.#fatal(peer, "handshake_required", `the first message must be hello, received ${message.type}`);
    const actor: Actor = { device_id: session.device_id, user_id: session.user_id, role: session.role };

    switch (message.type) {
      case "push":
        return this.#push(peer, actor, message, FRAME_LIMIT_BYTES);
      case "pull":
        // Pulling from `since`, the device has applied everything up to it: its cursor (the dashboard's lag).
        if (message.since <= this.core.head() && this.core.recordPullCursor(session.device_id, message.since)) this.#changedDevices.add(session.device_id);
        // Compaction (docs/protocol/compaction.md): what comes after `since` is no longer all in the log.
        if (message.since < this.core.compactedThrough()) return this.#historyCompacted(peer, session, message.request_id, message.since);
        if (sentAsIs(session.protocol_version)) {
          // v9: deltas where the log has them, unless the device asked for whole entities (after a delta it could not apply).
          const reader = session.deltas === true && message.full !== true ? { device_id: session.device_id } : null;
          return this.#sendText(peer, this.core.pullText(message.since, message.limit, message.request_id, reader));
        }
        return this.#send(peer, this.core.pull(message.since, message.limit, message.request_id));
      case "chunk":
        return this.#chunk(peer, actor, message);
      case "upload_query": {
        const state = this.core.uploadState(message.transfer_id);
        await this.#send(peer, state); // before the push's verdicts that may follow
        if (state.complete) await this.#finishUpload(peer, actor, message.transfer_id);
        return;
      }
      case "ping":
        return this.#send(peer, { type: "pong", nonce: message.nonce });
      case "status":
        return this.#status(peer, session, message);
      case "watch":
        return this.#watch(peer, session, message);
      case "lease":
        return this.#lease(peer, session, actor, message);
      default:
        return unreachable(message, "client message");
    }
  }

  async #hello(peer: Peer, session: Extract<Session, { state: "awaiting_hello" }>, hello: Hello): Promise<void> {
    if (!isSupportedVersion(hello.protocol_version)) return this.#versionMismatch(peer, hello.protocol_version);
    if (hello.device_id !== session.device_id) {
      return this.#fatal(peer, "forbidden", `hello names device ${hello.device_id} but the token is for ${session.device_id}`);
    }
    if (hello.protocol_version >= 3 && (hello.install_id === undefined || hello.clock_ms === undefined)) {
      return this.#fatal(peer, "handshake_required", `a protocol ${hello.protocol_version} hello names its install_id and clock_ms`);
    }
    const actor: Actor = { device_id: session.device_id, user_id: session.user_id, role: session.role };
    const admission = this.core.admitHello(actor, hello);
    switch (admission.kind) {
      case "admitted":
        break;
      case "revoked":
        return this.#fatal(peer, "device_revoked", `this device was revoked at ${admission.at}${admission.by ? ` by ${admission.by}` : ""}${admission.reason ? `: ${admission.reason}` : ""}; ask a manager for a token for a new device`);
      case "install_conflict":
        return this.#fatal(peer, "install_conflict", `device ${actor.device_id} is in use by another install (since ${admission.first_seen_at}); a token is for one install: ask a manager for a token for a new device`);
      default:
        return unreachable(admission, "hello admission");
    }
    // Compaction: a client older than v9 cannot be told to bootstrap again, and could not pull from its
    // cursor. A cursor of 0 is a device that has not synced yet: it may still bootstrap from a snapshot.
    const compacted = this.core.compactedThrough();
    if (hello.protocol_version < COMPACTION_SINCE && hello.cursor > 0 && hello.cursor < compacted) {
      return this.#fatal(peer, "protocol_too_old", historyCompactedForOldClient(hello.protocol_version, hello.cursor, compacted));
    }
    // Only now, admitted, may this connection replace the device's others (a refused thief never evicts the real till).
    this.#replaceOthers(peer, session.device_id, hello.install_id ?? null);
    peer.setSession({
      ...session,
      state: "open",
      protocol_version: hello.protocol_version,
      install_id: hello.install_id ?? null,
      watching: false,
      deltas: hello.protocol_version >= DELTAS_SINCE && hello.deltas === true,
      noEcho: hello.protocol_version >= ECHO_OPTIONAL_SINCE && hello.echo === false,
    });
    this.core.recordHello(session.device_id, {
      protocol_version: hello.protocol_version,
      cursor: Math.min(hello.cursor, this.core.head()),
      queue: hello.queue,
      token_expires_at_ms: session.expires_at_ms,
    });
    if (hello.protocol_version >= DAY_REPORTS_SINCE && hello.pos_days !== undefined) this.core.recordTillDays(session.device_id, hello.pos_days);
    this.#changedDevices.add(session.device_id);
    const welcome: Welcome = {
      type: "welcome",
      protocol_version: PROTOCOL_VERSION,
      min_protocol_version: MIN_SUPPORTED_PROTOCOL_VERSION,
      branch_id: this.core.branchId,
      device_id: actor.device_id,
      user_id: actor.user_id,
      role: actor.role,
      head: this.core.head(),
      limits: {
        frame_limit_bytes: FRAME_LIMIT_BYTES,
        chunk_raw_bytes: CHUNK_RAW_BYTES,
        max_batch_events: MAX_BATCH_EVENTS,
        max_event_bytes: MAX_EVENT_BYTES,
        max_pull_page_changes: MAX_PULL_PAGE_CHANGES,
      },
      time_zone: this.core.timeZone(),
      server_time_ms: this.core.nowMs(),
      studio: this.core.settings().studio,
      // A v7 device learns the leases in force at once, before any change it may push.
      leases: this.core.leases(),
      // v9: a device whose cursor is below it bootstraps again (its queue kept) instead of pulling.
      compacted_through: compacted,
    };
    await this.#send(peer, welcomeFor(hello.protocol_version, welcome) as ServerMessage);
  }

  /**
   * An admitted hello closes the device's other admitted connections. The same install reconnecting
   * (a restart, a new socket before the old one timed out) gets `superseded`, which is not an error
   * for it; a v1/v2 client (no install id) or another install's connection gets `replaced`.
   *
   * A connection whose hello has not been handled yet is left alone: its install is not known, and
   * it may be the device's newest (an older path's hello can arrive late, after a network switch).
   * Closing it as `replaced` told the device another install had taken over, which stops its sync
   * (found by the simulation, seeds 31, 469, 680, 796). Its own hello, when it comes, supersedes this one.
   */
  #replaceOthers(peer: Peer, deviceId: string, installId: string | null): void {
    for (const other of this.host.peers()) {
      const s = other.id === peer.id ? null : other.session();
      if (s?.state !== "open" || s.device_id !== deviceId) continue;
      if (installId !== null && s.install_id === installId) {
        this.#fatal(other, "superseded", "this install opened a newer connection; this older one is closed");
      } else {
        this.#fatal(other, "replaced", "this device connected again; this older connection is closed");
      }
    }
  }

  /** A device's cursor and queue (v6): stored, and its watchers told. Not answered. */
  #status(peer: Peer, session: Extract<Session, { state: "open" }>, status: Status): void {
    if (session.protocol_version < OBSERVE_SINCE) {
      return this.#error(peer, "malformed_message", `status is protocol ${OBSERVE_SINCE}; this connection said hello with protocol ${session.protocol_version}`, null);
    }
    const head = this.core.head();
    if (status.cursor > head) return this.#error(peer, "malformed_message", `cursor: ${status.cursor} is beyond the branch's head ${head}`, null);
    if (status.pos_days !== undefined && session.protocol_version < DAY_REPORTS_SINCE) {
      return this.#error(peer, "malformed_message", `pos_days is protocol ${DAY_REPORTS_SINCE}; this connection said hello with protocol ${session.protocol_version}`, null);
    }
    this.core.recordStatus(session.device_id, status.cursor, status.queue);
    if (status.pos_days !== undefined) this.core.recordTillDays(session.device_id, status.pos_days);
    this.#changedDevices.add(session.device_id);
  }

  /**
   * Subscribes the connection to `observed` (v6, role `observe`) and answers with every device as it
   * is now. Watchers are first told what is pending, so this one's answer starts where they are.
   */
  async #watch(peer: Peer, session: Extract<Session, { state: "open" }>, watch: Watch): Promise<void> {
    if (session.protocol_version < OBSERVE_SINCE) {
      return this.#error(peer, "malformed_message", `watch is protocol ${OBSERVE_SINCE}; this connection said hello with protocol ${session.protocol_version}`, watch.request_id);
    }
    if (!canDo(session.role, "observe")) {
      return this.#error(peer, "forbidden", `role ${session.role} may not observe the branch (owner, manager and viewer may)`, watch.request_id);
    }
    await this.#flushObserved();
    peer.setSession({ ...session, watching: true });
    await this.#send(peer, {
      type: "watching",
      request_id: watch.request_id,
      head: this.core.head(),
      server_time_ms: this.core.nowMs(),
      audit_head: this.#toldAudit,
      devices: this.core.presence(this.connectedDevices(), MAX_WATCHED_DEVICES),
    });
  }

  /**
   * A pull from below the branch's `compacted_through`: a v9 client is told `history_compacted`
   * (non-fatal, naming the pull) and bootstraps again; an older one cannot be, and is closed with the
   * terminal `protocol_too_old` (update the app; its queue is kept). docs/protocol/compaction.md.
   */
  #historyCompacted(peer: Peer, session: Extract<Session, { state: "open" }>, requestId: string, since: number): void {
    const through = this.core.compactedThrough();
    if (session.protocol_version >= COMPACTION_SINCE) {
      return this.#error(peer, "history_compacted", `the branch's history through seq ${through} was compacted, so a pull from ${since} cannot be answered: bootstrap again from the newest snapshot, keep the queue and send it again`, requestId);
    }
    return this.#fatal(peer, "protocol_too_old", historyCompactedForOldClient(session.protocol_version, since, through));
  }

  #versionMismatch(peer: Peer, version: number): void {
    if (version < MIN_SUPPORTED_PROTOCOL_VERSION) {
      return this.#fatal(peer, "protocol_too_old", `protocol ${version} is no longer supported (minimum ${MIN_SUPPORTED_PROTOCOL_VERSION}); update the app`);
    }
    return this.#fatal(peer, "protocol_too_new", `protocol ${version} is newer than this server's ${PROTOCOL_VERSION}; retry later`);
  }

  /** `textBytesAtMost`: the limit the push's text was read under (a frame's, or a reassembled upload's). */
  async #push(peer: Peer, actor: Actor, push: PushFrame, textBytesAtMost: number): Promise<void> {
    const outcome = this.core.push(actor, push.events, textBytesAtMost);
    // Verdicts first, then live: a client sees its verdicts before its own changes come back (or, on
    // a connection that said `echo: false`, instead of them).
    for (const verdicts of splitVerdicts(outcome.verdicts)) {
      await this.#send(peer, { type: "verdicts", batch_id: push.batch_id, verdicts } as ServerMessage);
    }
    this.publish(outcome.changes, peer);
  }

  async #chunk(peer: Peer, actor: Actor, chunk: Chunk): Promise<void> {
    const verified = await verifyChunk(chunk);
    if (!verified.ok) return this.#error(peer, verified.error.code, verified.error.message, chunk.transfer_id);
    const stored = this.core.storeChunk(actor.device_id, chunk);
    if (!stored.ok) return this.#error(peer, stored.problem.code, stored.problem.message, chunk.transfer_id);
    await this.#send(peer, stored.state); // before the push's verdicts that may follow
    if (stored.state.complete) await this.#finishUpload(peer, actor, chunk.transfer_id);
    else {
      const expiry = this.core.nextUploadExpiry();
      if (expiry !== null) this.host.wakeAt(expiry);
    }
  }

  /**
   * A whole upload: check the checksum, decode it as a push, and handle it like any push. Its errors
   * answer the push when its batch id can be read, else the transfer (the chunk or upload_query that
   * completed it).
   */
  async #finishUpload(peer: Peer, actor: Actor, transferId: TransferId): Promise<void> {
    const upload = this.core.completeUpload(transferId);
    if (!upload) return;
    const pieces = upload.pieces.map((p) => bytesFromBase64(p) ?? new Uint8Array());
    const joined = await joinPieces(pieces, upload);
    // A corrupt or undecodable upload can never succeed: drop it so the device starts again.
    if (!joined.ok) {
      this.core.dropUpload(transferId);
      return this.#error(peer, joined.error.code, joined.error.message, transferId);
    }
    const frame = decodeWith(PushFrameSchema, joined.value, MAX_ASSEMBLED_MESSAGE_BYTES);
    if (!frame.ok) {
      this.core.dropUpload(transferId);
      const batchId = frame.error.code === "frame_too_large" ? null : requestIdOf(readFrame(joined.value, MAX_ASSEMBLED_MESSAGE_BYTES));
      return this.#error(peer, "malformed_message", `reassembled upload is not a push: ${frame.error.message}`, batchId ?? transferId);
    }
    await this.#push(peer, actor, frame.value, MAX_ASSEMBLED_MESSAGE_BYTES);
    this.core.dropUpload(transferId);
  }

  /** Sends one message, in the version the peer speaks, in chunks when it is larger than a frame. */
  #send(peer: Peer, message: ServerMessage): void | Promise<void> {
    return this.#sendText(peer, JSON.stringify(versionOf(peer) === PROTOCOL_VERSION ? message : serverMessageFor(versionOf(peer), message)));
  }

  /** Sends a message's text, already in the version the peer speaks: in chunks when it is larger than a frame. */
  #sendText(peer: Peer, text: string): void | Promise<void> {
    if (fitsFrame(text)) {
      peer.send(text);
      return;
    }
    return splitIntoChunks(text, this.host.newTransferId()).then((chunks) => {
      for (const chunk of chunks) peer.send(JSON.stringify(chunk));
    });
  }

  /** A non-fatal error answering one message; `inReplyTo` is that message's id when it could be read. */
  #error(peer: Peer, code: MessageErrorCode | "forbidden", message: string, inReplyTo: string | null): void {
    const error: ErrorMessage = { type: "error", code, message: message.slice(0, 1_000), fatal: false, in_reply_to: inReplyTo };
    peer.send(JSON.stringify(errorFor(peer.session(), error)));
  }

  #strike(peer: Peer, session: Exclude<Session, { state: "closed" }>, code: MessageErrorCode, message: string, inReplyTo: string | null): void {
    const strikes = session.strikes + 1;
    if (strikes >= MAX_STRIKES) {
      return this.#fatal(peer, "protocol_violation", `${strikes} malformed frames in a row; last: ${message}`);
    }
    peer.setSession({ ...session, strikes });
    this.#error(peer, code, message, inReplyTo);
  }

  /** A fatal error answers no request (in_reply_to null): it closes the connection. */
  #fatal(peer: Peer, reason: CloseReason, message: string): void {
    const session = peer.session();
    this.core.audit({
      kind: "protocol_error",
      device_id: session?.device_id ?? null,
      user_id: session?.user_id ?? null,
      role: session?.role ?? null,
      code: reason,
      message,
    });
    const error: ErrorMessage = { type: "error", code: reason, message: message.slice(0, 1_000), fatal: true, in_reply_to: null };
    peer.send(JSON.stringify(errorFor(session, error)));
    this.#markClosed(peer);
    peer.close(CLOSE_CODES[reason], reason);
  }

  #markClosed(peer: Peer): void {
    const session = peer.session();
    if (!session || session.state === "closed") return;
    peer.setSession(sessionClosed(session));
    // An open connection closing is the device leaving, unless another of its connections is open.
    if (session.state === "open") {
      if (!this.connectedDevices(peer.id).has(session.device_id)) this.core.recordGone(session.device_id);
      this.#changedDevices.add(session.device_id);
    }
  }
}

/** Whether a message's text fits one frame; its UTF-8 is counted only when its length leaves a doubt. */
const fitsFrame = (text: string): boolean => text.length <= FRAME_LIMIT_BYTES / 3 || utf8ByteLength(text) <= FRAME_LIMIT_BYTES;

/** The version a peer is answered in: its hello's; before its hello (or after its close), today's. */
const versionOf = (peer: Peer): number => {
  const session = peer.session();
  return session?.state === "open" ? session.protocol_version : PROTOCOL_VERSION;
};

const isSupportedVersion = (version: number) => version >= MIN_SUPPORTED_PROTOCOL_VERSION && version <= PROTOCOL_VERSION;

/** What an older client whose cursor is below the compacted point is told as it is closed (protocol_too_old). */
const historyCompactedForOldClient = (version: number, cursor: number, through: number) =>
  `this branch's history through seq ${through} was compacted and this device is at seq ${cursor}: protocol ${version} cannot bootstrap again; update the app (its unsynced changes are kept and sent after the update)`;

/**
 * The welcome in the version the client speaks. Older welcomes are strict objects without the later
 * fields (`time_zone` since v2, `server_time_ms` since v3, `studio` since v5, `leases` since v7,
 * `compacted_through` since v9): an older client refuses a field it does not know.
 */
function welcomeFor(version: number, welcome: Welcome): Partial<Welcome> {
  const { time_zone, server_time_ms, studio, leases, compacted_through: _v9, ...v1 } = welcome;
  if (version >= COMPACTION_SINCE) return welcome;
  if (version >= LEASES_SINCE) return { ...v1, time_zone, server_time_ms, studio, leases };
  if (version >= 5) return { ...v1, time_zone, server_time_ms, studio };
  if (version >= 3) return { ...v1, time_zone, server_time_ms };
  if (version === 2) return { ...v1, time_zone };
  return v1;
}

/**
 * An error in the version the client speaks: `in_reply_to` since v4. Before its hello is read, a
 * connection's version is unknown and it gets the v1 shape, which every version reads.
 */
function errorFor(session: Session | null, error: ErrorMessage): ErrorMessage {
  if (session?.state === "open" && session.protocol_version >= 4) return error;
  const { in_reply_to, ...v3 } = error;
  return v3;
}

/** A frame that did not decode, as a JSON object if it is one (read only on this error path); else null. */
function readFrame(raw: string | ArrayBuffer, limitBytes?: number): Record<string, unknown> | null {
  const text = frameText(raw, limitBytes);
  if (!text.ok) return null;
  const json = parseJson(text.value);
  return json.ok && typeof json.value === "object" && json.value !== null && !Array.isArray(json.value) ? (json.value as Record<string, unknown>) : null;
}

/** The protocol version of a frame that looks like a hello, whatever its other fields; else null. */
function helloVersion(frame: Record<string, unknown> | null): number | null {
  return frame?.type === "hello" && Number.isSafeInteger(frame.protocol_version) ? (frame.protocol_version as number) : null;
}

/**
 * The id of the request a frame is, if its type and id field can be read and the id is well formed
 * (an error may only echo an id of the documented shape): a pull's or watch's request_id, a push's
 * batch_id, a chunk's transfer_id. Null for any other frame, and for one that could not be read that far.
 */
function requestIdOf(frame: Record<string, unknown> | null): string | null {
  const read = (schema: { safeParse(v: unknown): { success: boolean } }, value: unknown) =>
    typeof value === "string" && schema.safeParse(value).success ? value : null;
  switch (frame?.type) {
    case "pull":
      return read(Pull.shape.request_id, frame.request_id);
    case "push":
      return read(PushFrameSchema.shape.batch_id, frame.batch_id);
    case "chunk":
      return read(ChunkSchema.shape.transfer_id, frame.transfer_id);
    case "watch":
    case "lease":
      return read(Pull.shape.request_id, frame.request_id);
    default:
      return null;
  }
}

/**
 * Verdicts in groups that each fit one message. Rejections carry the server's entity, and 200
 * rejected edits of a large project would not fit one reassembled message (nor memory), so the
 * verdicts of a batch may arrive in several `verdicts` messages, in order.
 */
export const VERDICTS_MESSAGE_BUDGET_BYTES = 8 * 1024 * 1024;

export function splitVerdicts(verdicts: readonly Verdict[], budgetBytes = VERDICTS_MESSAGE_BUDGET_BYTES): Verdict[][] {
  const groups: Verdict[][] = [];
  let group: Verdict[] = [];
  let bytes = 0;
  for (const verdict of verdicts) {
    const size = verdict.status === "confirmed" ? 200 : utf8ByteLength(JSON.stringify(verdict));
    if (group.length > 0 && bytes + size > budgetBytes) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(verdict);
    bytes += size;
  }
  if (group.length > 0 || groups.length === 0) groups.push(group);
  return groups;
}
