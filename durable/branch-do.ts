/**
 * The branch Durable Object: a thin shell (partyserver `Server`) around the runtime-free BranchCore
 * and BranchRoom. It owns only Cloudflare concerns: hibernatable sockets, alarms, the SQLite handle,
 * and the HTTP API for always-online clients. The Worker has verified the device token and passes
 * the claims in CLAIMS_HEADER; a Durable Object is reachable only through its Worker.
 */
import { type Connection, type ConnectionContext, Server } from "partyserver";
import { z } from "zod";
import {
  type BranchId,
  canDo,
  decodeWith,
  DeviceId,
  FRAME_LIMIT_BYTES,
  IsoDate,
  RevokeRequest,
  MAX_PULL_PAGE_CHANGES,
  PushFrame,
  type TransferId,
  uuidv7,
  type BranchAction,
  type SnapshotManifest,
} from "../schema/index.js";
import { DeviceClaims } from "../schema/token.js";
import { doSqlStore } from "./adapters/do-sqlite.js";
import { BranchCore } from "./core/branch.js";
import { type Actor } from "./core/push.js";
import { BranchRoom, type Peer, type Session } from "./core/room.js";
import { exportSnapshot } from "./snapshots/export.js";
import { CLAIMS_HEADER, decodeSegment, intParam, json, parseBody } from "./http.js";

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

/** Export a snapshot once this many commits have accumulated since the last one … */
export const SNAPSHOT_EVERY_COMMITS = 10_000;
/**
 * … but not more often than this: an export reads the whole branch, so exporting every 10,000
 * commits of a busy million-entity branch would make snapshot work grow with the square of its size.
 */
export const SNAPSHOT_MIN_INTERVAL_MS = 15 * 60 * 1000;
/** … and at least once this often while anything is committed. */
export const SNAPSHOT_MAX_AGE_MS = 24 * 60 * 60 * 1000;

interface LastSnapshot {
  seq: number;
  at_ms: number;
}

/** A request id (`changes?request_id=`), as in the `pull` message. */
const RequestId = z.uuid().max(36);

/** The heartbeat frame idle clients send; answered by the runtime without waking the object. */
export const IDLE_PING = '{"type":"ping","nonce":0}';
export const IDLE_PONG = '{"type":"pong","nonce":0}';

export class BranchDurableObject extends Server<Env> {
  static override options = { hibernate: true };

  #core: BranchCore | undefined;
  #room: BranchRoom | undefined;
  [CLOCK]: () => number = () => Date.now();

  /** The branch core; the one clock of this object is the core's (`core.nowMs()`). */
  get core(): BranchCore {
    this.#core ??= new BranchCore(doSqlStore(this.ctx.storage), this.name as BranchId, () => this[CLOCK](), {
      defaultTimeZone: this.env.BRANCH_TIME_ZONE,
    });
    return this.#core;
  }

  get room(): BranchRoom {
    this.#room ??= new BranchRoom(this.core, {
      peers: () => Array.from(this.getConnections<Session>(), (c) => peerOf(c)),
      newTransferId: () => uuidv7(this.core.nowMs(), (b) => crypto.getRandomValues(b)) as TransferId,
      wakeAt: (ms) => void this.#wakeAt(ms),
      log: (message, error) => console.error(message, error),
      committed: (head) => void this.#scheduleSnapshot(head),
    });
    return this.#room;
  }

  override onStart(): void {
    this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(IDLE_PING, IDLE_PONG));
    void this.core; // run migrations before the first message
  }

  override onConnect(connection: Connection<Session>, ctx: ConnectionContext): void {
    const claims = claimsOf(ctx.request);
    if (!claims) {
      connection.close(4001, "unauthorized");
      return;
    }
    this.room.connect(peerOf(connection), claims);
  }

  override async onMessage(connection: Connection<Session>, message: string | ArrayBuffer): Promise<void> {
    await this.room.message(peerOf(connection), message);
  }

  override async onAlarm(): Promise<void> {
    const now = this.core.nowMs();
    this.core.expireUploads();
    const next = this.core.nextUploadExpiry();
    if (next !== null) await this.#wakeAt(next);
    const due = this.#snapshotDueAt(this.core.head());
    if (due !== null && due <= now) await this.exportSnapshot("alarm");
    const again = this.#snapshotDueAt(this.core.head());
    if (again !== null) await this.#wakeAt(again);
  }

  #exporting: Promise<SnapshotManifest> | null = null;

  /** Exports a snapshot now (one at a time: a second request joins the running export). */
  exportSnapshot(trigger: "alarm" | "request", actor?: Actor): Promise<SnapshotManifest> {
    this.#exporting ??= (async () => {
      try {
        const manifest = await exportSnapshot(this.core, this.env.SNAPSHOTS);
        this.core.setMeta("last_snapshot", { seq: manifest.seq, at_ms: this.core.nowMs() } satisfies LastSnapshot);
        this.core.audit({
          kind: "snapshot_export",
          device_id: actor?.device_id ?? null,
          user_id: actor?.user_id ?? null,
          role: actor?.role ?? null,
          message: `snapshot at seq ${manifest.seq} (${trigger}): ${manifest.byte_size} bytes, sha256 ${manifest.sha256}`,
        });
        return manifest;
      } finally {
        this.#exporting = null;
      }
    })();
    return this.#exporting;
  }

  /** When the next snapshot is due, or null when nothing was committed since the last one. */
  #snapshotDueAt(head: number): number | null {
    const last = this.core.meta<LastSnapshot>("last_snapshot") ?? { seq: 0, at_ms: 0 };
    if (head <= last.seq) return null;
    const now = this.core.nowMs();
    if (head - last.seq >= SNAPSHOT_EVERY_COMMITS) return Math.max(now, last.at_ms + SNAPSHOT_MIN_INTERVAL_MS);
    return last.at_ms === 0 ? now + SNAPSHOT_MAX_AGE_MS : last.at_ms + SNAPSHOT_MAX_AGE_MS;
  }

  async #scheduleSnapshot(head: number): Promise<void> {
    const due = this.#snapshotDueAt(head);
    if (due !== null) await this.#wakeAt(due);
  }

  async #wakeAt(ms: number): Promise<void> {
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
    const session = connection.state;
    if (session && !session.closed) connection.setState({ ...session, closed: true });
    console.warn(
      JSON.stringify({
        event: "websocket_error",
        kind: tooBig ? "message_too_big" : "other",
        branch: this.name,
        connection: connection.id,
        device: session?.device_id ?? null,
        message: message.slice(0, 500),
      }),
    );
    if (connection.readyState === WebSocket.READY_STATE_OPEN) {
      connection.close(tooBig ? 1009 : 1011, tooBig ? "message_too_big" : "internal_error");
    }
  }

  /**
   * The HTTP API. An exception here is a server bug: it is logged with its stack and answered as a
   * JSON 500 without one (partyserver would answer the stack trace as text).
   */
  override async onRequest(request: Request): Promise<Response> {
    try {
      return await this.#route(request);
    } catch (error) {
      const ref = crypto.randomUUID();
      console.error(`internal error ${ref} answering ${request.method} ${new URL(request.url).pathname} on branch ${this.name}`, error);
      return json(500, { error: "internal_error", message: `the branch could not answer this request (logged as ${ref})` });
    }
  }

  async #route(request: Request): Promise<Response> {
    const claims = claimsOf(request);
    if (!claims) return json(401, { error: "unauthorized", message: "no verified device token" });
    // A revoked device's tokens are refused for good (I11), for every request, whatever its role.
    if (this.core.isRevoked(claims.device)) {
      return json(403, { error: "device_revoked", message: `device ${claims.device} was revoked; ask a manager for a token for a new device` });
    }
    const actor: Actor = { device_id: claims.device, user_id: claims.user, role: claims.role };
    const url = new URL(request.url);
    const action = url.pathname.split("/").pop();
    const need = (what: BranchAction) =>
      canDo(actor.role, what) ? null : json(403, { error: "forbidden", message: `role ${actor.role} may not ${what.replace("_", " ")}` });

    if (action === "push" && request.method === "POST") {
      const text = await request.text();
      const frame = decodeWith(PushFrame, text, FRAME_LIMIT_BYTES);
      if (!frame.ok) return json(frame.error.code === "frame_too_large" ? 413 : 400, { error: frame.error.code, message: frame.error.message });
      const outcome = this.core.push(actor, frame.value.events);
      this.room.publish(outcome.changes);
      return json(200, { type: "verdicts", batch_id: frame.value.batch_id, verdicts: outcome.verdicts });
    }
    if (action === "changes" && request.method === "GET") {
      const denied = need("read");
      if (denied) return denied;
      const since = intParam(url, "since", 0);
      const limit = intParam(url, "limit", MAX_PULL_PAGE_CHANGES);
      if (since === null || limit === null || limit < 1) {
        return json(400, { error: "bad_request", message: "since must be an integer ≥ 0 and limit an integer from 1 to 1000" });
      }
      const requestId = url.searchParams.get("request_id") ?? crypto.randomUUID();
      if (!RequestId.safeParse(requestId).success) {
        return json(400, { error: "bad_request", message: `request_id must be a UUID, received ${JSON.stringify(requestId.slice(0, 100))}` });
      }
      return json(200, this.core.pull(since, Math.min(limit, MAX_PULL_PAGE_CHANGES), requestId));
    }
    if (action === "audit" && request.method === "GET") {
      const denied = need("read_audit");
      if (denied) return denied;
      const after = intParam(url, "after", 0);
      const limit = intParam(url, "limit", 100);
      if (after === null || limit === null || limit < 1 || limit > 1_000) {
        return json(400, { error: "bad_request", message: "after must be an integer ≥ 0 and limit an integer from 1 to 1000" });
      }
      return json(200, this.core.readAudit(after, limit));
    }
    if (action === "snapshots" && request.method === "POST") {
      const denied = need("export_snapshot");
      if (denied) return denied;
      return json(201, await this.exportSnapshot("request", actor));
    }
    if (action === "ledger" && request.method === "GET") {
      const denied = need("read_ledger");
      if (denied) return denied;
      const day = url.searchParams.get("day");
      if (day !== null && !IsoDate.safeParse(day).success) {
        return json(400, { error: "bad_request", message: `day must be a calendar date YYYY-MM-DD, received ${JSON.stringify(day.slice(0, 100))}` });
      }
      return json(200, { day, time_zone: this.core.timeZone(), rows: this.core.ledger(day) });
    }
    if (action === "devices" && request.method === "GET") {
      const denied = need("manage_devices");
      if (denied) return denied;
      return json(200, { devices: this.core.devices() });
    }
    if (action === "revoke" && request.method === "POST") {
      const denied = need("manage_devices");
      if (denied) return denied;
      const raw = decodeSegment(url.pathname.split("/").at(-2)!);
      const target = DeviceId.safeParse(raw);
      if (!target.success) {
        return json(400, { error: "bad_request", message: `device id ${JSON.stringify((raw ?? "").slice(0, 100))}: ${target.error.issues[0]?.message}` });
      }
      if (target.data === actor.device_id) {
        return json(400, { error: "bad_request", message: "a device cannot revoke itself; revoke it from another manager's device" });
      }
      const body = parseBody(RevokeRequest, await request.text());
      if (!body.ok) return json(400, { error: "bad_request", message: body.error });
      const revoked = this.core.revokeDevice(actor, target.data, body.value.reason);
      this.room.disconnectDevice(target.data, "device_revoked", `this device was revoked by ${actor.user_id}: ${body.value.reason}`);
      return json(200, { device_id: target.data, revoked_at: revoked.revoked_at, already: revoked.already });
    }
    return json(404, { error: "not_found", message: `no ${request.method} ${url.pathname}` });
  }
}

function peerOf(connection: Connection<Session>): Peer {
  return {
    id: connection.id,
    session: () => connection.state ?? null,
    setSession: (session) => void connection.setState(session),
    // A device may vanish while its messages are being handled (a cut, a crash). Its answer has
    // nowhere to go; what it sent is in storage, and it asks again when it reconnects.
    send: (text) => {
      if (connection.readyState === WebSocket.READY_STATE_OPEN) connection.send(text);
    },
    close: (code, reason) => connection.close(code, reason),
  };
}

function claimsOf(request: Request): DeviceClaims | null {
  const header = request.headers.get(CLAIMS_HEADER);
  if (!header) return null;
  try {
    const parsed = DeviceClaims.safeParse(JSON.parse(header));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
