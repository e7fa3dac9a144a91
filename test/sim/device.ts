/**
 * One simulated desktop: a real LocalStore on a real SQLite file, the real SyncEngine (the XState
 * sync machine and the real session), wired to the simulated clock, network and randomness.
 *
 * A crash is a killed process: its timers never fire again, its connections get no more callbacks
 * (the OS closes them, or, after a power cut, the server only notices by timeout), its SQLite file
 * is closed and reopened by a new process incarnation with a new engine, losing everything that
 * was only in memory (chunked uploads in progress, the machine's state, backoff, prefetch).
 */
import { createHash } from "node:crypto";
import { copyFileSync, existsSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { LocalStore } from "../../desktop/store/local-store.js";
import { SyncEngine } from "../../desktop/sync/engine.js";
import { type Change, isIncrement, PosFact, type Push, SnapshotLine, type SnapshotManifest, type Verdict } from "../../protocol/index.js";
import { EntityId } from "../../domain/index.js";
import type { SnapshotItem } from "../../desktop/store/rehydrate.js";
import { BootstrapError } from "../../desktop/sync/bootstrap.js";
import type { OpenSocket } from "../../desktop/sync/transport.js";
import type { Role } from "../../domain/index.js";
import { base64UrlEncode } from "../../lib/bytes.js";
import type { DeviceClaims } from "../../protocol/token.js";
import { SIM_BRANCH, type StoredSnapshot } from "./branch.js";
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

/**
 * A bootstrap the device made from the simulated R2: its cursor jumped from `from` to `to` (the
 * chain's last seq) after it had applied `atApplied` changes (SimDevice.applied) over its life.
 */
export interface BootstrapRecord {
  atApplied: number;
  from: number;
  to: number;
  /** The branch's head when it was swapped in (the chain never lies ahead of it). */
  head: number;
  links: number;
  /** Queued events (pending or sent) the store kept across it, to be sent (again) after. */
  queued: number;
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
  /** Seqs the cursor moved over from this device's own verdicts (v11, echo off), not from changes. */
  byVerdict = 0;
  /** Every snapshot bootstrap swapped in (the first one and re-bootstraps after compaction). */
  readonly bootstraps: BootstrapRecord[] = [];
  /** Bootstraps that failed on purpose (a download cut short, simulated) and were retried by the machine. */
  bootstrapFailures = 0;
  /** The cursor as the device last moved it (applying changes or bootstrapping): a restart must find it there. */
  #cursorSeen = 0;
  readonly #boot: Prng;
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
    /** The simulated R2's newest chain (SimBranch.latestChain) and the branch's head; null: the branch exports no snapshots. */
    private readonly snapshots: { latestChain: () => StoredSnapshot[] | null; head: () => number } | null = null,
  ) {
    this.deviceId = simDeviceId(spec.index);
    this.userId = `user${spec.index}`;
    this.role = spec.role;
    this.path = path.join(dir, `device-${spec.index}.sqlite`);
    this.token = simToken(this.deviceId, this.userId, spec.role, Math.floor(scheduler.now / 1000));
    this.#ids = new Prng(seed, `ids ${spec.index}`);
    this.#jitter = new Prng(seed, `jitter ${spec.index}`);
    this.#cliIds = new Prng(seed, `cli ids ${spec.index}`);
    this.#boot = new Prng(seed, `bootstrap ${spec.index}`);
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
    if (store.cursor() !== this.#cursorSeen) {
      this.orderViolations.push(`${this.name} restarted with cursor ${store.cursor()}, but it last moved it to seq ${this.#cursorSeen} (lost or invented in the crash)`);
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
      // The simulation's seam (engine.ts): the bootstrap stages the simulated R2's newest chain (none: null, pull from 0).
      bootstrapper: (s) => this.#bootstrapFromChain(s, scope),
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

  /**
   * The bootstrap (desktop/sync/bootstrap.ts) against the simulated R2: the newest chain, nothing if
   * it is not ahead of the cursor; sometimes a download cut short (a BootstrapError, before anything
   * is staged, the machine backs off and retries); each link's SHA-256 checked, its lines checked
   * as bootstrap.ts checks them and staged with the store's real staging API, a slice per
   * transaction with a yield between slices (a crash may land there: the staging dies with the
   * connection), then the one-transaction swap. Returns the chain's last manifest.
   */
  async #bootstrapFromChain(store: LocalStore, scope: TimerScope): Promise<SnapshotManifest | null> {
    const chain = this.snapshots?.latestChain() ?? null;
    if (chain === null) return null;
    const last = chain.at(-1)!.manifest;
    if (last.seq <= store.cursor()) return null;
    await scope.yieldToEventLoop(); // the manifest request
    if (this.#boot.chance(0.1)) {
      this.bootstrapFailures++;
      this.trace?.(`${this.name} snapshot download cut short (simulated)`);
      throw new BootstrapError(`the snapshot download stopped (simulated); it resumes on the next try`);
    }
    const linesPerSlice = this.#boot.pick([1, 7, 50, 1_000]);
    const staging = store.stageSnapshot();
    try {
      for (const { manifest, data } of chain) {
        if (createHash("sha256").update(data).digest("hex") !== manifest.sha256) throw new BootstrapError(`the snapshot at seq ${manifest.seq} is corrupt`);
        const lines = gunzipSync(data).toString("utf8").split("\n").filter((l) => l !== "");
        const link = isIncrement(manifest) ? "increment" : "base";
        const items = linkItems(lines, manifest);
        for (let i = 0; i < lines.length; i += linesPerSlice) {
          staging.stage(take(items, linesPerSlice), link);
          await scope.yieldToEventLoop();
        }
        if (!items.next().done) throw new BootstrapError(`the snapshot at seq ${manifest.seq}: lines left unstaged`);
      }
      const from = store.cursor();
      const queued = store.summary().pending;
      if (last.seq <= from) return null; // cannot happen: nothing else moves the cursor while bootstrapping
      staging.swap(last.seq, `snapshot seq ${last.seq} (simulated R2, ${chain.length} link(s))`);
      this.bootstraps.push({ atApplied: this.applied.length, from, to: last.seq, head: this.snapshots!.head(), links: chain.length, queued });
      this.#cursorSeen = last.seq;
      this.trace?.(`${this.name} bootstrapped from seq ${from} to snapshot seq ${last.seq} (${chain.length} link(s)), ${queued} queued event(s) kept`);
      return last;
    } finally {
      staging.discard();
    }
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
      this.#cursorSeen = result.cursor;
      if (result.cursor < before) this.orderViolations.push(`${this.name}'s cursor moved back from ${before} to ${result.cursor}`);
      if (result.cursor - before !== result.applied && result.cursor >= before) {
        this.orderViolations.push(`${this.name}'s cursor moved from ${before} to ${result.cursor} applying ${result.applied} change(s)`);
      }
      return result;
    };
    // v11: the cursor also moves over this device's own commits from their verdicts (echo off). Each
    // seq it moves over is recorded as applied with the verdict's event: invariants.ts then checks it
    // continues the cursor and is the commit the server made at that seq, as for a change.
    const verdicts = store.applyVerdicts.bind(store);
    store.applyVerdicts = (batchId: string, given: readonly Verdict[]) => {
      const before = store.cursor();
      const result = verdicts(batchId, given);
      const bySeq = new Map(given.flatMap((v) => (v.status === "confirmed" ? [[v.seq, v.event_id] as const] : [])));
      for (let seq = before + 1; seq <= result.cursor; seq++) {
        const event_id = bySeq.get(seq);
        if (event_id === undefined) {
          this.orderViolations.push(`${this.name}'s cursor moved over seq ${seq} applying verdicts that do not name it`);
          break;
        }
        this.applied.push({ seq, event_id });
        this.byVerdict++;
      }
      if (result.cursor < before) this.orderViolations.push(`${this.name}'s cursor moved back from ${before} to ${result.cursor} applying verdicts`);
      this.#cursorSeen = result.cursor;
      return result;
    };
  }
}

/** The first `n` items of `items` (a shared generator: the next call goes on where this one stopped). */
function* take<T>(items: Iterator<T>, n: number): Generator<T> {
  for (let i = 0; i < n; i++) {
    const next = items.next();
    if (next.done) return;
    yield next.value;
  }
}

/**
 * The items of one link's lines, checked as desktop/sync/bootstrap.ts checks them (header against the
 * manifest, each line's shape, the end line's counts), throwing a BootstrapError on anything wrong.
 * One item per line after the header (none for the end line, which comes last).
 */
function* linkItems(lines: readonly string[], manifest: SnapshotManifest): Generator<SnapshotItem> {
  const fail = (why: string) => new BootstrapError(`the snapshot at seq ${manifest.seq} is not valid: ${why}`);
  const [first, ...rest] = lines;
  const header = SnapshotLine.safeParse(JSON.parse(first ?? "null"));
  if (!header.success || header.data.kind !== "header") throw fail("it does not start with a header");
  if (header.data.seq !== manifest.seq || header.data.base_seq !== manifest.base_seq || header.data.branch_id !== manifest.branch_id) throw fail("the header does not match the manifest");
  const read = { entities: 0, pos_orders: 0, pos_voids: 0 };
  let ended = false;
  for (const text of rest) {
    if (ended) throw fail("lines after the end line");
    const raw = JSON.parse(text) as { kind?: unknown; entity?: Extract<SnapshotItem, { kind: "entity" }>["entity"]; pos?: unknown; entity_id?: unknown; seq?: unknown };
    switch (raw.kind) {
      case "entity":
        if (!raw.entity || typeof raw.entity.entity_id !== "string" || typeof raw.entity.version !== "number") throw fail("an entity line without an entity");
        read.entities++;
        yield { kind: "entity", entity: raw.entity };
        break;
      case "pos_order":
        read.pos_orders++;
        yield { kind: "pos_order", fact: PosFact.parse(raw.pos) };
        break;
      case "pos_void":
        if (typeof raw.seq !== "number") throw fail("a void line is malformed");
        read.pos_voids++;
        yield { kind: "pos_void", entity_id: EntityId.parse(raw.entity_id), seq: raw.seq };
        break;
      case "end": {
        const end = SnapshotLine.parse(raw);
        if (end.kind !== "end" || end.entities !== read.entities || end.pos_orders !== read.pos_orders || end.pos_voids !== read.pos_voids) throw fail("its counts do not add up");
        ended = true;
        break;
      }
      default:
        throw fail(`an unknown line kind ${JSON.stringify(raw.kind)}`);
    }
  }
  if (!ended) throw fail("it is truncated (no end line)");
}
