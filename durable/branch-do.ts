/**
 * The branch Durable Object: a thin shell (partyserver `Server`) around the runtime-free core. It only
 * adapts: the SQLite handle, the clock, hibernatable sockets, alarms, R2 and partyserver's hooks. What
 * a branch does is in core/ (BranchCore, BranchRoom, BranchHttpApi). The Worker has verified the device
 * token and passes the claims in CLAIMS_HEADER; a Durable Object is reachable only through its Worker.
 */
import { type Connection, type ConnectionContext, Server } from "partyserver";
import { type BranchId, type TransferId, uuidv7 } from "../domain/index.js";
import { type SnapshotManifest } from "../protocol/index.js";
import { doSqlStore } from "./adapters/do-sqlite.js";
import { peerOf } from "./adapters/partyserver-peer.js";
import type { Actor } from "./core/actor.js";
import { BranchCore } from "./core/branch.js";
import { BranchHttpApi } from "./core/http-api.js";
import { BranchRoom, readSession, type Session, sessionClosed } from "./core/room.js";
import { claimsOf, json } from "./http.js";
import { exportSnapshot } from "./snapshots/export.js";

export { SNAPSHOT_EVERY_COMMITS, SNAPSHOT_MAX_AGE_MS, SNAPSHOT_MIN_INTERVAL_MS } from "./core/snapshot-schedule.js";

export interface Env {
  BRANCH: DurableObjectNamespace<BranchDurableObject>;
  SNAPSHOTS: R2Bucket;
  TOKEN_SECRET: string;
  /** Refused device tokens per client address (wrangler.toml `[[ratelimits]]`), used by the Worker. */
  TOKEN_REFUSALS: RateLimit;
  /** The IANA time zone a branch takes when it is first used (wrangler.toml `[vars]`); default UTC. */
  BRANCH_TIME_ZONE?: string;
}

/**
 * Where a branch object reads the time. Only tests inside workerd replace it (`useClock`), to age
 * uploads, tokens and schedules by moving a clock rather than by editing rows. A symbol, so it is not
 * an RPC method a Worker could call.
 */
const CLOCK = Symbol("clock");

/** Tests: makes `instance` (from `runInDurableObject`) read its time from `clockMs`. */
export function useClock(instance: BranchDurableObject, clockMs: () => number): void {
  instance[CLOCK] = clockMs;
}

/** The heartbeat frame idle clients send; answered by the runtime without waking the object. */
export const IDLE_PING = '{"type":"ping","nonce":0}';
export const IDLE_PONG = '{"type":"pong","nonce":0}';

export class BranchDurableObject extends Server<Env> {
  static override options = { hibernate: true };

  [CLOCK]: () => number = () => Date.now();
  #exporting: Promise<SnapshotManifest> | null = null;

  /** The branch core; the one clock of this object is the core's (`core.nowMs()`). */
  get core(): BranchCore {
    return (this.#core ??= new BranchCore(doSqlStore(this.ctx.storage), this.name as BranchId, () => this[CLOCK](), { defaultTimeZone: this.env.BRANCH_TIME_ZONE }));
  }
  #core: BranchCore | undefined;

  get room(): BranchRoom {
    return (this.#room ??= new BranchRoom(this.core, {
      peers: () => Array.from(this.getConnections<Session>(), peerOf),
      newTransferId: () => uuidv7(this.core.nowMs(), (b) => crypto.getRandomValues(b)) as TransferId,
      wakeAt: (ms) => void this.#wakeAt(ms),
      log: (message, error) => console.error(message, error),
      committed: (head) => void this.#wakeAt(this.core.snapshotDueAt(head)),
    }));
  }
  #room: BranchRoom | undefined;

  get api(): BranchHttpApi {
    return (this.#api ??= new BranchHttpApi(this.core, {
      publish: (changes) => this.room.publish(changes),
      disconnectDevice: (device, reason, message) => void this.room.disconnectDevice(device, reason, message),
      exportSnapshot: (by) => this.exportSnapshot("request", by),
      newRequestId: () => crypto.randomUUID(),
    }));
  }
  #api: BranchHttpApi | undefined;

  override onStart(): void {
    this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(IDLE_PING, IDLE_PONG));
    void this.core; // run migrations before the first message
  }

  override onConnect(connection: Connection<Session>, ctx: ConnectionContext): void {
    const claims = claimsOf(ctx.request);
    if (claims) this.room.connect(peerOf(connection), claims);
    else connection.close(4001, "unauthorized");
  }

  override async onMessage(connection: Connection<Session>, message: string | ArrayBuffer): Promise<void> {
    await this.room.message(peerOf(connection), message);
  }

  override async onAlarm(): Promise<void> {
    const now = this.core.nowMs();
    this.core.expireUploads();
    await this.#wakeAt(this.core.nextUploadExpiry());
    const due = this.core.snapshotDueAt();
    if (due !== null && due <= now) await this.exportSnapshot("alarm");
    await this.#wakeAt(this.core.snapshotDueAt());
  }

  /** Exports a snapshot now (one at a time: a second request joins the running export). */
  exportSnapshot(trigger: "alarm" | "request", by: Actor | null = null): Promise<SnapshotManifest> {
    return (this.#exporting ??= exportSnapshot(this.core, this.env.SNAPSHOTS)
      .then((manifest) => (this.core.snapshotExported(manifest, trigger, by), manifest))
      .finally(() => (this.#exporting = null)));
  }

  async #wakeAt(ms: number | null): Promise<void> {
    if (ms === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > ms) await this.ctx.storage.setAlarm(ms);
  }

  /** RPC from the Worker, which serves snapshot reads from R2 itself: is this device revoked? */
  isDeviceRevoked(deviceId: string): boolean {
    return this.core.isRevoked(deviceId);
  }

  /**
   * A socket error the runtime reports for one connection. The one a client can cause on purpose is
   * a frame larger than the runtime accepts (32 MiB in workerd: "protocolError.statusCode = 1009"),
   * after which the runtime has already closed the socket with 1009 (docs/protocol.md, 10.2).
   * Handled here as a value: one log line, and the session is marked closed so nothing still queued
   * for it runs (I12). partyserver's default handler logs it as an unhandled error.
   */
  override onError(connection: Connection<Session>, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const tooBig = /statusCode = 1009|too large/i.test(message);
    const session = readSession(connection.state);
    if (session && session.state !== "closed") connection.setState(sessionClosed(session));
    const log = { event: "websocket_error", kind: tooBig ? "message_too_big" : "other", branch: this.name, connection: connection.id, device: session?.device_id ?? null };
    console.warn(JSON.stringify({ ...log, message: message.slice(0, 500) }));
    if (connection.readyState === WebSocket.READY_STATE_OPEN) connection.close(tooBig ? 1009 : 1011, tooBig ? "message_too_big" : "internal_error");
  }

  /** An exception here is a server bug: logged with its stack, answered as a JSON 500 without one. */
  override async onRequest(request: Request): Promise<Response> {
    try {
      const answer = await this.api.handle({ method: request.method, url: new URL(request.url), claims: claimsOf(request), text: () => request.text() });
      return json(answer.status, answer.body);
    } catch (error) {
      const ref = crypto.randomUUID();
      console.error(`internal error ${ref} answering ${request.method} ${new URL(request.url).pathname} on branch ${this.name}`, error);
      return json(500, { error: "internal_error", message: `the branch could not answer this request (logged as ${ref})` });
    }
  }
}
