/**
 * The branch Durable Object: a thin shell (partyserver `Server`) around the runtime-free core. It only
 * adapts: the SQLite handle, the clock, hibernatable sockets, alarms, R2 and partyserver's hooks. What
 * a branch does is in core/ (BranchCore, BranchRoom, BranchHttpApi). The Worker has verified the device
 * token and passes the claims in CLAIMS_HEADER; a Durable Object is reachable only through its Worker.
 */
import { type Connection, type ConnectionContext, Server } from "partyserver";
import { type BranchId, compileEventSchemas, type TransferId, uuidv7 } from "../domain/index.js";
import { type SnapshotManifest } from "../protocol/index.js";
import { doSqlStore } from "./adapters/do-sqlite.js";
import { signDeviceToken } from "./auth.js";
import { BranchHousekeeping } from "./adapters/housekeeping.js";
import { peerOf } from "./adapters/partyserver-peer.js";
import type { Actor } from "./core/actor.js";
import { BranchCore } from "./core/branch.js";
import type { CompactionSettings } from "./core/compaction.js";
import { BranchHttpApi } from "./core/http-api.js";
import { BranchRoom, type Session } from "./core/room.js";
import { answerOrInternalError, claimsOf, json } from "./http.js";

/**
 * The event schemas, compiled while this module is evaluated: the only time workerd lets code be
 * generated (domain/events.ts compileEventSchemas). Every event pushed to any branch in this isolate is
 * then checked by compiled code.
 */
export const EVENT_SCHEMAS_COMPILED = compileEventSchemas();

/** The bindings of the Worker and of its branch Durable Objects (wrangler.toml, secrets). */
export interface Env {
  BRANCH: DurableObjectNamespace<BranchDurableObject>;
  SNAPSHOTS: R2Bucket;
  TOKEN_SECRET: string;
  /** Refused device tokens per client address (wrangler.toml `[[ratelimits]]`), used by the Worker. */
  TOKEN_REFUSALS: RateLimit;
  /** Sign-in code exchanges (`POST …/enroll`, no token) per client address (wrangler.toml), used by the Worker. */
  ENROLL_ATTEMPTS?: RateLimit;
  /** The IANA time zone a branch takes when it is first used (wrangler.toml `[vars]`); default UTC. */
  BRANCH_TIME_ZONE?: string;
  /** The studio details a new branch starts with, until a manager sets its own (wrangler.toml `[vars]`). */
  STUDIO_NAME?: string;
  STUDIO_ADDRESS?: string;
  STUDIO_PHONE?: string;
  STUDIO_TAX_ID?: string;
  /**
   * Compaction of the log (core/compaction.ts, docs/protocol/compaction.md): the newest commits kept,
   * how long commits are kept (ms), and how far the retention point must move before a pass starts.
   * Unset: the defaults (COMPACTION_RETAIN_COMMITS, COMPACTION_RETAIN_MS, COMPACTION_MIN_STEP_COMMITS).
   */
  COMPACTION_RETAIN_COMMITS?: string;
  COMPACTION_RETAIN_MS?: string;
  COMPACTION_MIN_STEP_COMMITS?: string;
}

/** The compaction settings the vars name; a var that is set must be a whole number ≥ 0. */
function compactionSettings(env: Env): Partial<CompactionSettings> {
  const read = (name: "COMPACTION_RETAIN_COMMITS" | "COMPACTION_RETAIN_MS" | "COMPACTION_MIN_STEP_COMMITS") => {
    const raw = env[name];
    if (raw === undefined || raw === "") return undefined;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a whole number ≥ 0, received ${JSON.stringify(raw)}`);
    return n;
  };
  const settings = { retainCommits: read("COMPACTION_RETAIN_COMMITS"), retainMs: read("COMPACTION_RETAIN_MS"), minStepCommits: read("COMPACTION_MIN_STEP_COMMITS") };
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
}

/** Where a branch object reads the time: only tests inside workerd replace it (`useClock`), to age uploads, tokens and schedules. A symbol, so no Worker can call it over RPC. */
const CLOCK = Symbol("clock");
export function useClock(instance: BranchDurableObject, clockMs: () => number): void {
  instance[CLOCK] = clockMs;
}

/** The compaction settings a branch object uses instead of its vars: only tests inside workerd set them (`useCompaction`). */
const COMPACTION = Symbol("compaction");
export function useCompaction(instance: BranchDurableObject, settings: Partial<CompactionSettings>): void {
  instance[COMPACTION] = settings;
}

/** The heartbeat frame idle clients send; answered by the runtime without waking the object. */
const IDLE_PING = '{"type":"ping","nonce":0}';
const IDLE_PONG = '{"type":"pong","nonce":0}';

export class BranchDurableObject extends Server<Env> {
  static override options = { hibernate: true };

  [CLOCK]: () => number = () => Date.now();
  [COMPACTION]: Partial<CompactionSettings> | null = null;
  #arrivals: Promise<void> = Promise.resolve();

  /** The branch core; the one clock of this object is the core's (`core.nowMs()`). */
  get core(): BranchCore {
    return (this.#core ??= new BranchCore(doSqlStore(this.ctx.storage), this.name as BranchId, () => this[CLOCK](), {
      defaultTimeZone: this.env.BRANCH_TIME_ZONE,
      defaultStudio: { name: this.env.STUDIO_NAME, address: this.env.STUDIO_ADDRESS, phone: this.env.STUDIO_PHONE, tax_id: this.env.STUDIO_TAX_ID },
      // Read when compaction runs, so a test's useCompaction applies to a core already made.
      compaction: () => this[COMPACTION] ?? (this.#compaction ??= compactionSettings(this.env)),
    }));
  }
  #core: BranchCore | undefined;
  #compaction: Partial<CompactionSettings> | undefined;

  /** The alarm and the snapshot exports to R2. */
  get housekeeping(): BranchHousekeeping {
    return (this.#housekeeping ??= new BranchHousekeeping(this.core, this.ctx.storage, this.env.SNAPSHOTS));
  }
  #housekeeping: BranchHousekeeping | undefined;

  get room(): BranchRoom {
    return (this.#room ??= new BranchRoom(this.core, {
      peers: () => Array.from(this.getConnections<Session>(), peerOf),
      newTransferId: () => uuidv7(this.core.nowMs(), (b) => crypto.getRandomValues(b)) as TransferId,
      // Not awaited: the room's host calls are synchronous. A failed setAlarm is an unhandled rejection, which workerd logs.
      wakeAt: (ms) => void this.housekeeping.wakeAt(ms),
      log: (message, error) => console.error(message, error),
      committed: (head) => void this.housekeeping.wakeAt(this.core.snapshotDueAt(head)),
    }));
  }
  #room: BranchRoom | undefined;

  get api(): BranchHttpApi {
    return (this.#api ??= new BranchHttpApi(this.core, {
      publish: (changes) => this.room.publish(changes),
      disconnectDevice: (device, reason, message) => void this.room.disconnectDevice(device, reason, message),
      exportSnapshot: (by) => this.exportSnapshot("request", by),
      newRequestId: () => crypto.randomUUID(),
      connectedDevices: () => this.room.connectedDevices(),
      mintToken: (claims) => signDeviceToken(claims, this.env.TOKEN_SECRET),
      newDeviceId: () => uuidv7(this.core.nowMs(), (b) => crypto.getRandomValues(b)),
      randomBytes: (bytes) => void crypto.getRandomValues(bytes),
      wakeAt: (ms) => void this.housekeeping.wakeAt(ms),
    }));
  }
  #api: BranchHttpApi | undefined;

  override onStart(): void {
    this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(IDLE_PING, IDLE_PONG));
    void this.core; // run migrations before the first message
    // The room takes the rejection and audit heads it has told watchers as of its construction: built
    // lazily by an HTTP push after a wake from hibernation (watchers' sockets survive it), it would
    // take the heads after that push and never tell its rejections.
    void this.room;
  }

  override onConnect(connection: Connection<Session>, ctx: ConnectionContext): void {
    const claims = claimsOf(ctx.request);
    if (claims) this.room.connect(peerOf(connection), claims);
    else connection.close(4001, "unauthorized");
  }

  /**
   * Frames go to the room in the order they arrived. workerd hands a socket's frames over without
   * waiting for the previous handler, and partyserver awaits its start-up (a storage read, then
   * blockConcurrencyWhile, on the first event after a wake) before `onMessage`: a frame arriving just
   * after could reach onMessage first (never seen under plain workerd, but nothing rules it out). So
   * each frame is chained here, synchronously, behind the one before. The room handles frames one at a time anyway (#serial), so no concurrency is lost.
   * partyserver's handler never rejects (it logs its own errors), so the chain cannot break.
   */
  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    return (this.#arrivals = this.#arrivals.then(() => super.webSocketMessage(ws, message)));
  }

  override async onMessage(connection: Connection<Session>, message: string | ArrayBuffer): Promise<void> {
    await this.room.message(peerOf(connection), message);
  }

  /** The client or the network closed a connection: the room closes its session and tells watchers. */
  override onClose(connection: Connection<Session>): Promise<void> {
    return this.room.closed(peerOf(connection));
  }

  /** A socket error the runtime reports (a frame over its limit, mostly): the room closes the session; one log line. */
  override onError(connection: Connection<Session>, error: unknown): void {
    const reported = this.room.socketError(peerOf(connection), error);
    console.warn(JSON.stringify({ event: "websocket_error", branch: this.name, connection: connection.id, ...reported }));
  }

  /** Housekeeping; what it audits (a snapshot export) reaches watchers right after. */
  override async onAlarm(): Promise<void> {
    const room = this.room;
    await this.housekeeping.alarm();
    await room.tellWatchers();
  }

  /** Exports a snapshot now (one at a time: a second request joins the running export). */
  exportSnapshot(trigger: "alarm" | "request", by: Actor | null = null): Promise<SnapshotManifest> {
    return this.housekeeping.exportSnapshot(trigger, by);
  }

  /** RPC from the Worker, which serves snapshot reads from R2 itself: is this device revoked? */
  isDeviceRevoked(deviceId: string): boolean {
    return this.core.isRevoked(deviceId);
  }

  override onRequest(request: Request): Promise<Response> {
    return answerOrInternalError(request, `on branch ${this.name}`, "the branch", async () => {
      const room = this.room; // made before the request changes anything: it reads what watchers were last told
      const answer = await this.api.handle({ method: request.method, url: new URL(request.url), claims: claimsOf(request), text: () => request.text() });
      await room.tellWatchers();
      return json(answer.status, answer.body);
    });
  }
}
