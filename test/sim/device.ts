/**
 * One simulated desktop: a real LocalStore on a real SQLite file, the real SyncEngine (the XState
 * sync machine and the real session), wired to the simulated clock, network and randomness.
 *
 * A crash is a killed process: its timers never fire again, its connections get no more callbacks
 * (the OS closes them, or, after a power cut, the server only notices by timeout), its SQLite file
 * is closed and reopened by a new process incarnation with a new engine, losing everything that
 * was only in memory (chunked uploads in progress, the machine's state, backoff, prefetch).
 */
import { copyFileSync, existsSync } from "node:fs";
import path from "node:path";
import { LocalStore } from "../../desktop/store/local-store.js";
import { SyncEngine } from "../../desktop/sync/engine.js";
import type { Change, Push } from "../../protocol/index.js";
import type { OpenSocket } from "../../desktop/sync/transport.js";
import type { Role } from "../../domain/index.js";
import { base64UrlEncode } from "../../lib/bytes.js";
import type { DeviceClaims } from "../../protocol/token.js";
import { SIM_BRANCH } from "./branch.js";
import type { Network } from "./network.js";
import { Prng } from "../support/prng.js";
import { type Scheduler, TimerScope } from "./scheduler.js";

export const SIM_SERVER_URL = "http://sim.invalid";

export interface DeviceSpec {
  index: number;
  role: Role;
  /** This till's clock minus the true time. */
  skewMs: number;
  /** Changes applied per transaction before the session yields (I8). */
  sliceSize: number;
  /** `limit` of each pull: small pages exercise paging and prefetch. */
  pullPageLimit: number;
  /** Push batches in flight at most (1 = one push at a time, the app's is MAX_BATCHES_IN_FLIGHT). */
  maxBatchesInFlight: number;
  /** Events per push at most: small batches put several in flight with a few writes. */
  maxBatchEvents: number;
}

/** The events a device pushed on one connection, in the order they went out. */
export interface PushedOn {
  connection: string;
  eventIds: string[];
}

/** A device id of the protocol's UUID form, one per index. */
export const simDeviceId = (index: number) => `01936f3c-0000-7000-8000-${(0xd00 + index).toString(16).padStart(12, "0")}`;

const encoder = new TextEncoder();

/**
 * A device token the simulated Worker accepts. Its signature is not a real HMAC: the Worker's token
 * check is not part of the simulation (signing with WebCrypto is real asynchronous work and would
 * make the run depend on the thread pool).
 */
export function simToken(deviceId: string, user: string, role: Role, iatS: number): string {
  const claims: DeviceClaims = { v: 1, branch: SIM_BRANCH as DeviceClaims["branch"], device: deviceId as DeviceClaims["device"], user: user as DeviceClaims["user"], role, iat: iatS, exp: iatS + 90 * 86_400 };
  return `sv1.${base64UrlEncode(encoder.encode(JSON.stringify(claims)))}.${base64UrlEncode(new Uint8Array(32))}`;
}

const templates = new Map<string, string>();

/** An empty, migrated, closed store file in `root` (one per folder, reused by every run in it). */
function emptyStoreTemplate(root: string): string {
  let file = templates.get(root);
  if (!file || !existsSync(file)) {
    file = path.join(root, `empty-store-${process.pid}.sqlite`);
    LocalStore.open(file).close();
    templates.set(root, file);
  }
  return file;
}

export class SimDevice {
  readonly deviceId: string;
  readonly userId: string;
  readonly path: string;
  role: Role;
  token: string;
  store: LocalStore | null = null;
  engine: SyncEngine | null = null;
  #scope: TimerScope | null = null;
  incarnation = 0;
  /** Connectivity as the OS reports it to the engine (CONNECTIVITY.ONLINE/OFFLINE). */
  online = true;
  crashes = 0;
  /** Times this device's engine went to "replaced" (see boot). */
  replaced = 0;
  #replacedNow = false;
  /** (seq, event id) of every change this device applied, over all its incarnations, in order. */
  readonly applied: Array<{ seq: number; event_id: string }> = [];
  /** I4 breaches seen while it ran (applied out of order, cursor moved back or lost in a crash). */
  readonly orderViolations: string[] = [];
  /** The session's diagnostics (errors it caught, server errors it received). */
  readonly logs: string[] = [];
  /** Every connection's pushed events, over all incarnations (checked by invariants.ts: once each, in queue order). */
  readonly pushed: PushedOn[] = [];
  /** Pushes sent while an earlier push on the same connection had no verdicts yet: the run pipelined this often. */
  pipelined = 0;
  readonly #ids: Prng;
  readonly #jitter: Prng;
  readonly #cliIds: Prng;

  constructor(
    readonly spec: DeviceSpec,
    private readonly scheduler: Scheduler,
    private readonly network: Network,
    dir: string,
    /** Where the empty store template lives (a folder that outlives the run when many runs share it). */
    private readonly templateDir: string,
    seed: number,
    private readonly trace: ((line: string) => void) | null,
  ) {
    this.deviceId = simDeviceId(spec.index);
    this.userId = `user${spec.index}`;
    this.role = spec.role;
    this.path = path.join(dir, `device-${spec.index}.sqlite`);
    this.token = simToken(this.deviceId, this.userId, spec.role, Math.floor(scheduler.now / 1000));
    this.#ids = new Prng(seed, `ids ${spec.index}`);
    this.#jitter = new Prng(seed, `jitter ${spec.index}`);
    this.#cliIds = new Prng(seed, `cli ids ${spec.index}`);
  }

  get up(): boolean {
    return this.store !== null;
  }

  get name(): string {
    return `d${this.spec.index}`;
  }

  nowMs(): number {
    return this.scheduler.now + this.spec.skewMs;
  }

  /** Starts a process: opens the SQLite file (binding it on first start) and a new engine. */
  boot(): void {
    if (this.up) return;
    this.incarnation++;
    this.#replacedNow = false;
    const scope = new TimerScope(this.scheduler, `${this.name}#${this.incarnation}`);
    // A new device starts from an empty store file already migrated to the current layout (made once
    // per folder by LocalStore.open itself): the same bytes a first open would write, 8 ms cheaper.
    if (!existsSync(this.path)) copyFileSync(emptyStoreTemplate(this.templateDir), this.path);
    // durability "fast" (no fsync) loses nothing a process crash can lose; fsync only matters for a
    // power cut, which is not simulated (a crash here is a killed process: see the file comment).
    // Without the fsyncs a seed takes milliseconds instead of most of a second.
    const store = LocalStore.open(this.path, { clockMs: () => this.nowMs(), random: (b) => this.#ids.fill(b), durability: "fast" });
    if (!store.config()) {
      const bound = store.init({ server_url: SIM_SERVER_URL, token: this.token });
      if (!bound.ok) throw new Error(bound.error);
    }
    const last = this.applied.at(-1)?.seq ?? 0;
    if (store.cursor() !== last) {
      this.orderViolations.push(`${this.name} restarted with cursor ${store.cursor()}, but the last change it applied was seq ${last} (lost or invented in the crash)`);
    }
    this.#watchApplied(store);
    this.engine = new SyncEngine({
      store,
      openSocket: this.#recordingPushes(this.network.socketFactory(this.spec.index, this.incarnation)),
      random: () => this.#jitter.next(),
      timers: scope,
      yieldToEventLoop: scope.yieldToEventLoop,
      newRequestId: () => this.#ids.uuid4(),
      pullPageLimit: this.spec.pullPageLimit,
      sliceSize: this.spec.sliceSize,
      maxBatchesInFlight: this.spec.maxBatchesInFlight,
      maxBatchEvents: this.spec.maxBatchEvents,
      // The simulated branch has no snapshot (R2 is not simulated): the bootstrap finds none and pulls from 0.
      fetch: async () => new Response(JSON.stringify({ error: "not_found" }), { status: 404 }),
      onLog: (line) => {
        if (this.logs.length < 200) this.logs.push(`${this.name}#${this.incarnation} at ${this.scheduler.now}: ${line}`);
      },
    });
    this.store = store;
    this.#scope = scope;
    // "replaced" means another install of this device took over; the simulation has one install per
    // device, so the state is always a false alarm, and one that stops syncing until a user acts.
    this.engine.subscribe((status) => {
      if (status.kind === "replaced" && this.#scope === scope && !this.#replacedNow) this.replaced++;
      this.#replacedNow = status.kind === "replaced";
    });
    if (this.trace) {
      // Passive: reading the status changes nothing, so a traced run is the same run.
      let last = "";
      const tag = `${this.name}#${this.incarnation}`;
      this.engine.subscribe((status) => {
        const line =
          status.kind === "syncing" ? `syncing (${status.phase})`
          : status.kind === "backoff" ? `backoff #${status.attempt} (${status.lastClose ? `${status.lastClose.code} ${status.lastClose.reason}` : "no close"})`
          : status.kind === "auth_failed" ? `auth_failed (${status.reason})`
          : status.kind;
        if (line !== last && this.#scope === scope) this.trace?.(`${tag} ${line}, cursor ${store.cursor()}`);
        last = line;
      });
    }
    this.engine.start(this.online);
    this.trace?.(`${this.name} boots (#${this.incarnation}, ${this.online ? "online" : "offline"}, cursor ${store.cursor()})`);
  }

  /** Kills the process: see the file comment. */
  crash(): void {
    if (!this.up) return;
    this.crashes++;
    this.trace?.(`${this.name} crashes (#${this.incarnation}, status ${this.engine!.status().kind})`);
    this.network.processDied(this.spec.index);
    this.#teardown();
  }

  /** Kills the process's timers, frees the actor (its session's cleanup closes a socket that is already gone and runs no timer), closes the file. */
  #teardown(): void {
    this.#scope!.kill();
    this.engine!.stop();
    this.store!.close();
    this.store = null;
    this.engine = null;
    this.#scope = null;
  }

  /**
   * `studiovault` run from a terminal beside the app: another process opens the same SQLite file,
   * writes, and exits, without telling the running engine (its queue poll finds the write).
   */
  withOtherProcess<T>(act: (store: LocalStore) => T): T {
    const store = LocalStore.open(this.path, { clockMs: () => this.nowMs(), random: (b) => this.#cliIds.fill(b), durability: "fast" });
    try {
      return act(store);
    } finally {
      store.close();
    }
  }

  /** A clean shutdown at the end of a run. */
  shutdown(): void {
    if (this.up) this.#teardown();
  }

  setOnline(online: boolean): void {
    this.online = online;
    this.engine?.setOnline(online);
  }

  /**
   * The device gets a new token with another role (a manager demoted to cashier, say). Events it
   * queued under the old role are judged by the server under the new one.
   */
  changeRole(role: Role): void {
    if (!this.up) return;
    this.role = role;
    this.token = simToken(this.deviceId, this.userId, role, Math.floor(this.scheduler.now / 1000));
    const bound = this.store!.init({ server_url: SIM_SERVER_URL, token: this.token });
    if (!bound.ok) throw new Error(bound.error);
    this.engine!.tokenUpdated();
  }

  /**
   * Records the events of every push the session sends, per connection. Passive: the frames go out
   * unchanged. (A batch in chunks is not recorded: the simulation's batches always fit one frame.)
   */
  #recordingPushes(open: OpenSocket): OpenSocket {
    return (url, handlers) => {
      const on: PushedOn = { connection: `${this.name}#${this.incarnation} socket ${this.pushed.length + 1}`, eventIds: [] };
      this.pushed.push(on);
      const unanswered = new Set<string>();
      const socket = open(url, {
        ...handlers,
        message: (text) => {
          if (text.startsWith('{"type":"verdicts"')) unanswered.delete((JSON.parse(text) as { batch_id: string }).batch_id);
          handlers.message(text);
        },
      });
      return {
        send: (text) => {
          if (text.startsWith('{"type":"push"')) {
            const push = JSON.parse(text) as Push;
            for (const event of push.events) on.eventIds.push(event.id);
            if (unanswered.size > 0) this.pipelined++;
            unanswered.add(push.batch_id);
          }
          socket.send(text);
        },
        close: (code, reason) => socket.close(code, reason),
      };
    };
  }

  /** Records every change the store applies and checks it continues the cursor (I4). */
  #watchApplied(store: LocalStore): void {
    const apply = store.applyChanges.bind(store);
    store.applyChanges = (changes: readonly Change[]) => {
      const before = store.cursor();
      const result = apply(changes);
      let expected = before + 1;
      for (const change of changes) {
        if (change.seq <= before) continue;
        if (change.seq > result.cursor) break;
        if (change.seq !== expected) {
          this.orderViolations.push(`${this.name} applied seq ${change.seq} right after seq ${expected - 1}`);
        }
        this.applied.push({ seq: change.seq, event_id: change.event_id });
        expected = change.seq + 1;
      }
      if (result.cursor < before) this.orderViolations.push(`${this.name}'s cursor moved back from ${before} to ${result.cursor}`);
      if (result.cursor - before !== result.applied && result.cursor >= before) {
        this.orderViolations.push(`${this.name}'s cursor moved from ${before} to ${result.cursor} applying ${result.applied} change(s)`);
      }
      return result;
    };
  }
}
