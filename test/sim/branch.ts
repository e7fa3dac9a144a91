/**
 * The branch under simulation: the real BranchCore on better-sqlite3 behind the real BranchRoom, as
 * the Durable Object runs them, with the simulated clock and the simulated network as its host.
 */
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { nodeSqlStore } from "../../durable/adapters/node-sqlite.js";
import { BranchCore } from "../../durable/core/branch.js";
import { compactionState, type CompactionSettings } from "../../durable/core/compaction.js";
import { nextSnapshotIsBase } from "../../durable/core/snapshot-schedule.js";
import type { SnapshotCounts } from "../../durable/core/snapshot-source.js";
import { BASE_SNAPSHOT_FORMAT_VERSION, isIncrement, SnapshotManifest, snapshotKey, SNAPSHOT_FORMAT_VERSION } from "../../protocol/index.js";
import type { SqlStore } from "../../durable/core/sql.js";
import type { LeaseAnswer } from "../../durable/core/leases.js";
import type { LeaseRequest } from "../../protocol/index.js";
import { BranchRoom } from "../../durable/core/room.js";
import { type BranchId, type DeviceId, type TransferId, type UserId, uuidv7 } from "../../domain/index.js";
import type { Network } from "./network.js";
import type { Prng } from "../support/prng.js";
import type { Scheduler } from "./scheduler.js";

export const SIM_BRANCH = "sim-branch";

/**
 * durable/snapshots/export.ts CHAINS_KEPT (not imported: that module is typed against the Workers
 * runtime, R2 and DigestStream, which the node project does not load).
 */
const CHAINS_KEPT = 2;

/**
 * One lease request the branch answered, as the simulation saw it happen: when (simulated ms), the
 * branch's head then (commits up to it came before, later ones after), who asked what, and the answer.
 */
export interface LeaseLogEntry {
  atMs: number;
  head: number;
  device_id: string;
  request: LeaseRequest;
  result: LeaseAnswer["result"];
}

/**
 * The run's snapshots and compaction (protocol v9), drawn from the seed (run.ts configFor); null: the
 * branch never exports a snapshot, so it never compacts either.
 */
export interface SnapshotPlan {
  /** Mean simulated time between snapshot exports (and housekeeping alarms), during the chaos. */
  exportMeanMs: number;
  /** Lines an export reads per step: commits land between steps, as between an export's uploads. */
  exportLinesPerStep: number;
  /** The core's compaction settings (small, so that runs of a few dozen commits compact). */
  compaction: CompactionSettings;
}

/** One object of the simulated R2: a snapshot's manifest and its gzipped NDJSON. */
export interface StoredSnapshot {
  manifest: SnapshotManifest;
  data: Buffer;
}

/** One commit of the branch's log as the checks read it (kept by SimBranch.log across compaction). */
export interface LogRow {
  seq: number;
  event_id: string;
  device_id: string;
  entity_type: string;
  entity_id: string;
  operation: string;
  version: number;
  changed_fields: string;
  committed_at: string;
  /** A POS order's create: the order it corrects (from its version 1), else null. */
  corrects_order_id: string | null;
}

/** The log rows after `afterSeq` as stored now (a compacted commit is no longer among them). */
export function readLog(sql: SqlStore, afterSeq = 0): LogRow[] {
  const rows = sql.all<Omit<LogRow, "corrects_order_id">>(
    "SELECT seq, event_id, device_id, entity_type, entity_id, operation, version, changed_fields, committed_at FROM changes WHERE seq > ? ORDER BY seq",
    afterSeq,
  );
  return rows.map((c) => {
    let corrects: string | null = null;
    if (c.entity_type === "pos_order" && c.operation === "create") {
      const body = sql.one<{ body: string }>("SELECT body FROM entity_versions WHERE entity_id = ? AND version = 1 AND part = 0", c.entity_id);
      corrects = body ? (JSON.parse(body.body) as { data: { corrects_order_id: string | null } }).data.corrects_order_id : null;
    }
    return { ...c, corrects_order_id: corrects };
  });
}

export interface SnapshotStats {
  bases: number;
  increments: number;
  /** Exports abandoned because the Durable Object restarted under them. */
  abandoned: number;
  /** Compaction passes started, slices run, and change rows they removed. */
  passes: number;
  slices: number;
  removedChanges: number;
  /** Events pushed again after their commit left the log: answered from the exactly-once record (`compacted_verdicts`, I3). */
  answeredFromCompacted: number;
}

export class SimBranch {
  readonly sql = nodeSqlStore(":memory:");
  core!: BranchCore;
  room!: BranchRoom;
  /** What the room logged: it logs only internal errors, each one a broken boundary (I12). */
  readonly internalErrors: string[] = [];
  /** Every lease request answered, in order, across restarts: what the `lease` invariant checks commits against. */
  readonly leaseLog: LeaseLogEntry[] = [];
  restarts = 0;
  /** The simulated R2: every snapshot object kept (retention as export.ts: CHAINS_KEPT whole chains), in seq order. */
  readonly snapshots: StoredSnapshot[] = [];
  /** An increment's chain that did not stage to what a base at the same seq holds (checked on export, reported as I5). */
  readonly chainMismatches: string[] = [];
  readonly snapshotStats: SnapshotStats = { bases: 0, increments: 0, abandoned: 0, passes: 0, slices: 0, removedChanges: 0, answeredFromCompacted: 0 };
  /** The log as committed, copied before every compaction slice: what the checks read, whole (see log()). */
  readonly #history: LogRow[] = [];
  #exporting = false;
  #compacting = false;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly network: Network,
    private readonly prng: Prng,
    private readonly timeZone: string,
    /** Snapshots and compaction (null: none, as before protocol v9). */
    readonly plan: SnapshotPlan | null = null,
    /** The pacing of exports and compaction slices: a stream of its own, so the other draws stay the same. */
    private readonly work: Prng | null = null,
    private readonly trace: ((line: string) => void) | null = null,
  ) {
    this.#start();
  }

  /**
   * Every commit the branch ever made, in seq order: the rows compaction removed (copied before each
   * slice) and those still in the log. Not the branch's own reading: the simulation's record of it.
   */
  log(): LogRow[] {
    return [...this.#history, ...readLog(this.sql, this.#history.at(-1)?.seq ?? 0)];
  }

  /** The branch's `compacted_through` (0: never compacted). */
  compactedThrough(): number {
    return compactionState(this.sql).through;
  }

  #recordHistory(): void {
    this.#history.push(...readLog(this.sql, this.#history.at(-1)?.seq ?? 0));
  }

  /** The newest chain, its base first (what `GET …/snapshots/latest?chain=1` answers, export.ts latestChain), or null. */
  latestChain(): StoredSnapshot[] | null {
    const bases = this.snapshots.filter((s) => !isIncrement(s.manifest));
    const base = bases.at(-1);
    if (!base) return null;
    const chain = [base];
    for (const s of this.snapshots) {
      const tip = chain.at(-1)!.manifest;
      const m = s.manifest;
      if (isIncrement(m) && m.seq > base.manifest.seq && m.chain_seq === base.manifest.seq && m.base_seq === tip.seq && m.base_sha256 === tip.sha256) chain.push(s);
    }
    return chain;
  }

  /**
   * A snapshot export as durable/snapshots/export.ts does it, into the simulated R2: at the head, a
   * base or an increment after the chain's newest snapshot (nextSnapshotIsBase, on the real gzipped
   * sizes), the lines read from the core a few at a time with simulated time passing between steps
   * (commits land meanwhile, as between an export's uploads), then gzip and SHA-256, the manifest
   * (checked against its schema), the core told (snapshotExported, as the alarm's export does), and
   * retention. A restart of the Durable Object abandons an export in progress. Then compaction, as
   * the alarm runs it after an export.
   */
  exportSnapshot(): void {
    if (this.#exporting || !this.plan) return;
    const core = this.core;
    const seq = core.head();
    const chain = this.latestChain();
    const previous = chain?.at(-1)?.manifest ?? null;
    if (previous !== null && previous.seq >= seq) return void this.compact();
    const asBase =
      previous === null ||
      nextSnapshotIsBase({
        base_bytes: chain![0]!.manifest.byte_size,
        base_entities: entityLines(chain![0]!.manifest),
        increment_bytes: chain!.slice(1).map((s) => s.manifest.byte_size),
        commits_since: seq - previous.seq,
      });
    const counts: SnapshotCounts = { project: 0, invoice: 0, pos_order: 0, tombstones: 0, pos_facts: 0, pos_voids: 0 };
    const lines = core.snapshotLines(seq, counts, asBase ? null : previous.seq);
    const text: string[] = [];
    const restarts = this.restarts;
    this.#exporting = true;
    const step = () => {
      if (this.restarts !== restarts) {
        this.#exporting = false;
        this.snapshotStats.abandoned++;
        this.trace?.(`snapshot export at seq ${seq} abandoned: the branch restarted`);
        return;
      }
      for (let i = 0; i < this.plan!.exportLinesPerStep; i++) {
        const next = lines.next();
        if (next.done) return finish();
        text.push(next.value);
      }
      this.scheduler.after(this.work!.int(0, 20), "snapshot export step", step);
    };
    const finish = () => {
      this.#exporting = false;
      const joined = text.join("");
      const data = gzipSync(joined);
      const sha256 = createHash("sha256").update(data).digest("hex");
      const manifest = SnapshotManifest.parse({
        format_version: asBase ? BASE_SNAPSHOT_FORMAT_VERSION : SNAPSHOT_FORMAT_VERSION,
        branch_id: core.branchId,
        seq,
        created_at: new Date(this.scheduler.now).toISOString(),
        key: snapshotKey(core.branchId, seq, "data"),
        counts,
        byte_size: data.byteLength,
        sha256,
        uncompressed_bytes: Buffer.byteLength(joined),
        ...(asBase ? {} : { base_seq: previous.seq, base_sha256: previous.sha256, chain_seq: chain![0]!.manifest.seq }),
      });
      this.snapshots.push({ manifest, data });
      if (!asBase) this.#checkChainAgainstBase([...chain!.map((c) => gunzipSync(c.data).toString("utf8")), joined], seq);
      if (asBase) this.snapshotStats.bases++;
      else this.snapshotStats.increments++;
      // As housekeeping.ts does once the manifest is written: the base moves the retention point.
      core.snapshotExported(manifest, "alarm", null);
      this.trace?.(`snapshot exported: ${asBase ? "base" : `increment after seq ${previous.seq}`} at seq ${seq} (head ${this.core.head()}), ${counts.project + counts.invoice + counts.pos_order} entities, ${data.byteLength} bytes`);
      this.#prune();
      this.compact();
    };
    step();
  }

  /**
   * A chain (base, then increments in order) read as a device stages it (rehydrate.ts: an increment's
   * entity replaces the one before; POS facts and voids are added) must hold what a base at its last
   * seq holds, line for line: the increment read from the log (snapshot-source.ts) and the base read
   * from the entities agree.
   */
  #checkChainAgainstBase(links: readonly string[], seq: number): void {
    const merged = stagedContent(links);
    const base = stagedContent([[...this.core.snapshotLines(seq, { project: 0, invoice: 0, pos_order: 0, tombstones: 0, pos_facts: 0, pos_voids: 0 })].join("")]);
    for (const [key, line] of base) if (merged.get(key) !== line) this.chainMismatches.push(`the chain at seq ${seq} (${links.length} links) holds ${merged.get(key)?.slice(0, 160) ?? "nothing"} for ${key}, a base at seq ${seq} holds ${line.slice(0, 160)}`);
    for (const key of merged.keys()) if (!base.has(key)) this.chainMismatches.push(`the chain at seq ${seq} holds ${key}, which a base at seq ${seq} does not`);
  }

  /** Retention as export.ts pruneSnapshots: the newest CHAINS_KEPT chains, whole. */
  #prune(): void {
    const bases = this.snapshots.filter((s) => !isIncrement(s.manifest)).map((s) => s.manifest.seq);
    if (bases.length <= CHAINS_KEPT) return;
    const oldestKept = bases[bases.length - CHAINS_KEPT]!;
    const keep = this.snapshots.filter((s) => s.manifest.seq >= oldestKept);
    this.snapshots.splice(0, this.snapshots.length, ...keep);
  }

  /**
   * The alarm's compaction (durable/adapters/housekeeping.ts compact): while due, one slice per task,
   * simulated time passing between slices (frames and requests are handled in between); a restart
   * between slices leaves the pass to the new object, which carries on from `meta`.
   */
  compact(): void {
    if (!this.plan || this.#compacting || !this.core.compactionDue()) return;
    this.#compacting = true;
    const restarts = this.restarts;
    const slice = () => {
      // The object was replaced between slices: the new one carries on at its alarm (restart()).
      if (this.restarts !== restarts) return;
      const before = compactionState(this.sql);
      this.#recordHistory();
      const outcome = this.core.compactSlice();
      this.snapshotStats.slices++;
      this.snapshotStats.removedChanges += outcome.removedChanges;
      if (outcome.through > before.through) {
        this.snapshotStats.passes++;
        this.trace?.(`compaction pass through seq ${outcome.through} starts (head ${this.core.head()})`);
      }
      if (outcome.finished) {
        this.#compacting = false;
        this.trace?.(`compaction through seq ${outcome.through} done`);
        return;
      }
      this.scheduler.after(this.work!.int(0, 10), "compaction slice", slice);
    };
    this.scheduler.after(0, "compaction slice", slice);
  }

  #start(): void {
    // A restarted Durable Object keeps its storage and nothing else: a new core and room over the same SQLite.
    const core = new BranchCore(this.sql, SIM_BRANCH as BranchId, () => this.scheduler.now, {
      defaultTimeZone: this.timeZone,
      ...(this.plan ? { compaction: this.plan.compaction } : {}),
    });
    // Passive: each answer is recorded as given, nothing else changes.
    const answer = core.lease.bind(core);
    core.lease = (actor, request) => {
      const head = core.head();
      const answered = answer(actor, request);
      this.leaseLog.push({ atMs: this.scheduler.now, head, device_id: actor.device_id, request, result: answered.result });
      return answered;
    };
    if (this.plan) {
      // Passive: counts the events pushed again whose commit compaction removed (their verdict comes from the record).
      const push = core.push.bind(core);
      core.push = (actor, events, textBytesAtMost) => {
        for (const e of events) if (this.sql.one("SELECT 1 AS x FROM compacted_verdicts WHERE event_id = ?", e.id)) this.snapshotStats.answeredFromCompacted++;
        return push(actor, events, textBytesAtMost);
      };
    }
    this.core = core;
    this.room = new BranchRoom(this.core, {
      peers: () => this.network.openPeers(),
      newTransferId: () => uuidv7(this.scheduler.now, (b) => this.prng.fill(b)) as TransferId,
      // The alarm: leases need one here (uploads are not simulated; snapshots have their own schedule,
      // run.ts). It ends the leases whose time is up and tells the devices, like the Durable Object's
      // onAlarm, and compacts if due, as every alarm does (housekeeping.ts).
      wakeAt: (ms) =>
        void this.scheduler.at(ms, "branch alarm", () => {
          this.core.expireLeases();
          void this.room.tellWatchers();
          this.compact();
        }),
      log: (message, error) => void this.internalErrors.push(`${message}: ${error instanceof Error ? error.stack : String(error)}`),
    });
    this.network.room = this.room;
  }

  /** The Durable Object is evicted or redeployed: every connection drops; storage survives (an export in progress is lost). */
  restart(): void {
    this.restarts++;
    // An export in progress is abandoned at its next step (and clears #exporting then).
    this.#compacting = false;
    this.network.dropAll("server restart");
    this.#start();
    // A Durable Object's alarm survives it: a compaction pass left between slices carries on.
    if (this.plan) this.scheduler.after(1, "branch alarm", () => this.compact());
  }

  /**
   * A manager closes a business day (issue 19), over HTTP as the Durable Object would take it: the
   * close is committed and every v10 connection is told (`day_report`) by the room. Returns whether it
   * was closed now (a day closed already, or not begun, is refused and changes nothing).
   */
  closeDay(day: string): boolean {
    const manager = { device_id: SIM_MANAGER as DeviceId, user_id: "sim-manager" as UserId, role: "manager" as const };
    const outcome = this.core.closeDay(manager, day, null);
    this.room.publish([]);
    return outcome.ok;
  }

  close(): void {
    this.sql.close();
  }
}

/** The manager who closes days over HTTP: no device of the simulation. */
export const SIM_MANAGER = "01936f3c-0000-7000-8000-00000000d0ff";

/** What a chain's NDJSON texts stage to, by key (entity, POS fact or void id): the store's staging rules (rehydrate.ts). */
function stagedContent(texts: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const text of texts) {
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const raw = JSON.parse(line) as { kind: string; entity?: { entity_id: string }; pos?: { entity_id: string }; entity_id?: string };
      if (raw.kind === "entity") out.set(`entity ${raw.entity!.entity_id}`, JSON.stringify(raw.entity));
      else if (raw.kind === "pos_order") out.set(`pos ${raw.pos!.entity_id}`, JSON.stringify(raw.pos));
      else if (raw.kind === "pos_void") out.set(`void ${raw.entity_id!}`, line);
    }
  }
  return out;
}

const entityLines = (m: SnapshotManifest) => m.counts.project + m.counts.invoice + m.counts.pos_order + m.counts.tombstones;
