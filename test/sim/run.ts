/**
 * One simulation run: a seed → a branch, a few desktops, a hostile network, a stretch of chaos
 * (local writes online and offline, cuts, stalls, partitions, crashes, server restarts, role
 * changes), then a drain (the network heals, every device syncs to quiescence) and the invariant
 * check. Everything is drawn from the seed, so `runSeed(seed)` replays exactly.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { dayIn, LEASE_GROUPS, LeaseGroup, type Role } from "../../domain/index.js";
import { SimBranch, type SnapshotPlan } from "./branch.js";
import { type DeviceSpec, SimDevice } from "./device.js";
import { checkInvariants, type Violation, type World } from "./invariants.js";
import { type LinkProfile, Network } from "./network.js";
import { Prng } from "../support/prng.js";
import { Scheduler } from "./scheduler.js";
import { randomWrite } from "./workload.js";

export interface RunConfig {
  devices: DeviceSpec[];
  timeZone: string;
  startMs: number;
  /** Simulated time of chaos before the drain. */
  chaosMs: number;
  /** Mean gap between local writes (over all devices). */
  writeMeanMs: number;
  link: LinkProfile;
  /** Per frame sent: the device switches network paths right behind it (reorder across connections). */
  pathSwitchChance: number;
  /** Probability that a frame carrying deltas arrives with their hashes spoiled (network.ts `spoil`). */
  spoilChance: number;
  /** Mean gaps between faults; Infinity: none. */
  cutMeanMs: number;
  crashMeanMs: number;
  partitionMeanMs: number;
  offlineMeanMs: number;
  serverRestartMeanMs: number;
  roleChangeMeanMs: number;
  /** Mean gap between lease requests (take, renew, release, break) over all devices; Infinity: none. */
  leaseMeanMs: number;
  /** Snapshot exports into the simulated R2 and compaction of the branch's log (protocol v9); null: neither. */
  snapshots: SnapshotPlan | null;
  /** A device that joins the branch late (its first boot this far into the chaos): a new device, bootstrapping from the chain if there is one. */
  lateJoin: { device: number; afterMs: number } | null;
}

export interface RunStats {
  devices: number;
  writes: number;
  refusedLocally: number;
  commits: number;
  rejections: number;
  /** Server rejections by code: what the run exercised. */
  rejectionCodes: Record<string, number>;
  /** Answers to the devices' lease requests, by outcome (granted, refused, offline, …). */
  leaseAnswers: Record<string, number>;
  crashes: number;
  serverRestarts: number;
  connects: number;
  frames: number;
  lost: number;
  cuts: number;
  /** Frames that reached the server on an older connection after a newer one of the same device. */
  stale: number;
  /** Pushes sent while an earlier push on the same connection had no verdicts yet (several batches in flight). */
  pipelined: number;
  /** Seqs a device's cursor moved over from its own verdicts (v11, echo off), not from changes. */
  byVerdict: number;
  /** Frames delivered with changes as deltas, and of them those whose hashes the network spoiled. */
  deltaFrames: number;
  spoiled: number;
  /** Snapshots exported into the simulated R2 (bases, increments), compaction passes started, and the final `compacted_through`. */
  snapshotBases: number;
  snapshotIncrements: number;
  compactionPasses: number;
  /** Business days a manager closed during the chaos (issue 19), and the amendments late POS commits made to them. */
  dayCloses: number;
  dayAmendments: number;
  compactedThrough: number;
  /** Snapshot bootstraps swapped in: a device's first (cursor 0), and again after compaction (re-bootstraps). */
  bootstraps: number;
  reBootstraps: number;
  /** Queued events kept across those re-bootstraps (sent again after: the branch answers those it decided from its record, I3). */
  keptAcrossReBootstraps: number;
  /** Events pushed again after compaction removed their commit, answered from `compacted_verdicts` (I3). */
  answeredFromCompacted: number;
  /** Bootstraps that failed on purpose (a download cut short) and were retried. */
  bootstrapFailures: number;
  steps: number;
  simulatedMs: number;
  drainMs: number;
}

export interface RunResult {
  seed: number;
  config: RunConfig;
  violations: Violation[];
  stats: RunStats;
  /** A hash of the run's outcome: the same seed must give the same fingerprint (determinism). */
  fingerprint: string;
}

export interface RunOptions {
  /** Every notable step, with its simulated time. */
  trace?: (line: string) => void;
  /**
   * Where the devices' SQLite files go (a folder of its own is made inside and removed). Runs that
   * share a root also share one empty store template in it, which the caller removes with the root.
   */
  tempRoot?: string;
  /** Runs after the drain, before the check: lets a test break something the checker must find. */
  beforeCheck?: (world: World) => void;
  /** Simulated time allowed for the drain before the run counts as stuck. */
  drainBudgetMs?: number;
}

const ZONES = ["UTC", "Asia/Colombo", "America/Los_Angeles", "Pacific/Kiritimati", "Asia/Kathmandu"];
const ROLES: ReadonlyArray<readonly [Role, number]> = [
  ["owner", 2],
  ["manager", 3],
  ["staff", 3],
  ["cashier", 3],
  ["viewer", 1],
];

/** The run's shape, drawn from the seed: mostly small runs, some long and some very hostile. */
export function configFor(seed: number): RunConfig {
  const p = new Prng(seed, "config");
  const count = p.weighted<number>([[2, 4], [3, 4], [4, 2], [5, 1]]);
  // Drawn from a stream of their own, so the shapes drawn before pipelined pushes existed stay the same.
  const pipeline = new Prng(seed, "pipeline");
  const devices: DeviceSpec[] = Array.from({ length: count }, (_, index) => ({
    index,
    // Someone at the branch can do everything; the others are drawn.
    role: index === 0 ? p.pick<Role>(["owner", "manager"]) : p.weighted(ROLES),
    skewMs: p.weighted<number>([[0, 3], [p.int(-5_000, 5_000), 2], [p.int(-20, 20) * 60_000, 1]]),
    sliceSize: p.pick([1, 2, 5, 100]),
    pullPageLimit: p.pick([1, 2, 5, 1_000]),
    maxBatchesInFlight: pipeline.pick([1, 2, 4, 4]),
    maxBatchEvents: pipeline.pick([1, 2, 5, 200]),
  }));
  const mood = p.weighted<"calm" | "flaky" | "storm">([["calm", 1], ["flaky", 3], ["storm", 2]]);
  const rate = (calm: number, flaky: number, storm: number) => (mood === "calm" ? calm : mood === "flaky" ? flaky : storm);
  // Start a little before or after midnight somewhere, so business days turn during some runs (I13).
  const startMs = Date.UTC(2026, 10, 25) + p.int(0, 3) * 86_400_000 + p.int(0, 24 * 60) * 60_000;
  const chaosMs = p.weighted<number>([[p.int(5_000, 30_000), 3], [p.int(30_000, 120_000), 2], [p.int(120_000, 300_000), 1]]);
  // Local writes over the whole chaos: a few dozen mostly (a seed should take milliseconds), sometimes more.
  const writes = p.weighted<number>([[p.int(5, 20), 3], [p.int(20, 50), 3], [p.int(50, 150), 1]]);
  return {
    devices,
    timeZone: p.pick(ZONES),
    startMs,
    chaosMs,
    writeMeanMs: Math.max(20, Math.round(chaosMs / writes)),
    link: {
      baseMs: p.int(1, 60),
      jitterMs: p.int(1, 80),
      stallChance: rate(0, 0.01, 0.05),
      stallMs: p.int(1_000, 20_000),
    },
    pathSwitchChance: rate(0, 0.03, 0.08),
    // From a stream of its own, so the shapes drawn before deltas existed stay the same.
    spoilChance: new Prng(seed, "deltas").pick([0, 0, 0.2, 0.6]),
    cutMeanMs: rate(Infinity, 15_000, 3_000),
    crashMeanMs: rate(Infinity, 40_000, 10_000),
    partitionMeanMs: rate(Infinity, 30_000, 8_000),
    offlineMeanMs: rate(60_000, 30_000, 15_000),
    serverRestartMeanMs: rate(Infinity, 200_000, 60_000),
    roleChangeMeanMs: p.pick([Infinity, Infinity, 60_000]),
    // From a stream of its own, so the shapes drawn before leases existed stay the same. Some runs have
    // none; most have a request every few writes, often enough that a lease meets a write it guards.
    leaseMeanMs: new Prng(seed, "leases").pick([Infinity, 1, 0.5]) * Math.max(20, Math.round(chaosMs / writes)) * 2,
    snapshots: snapshotPlanFor(seed, chaosMs),
    lateJoin: lateJoinFor(seed, count, chaosMs),
  };
}

/**
 * Snapshots and compaction, from a stream of their own (so the shapes drawn before protocol v9 stay
 * the same): most runs export a few snapshots during the chaos and keep very little of the log (a
 * run commits a few dozen times, not the production 100,000: nothing would ever compact), some
 * keep the last few seconds of it (retainMs); some runs export nothing and never compact.
 */
function lateJoinFor(seed: number, devices: number, chaosMs: number): RunConfig["lateJoin"] {
  const p = new Prng(seed, "late join");
  return p.chance(0.4) ? { device: devices - 1, afterMs: p.int(Math.round(chaosMs / 4), chaosMs) } : null;
}

function snapshotPlanFor(seed: number, chaosMs: number): SnapshotPlan | null {
  const p = new Prng(seed, "compaction");
  if (p.chance(0.2)) return null;
  return {
    exportMeanMs: Math.max(500, Math.round(chaosMs / p.pick([2, 4, 8, 16]))),
    exportLinesPerStep: p.pick([1, 5, 50, 1_000]),
    compaction: {
      retainCommits: p.pick([0, 0, 2, 5, 10, 20]),
      retainMs: p.pick([0, 0, 0, 2_000, 10_000]),
      minStepCommits: p.pick([1, 1, 2, 5]),
      sliceRows: p.pick([1, 2, 5, 250]),
    },
  };
}

export async function runSeed(seed: number, options: RunOptions = {}): Promise<RunResult> {
  const config = configFor(seed);
  const scheduler = new Scheduler(config.startMs);
  const trace = options.trace ? (line: string) => options.trace!(`+${((scheduler.now - config.startMs) / 1000).toFixed(3)}s ${line}`) : null;
  const dir = mkdtempSync(path.join(options.tempRoot ?? tmpdir(), `sv-sim-${seed}-`));
  const network = new Network(scheduler, new Prng(seed, "network"), trace);
  network.profile = config.link;
  network.switchChance = config.pathSwitchChance;
  network.spoil = config.spoilChance > 0 ? { chance: config.spoilChance, prng: new Prng(seed, "spoil") } : null;
  const branch = new SimBranch(scheduler, network, new Prng(seed, "server"), config.timeZone, config.snapshots, new Prng(seed, "snapshot steps"), trace);
  const r2 = config.snapshots ? { latestChain: () => branch.latestChain(), head: () => branch.core.head() } : null;
  const devices = config.devices.map((spec) => new SimDevice(spec, scheduler, network, dir, options.tempRoot ?? dir, seed, trace, r2));
  const world: World = { branch, devices };
  const chaos = new Prng(seed, "chaos");
  const work = new Prng(seed, "workload");
  const stats: RunStats = {
    devices: devices.length,
    writes: 0,
    refusedLocally: 0,
    commits: 0,
    rejections: 0,
    rejectionCodes: {},
    leaseAnswers: {},
    crashes: 0,
    serverRestarts: 0,
    connects: 0,
    frames: 0,
    lost: 0,
    cuts: 0,
    stale: 0,
    pipelined: 0,
    byVerdict: 0,
    deltaFrames: 0,
    spoiled: 0,
    snapshotBases: 0,
    snapshotIncrements: 0,
    compactionPasses: 0,
    dayCloses: 0,
    dayAmendments: 0,
    compactedThrough: 0,
    bootstraps: 0,
    reBootstraps: 0,
    keptAcrossReBootstraps: 0,
    answeredFromCompacted: 0,
    bootstrapFailures: 0,
    steps: 0,
    simulatedMs: 0,
    drainMs: 0,
  };
  const violations: Violation[] = [];
  trace?.(`seed ${seed}: ${devices.length} devices (${config.devices.map((d) => `${d.role}${d.skewMs ? ` skew ${d.skewMs}ms` : ""}`).join(", ")}), zone ${config.timeZone}, chaos ${config.chaosMs}ms`);

  try {
    for (const device of devices) if (device.spec.index !== config.lateJoin?.device) device.boot();
    if (config.lateJoin) {
      const late = devices[config.lateJoin.device]!;
      scheduler.after(config.lateJoin.afterMs, `${late.name} joins`, () => (trace?.(`${late.name} joins the branch`), late.boot()));
    }
    const chaosEnd = config.startMs + config.chaosMs;

    /** A Poisson process of one kind of event, until the chaos ends. */
    const every = (meanMs: number, label: string, act: () => void) => {
      if (!Number.isFinite(meanMs)) return;
      const next = () => {
        const at = scheduler.now + chaos.exp(meanMs);
        if (at < chaosEnd) scheduler.at(at, label, () => (act(), next()));
      };
      next();
    };
    const running = () => devices.filter((d) => d.up);

    every(config.writeMeanMs, "write", () => {
      const up = running();
      if (up.length === 0) return;
      const device = work.pick(up);
      // Mostly the app (which tells its engine at once); sometimes the CLI in another process on the
      // same file, which cannot (the engine's queue poll finds its write).
      const cli = work.chance(0.1);
      const outcome = cli ? device.withOtherProcess((store) => randomWrite(store, work, ++stats.writes)) : randomWrite(device.store!, work, ++stats.writes);
      if (outcome.result === "refused") stats.refusedLocally++;
      trace?.(`${device.name}${cli ? " (CLI)" : ""} ${outcome.kind} ${outcome.result}: ${outcome.detail}`);
      if (outcome.result === "ok" && !cli) device.engine!.notifyWrite();
    });
    const leaseWork = new Prng(seed, "lease-work");
    every(config.leaseMeanMs, "lease", () => {
      const up = running();
      if (up.length === 0) return;
      const device = leaseWork.pick(up);
      if (!device.engine) return;
      const engine = device.engine;
      const held = engine.leases()?.leases ?? [];
      const mine = held.filter((l) => l.device_id === device.deviceId);
      const others = held.filter((l) => l.device_id !== device.deviceId);
      const roll = leaseWork.next();
      let request: { action: "acquire" | "release" | "break"; entity_id: string; group: LeaseGroup; ttlMs?: number; reason?: string } | null;
      if (mine.length > 0 && roll < 0.35) {
        const lease = leaseWork.pick(mine);
        request = { action: "release", entity_id: lease.entity_id, group: lease.group };
      } else if (others.length > 0 && roll < 0.45) {
        // Tried by every role: only an owner or manager may break one.
        const lease = leaseWork.pick(others);
        request = { action: "break", entity_id: lease.entity_id, group: lease.group, reason: "the till froze" };
      } else {
        // Take (or renew) a lease on something this till sees: a payment, a package or a correction.
        const group = leaseWork.pick(LeaseGroup.options);
        const listed = device.store!.list(LEASE_GROUPS[group].entity_type, { limit: 60 }).map((e) => e.entity.entity_id);
        request = listed.length === 0 ? null : { action: "acquire", entity_id: leaseWork.pick(listed), group, ttlMs: leaseWork.int(5, 60) * 1_000 };
      }
      if (request === null) return;
      const { action, entity_id, group, ...opts } = request;
      void engine.lease(action, entity_id, group, opts).then((answer) => {
        stats.leaseAnswers[answer.outcome] = (stats.leaseAnswers[answer.outcome] ?? 0) + 1;
        trace?.(`${device.name} lease ${action} ${group} of ${entity_id}: ${answer.outcome}${"refusal" in answer && answer.refusal ? ` (${answer.refusal})` : ""}`);
      });
    });
    every(config.cutMeanMs, "cut", () => {
      const links = network.links().filter((l) => l.cutAtMs === Infinity && !l.clientGone);
      if (links.length > 0) network.cut(chaos.pick(links), "chaos");
    });
    every(config.cutMeanMs * 2, "path switch", () => {
      const open = network.links().filter((l) => !l.clientGone && l.peer !== null && l.cutAtMs === Infinity);
      const busy = open.filter((l) => l.inFlightUp > 0);
      if (open.length > 0) network.switchPath(chaos.pick(busy.length > 0 ? busy : open));
    });
    every(config.crashMeanMs, "crash", () => {
      const up = running();
      if (up.length === 0) return;
      const device = chaos.pick(up);
      device.crash();
      stats.crashes++;
      scheduler.after(chaos.exp(5_000), `${device.name} restart`, () => device.boot());
    });
    every(config.partitionMeanMs, "partition", () => {
      const device = chaos.pick(devices);
      if (!network.isReachable(device.spec.index)) return;
      // Sometimes the OS notices (offline), sometimes not (a dead Wi-Fi that still looks connected).
      const osKnows = chaos.chance(0.4);
      trace?.(`${device.name} partitioned${osKnows ? " (OS reports offline)" : ""}`);
      network.setReachable(device.spec.index, false);
      if (osKnows) device.setOnline(false);
      scheduler.after(chaos.exp(10_000), `${device.name} reachable`, () => {
        network.setReachable(device.spec.index, true);
        if (osKnows) device.setOnline(true);
        trace?.(`${device.name} reachable again`);
      });
    });
    every(config.offlineMeanMs, "offline", () => {
      // Working offline on purpose (on location): writes pile up, then the device comes back.
      const device = chaos.pick(devices);
      if (!device.online) return;
      device.setOnline(false);
      trace?.(`${device.name} goes offline`);
      scheduler.after(chaos.exp(20_000), `${device.name} online`, () => {
        device.setOnline(true);
        trace?.(`${device.name} back online`);
      });
    });
    if (config.snapshots) {
      // The branch's export schedule (the alarm's, when a snapshot is due), paced for a short run; its
      // own stream, so the chaos draws stay the same. Each export is followed by compaction if due.
      const pace = new Prng(seed, "snapshot work");
      const meanMs = config.snapshots.exportMeanMs;
      const next = () => {
        const at = scheduler.now + pace.exp(meanMs);
        if (at < chaosEnd) scheduler.at(at, "snapshot export", () => (branch.exportSnapshot(), next()));
      };
      next();
      // Often one more right as the chaos ends: the devices still offline then come back behind the
      // retention point and must bootstrap again, with their queues.
      if (pace.chance(0.6)) scheduler.at(chaosEnd - pace.int(1, 3_000), "snapshot export", () => branch.exportSnapshot());
    }
    // A manager closes a business day now and then (issue 19), from a stream of its own (the shapes
    // drawn before it stay the same): a day the branch has sales on, or its today. Sales of a closed
    // day that arrive later (an offline till, a queue behind a cut) amend it.
    const dayWork = new Prng(seed, "day closes");
    for (let i = dayWork.pick([0, 1, 1, 2, 3]); i > 0; i--) {
      scheduler.at(config.startMs + dayWork.int(0, config.chaosMs - 1), "close a day", () => {
        const days = branch.sql.all<{ day: string }>("SELECT DISTINCT business_day AS day FROM pos_orders ORDER BY day").map((r) => r.day);
        const day = days.length > 0 && dayWork.chance(0.8) ? dayWork.pick(days) : dayIn(scheduler.now, branch.core.timeZone());
        const closed = branch.closeDay(day);
        if (closed) stats.dayCloses++;
        trace?.(`a manager closes business day ${day}: ${closed ? "closed" : "refused (closed already, or not begun)"}`);
      });
    }
    every(config.serverRestartMeanMs, "server restart", () => {
      trace?.("server restarts");
      stats.serverRestarts++;
      branch.restart();
    });
    every(config.roleChangeMeanMs, "role change", () => {
      const device = chaos.pick(devices.slice(1));
      if (!device?.up) return;
      const role = chaos.weighted(ROLES);
      trace?.(`${device.name} gets a new token: ${device.role} → ${role}`);
      device.changeRole(role);
    });

    await scheduler.runUntil(chaosEnd);

    // ── drain: the world heals and everyone syncs to quiescence ──
    trace?.("heal: network perfect, every device up and online");
    network.heal();
    for (const device of devices) {
      device.boot();
      device.setOnline(true);
      device.engine!.retryNow();
    }
    const drained = () =>
      network.inFlightUp() === 0 &&
      devices.every((d) => d.engine !== null && d.engine.isDrained() && d.store!.cursor() === branch.core.head());
    const drainStart = scheduler.now;
    const budgetMs = options.drainBudgetMs ?? 30 * 60_000;
    let ok = await scheduler.runUntil(drainStart + budgetMs, drained);
    if (!ok && devices.some((d) => d.engine?.status().kind === "replaced")) {
      // A device stuck in "replaced" waits for a person (reported below): press Retry for it, as
      // its user would, so that the rest of the run can still be checked.
      for (const d of devices) if (d.engine?.status().kind === "replaced") d.engine.retryNow();
      ok = await scheduler.runUntil(scheduler.now + budgetMs, drained);
    }
    stats.drainMs = scheduler.now - drainStart;
    for (const d of devices) {
      if (d.replaced > 0) {
        violations.push({
          invariant: "liveness",
          message: `${d.name} was closed as "replaced" ${d.replaced} time(s) though no other install of it exists, and stopped syncing until someone pressed Retry`,
        });
      }
    }
    if (!ok) {
      for (const d of devices) {
        if (d.engine?.isDrained() && d.store!.cursor() === branch.core.head()) continue;
        const s = d.engine?.status();
        violations.push({
          invariant: "liveness",
          message: `${d.name} did not drain in ${Math.round(stats.drainMs / 1000)} s of healed network: status ${s?.kind ?? "down"}, pending ${d.store?.summary().pending ?? "?"}, cursor ${d.store?.cursor() ?? "?"} of head ${branch.core.head()}`,
        });
      }
    }

    options.beforeCheck?.(world);
    violations.push(...checkInvariants(world));
    for (const e of scheduler.errors) violations.push({ invariant: "I12", message: `${e.label} threw at ${e.at}: ${String(e.error)}` });
    for (const e of branch.internalErrors) violations.push({ invariant: "I12", message: `the room logged an internal error: ${e.split("\n")[0]}` });
    for (const d of devices) {
      for (const line of d.logs) if (line.includes("session error")) violations.push({ invariant: "I12", message: line.split("\n")[0]! });
    }

    stats.commits = branch.core.head();
    for (const { code, n } of branch.sql.all<{ code: string; n: number }>("SELECT code, COUNT(*) AS n FROM verdicts WHERE status = 'rejected' GROUP BY code ORDER BY code")) {
      stats.rejectionCodes[code] = n;
      stats.rejections += n;
    }
    stats.connects = network.stats.connects;
    stats.frames = network.stats.frames;
    stats.lost = network.stats.lost;
    stats.cuts = network.stats.cuts;
    stats.stale = network.stats.stale;
    stats.deltaFrames = network.stats.deltaFrames;
    stats.spoiled = network.stats.spoiled;
    stats.pipelined = devices.reduce((n, d) => n + d.pipelined, 0);
    stats.byVerdict = devices.reduce((n, d) => n + d.byVerdict, 0);
    stats.snapshotBases = branch.snapshotStats.bases;
    stats.snapshotIncrements = branch.snapshotStats.increments;
    stats.compactionPasses = branch.snapshotStats.passes;
    stats.dayAmendments = branch.sql.one<{ n: number }>("SELECT COUNT(*) AS n FROM day_revisions WHERE revision > 1")!.n;
    stats.compactedThrough = branch.compactedThrough();
    stats.answeredFromCompacted = branch.snapshotStats.answeredFromCompacted;
    for (const d of devices) {
      for (const b of d.bootstraps) {
        if (b.from === 0) stats.bootstraps++;
        else {
          stats.reBootstraps++;
          stats.keptAcrossReBootstraps += b.queued;
        }
      }
      stats.bootstrapFailures += d.bootstrapFailures;
    }
    stats.steps = scheduler.steps;
    stats.simulatedMs = scheduler.now - config.startMs;
    const fingerprint = fingerprintOf(world, stats);
    return { seed, config, violations: dedupe(violations), stats, fingerprint };
  } finally {
    for (const device of devices) {
      try {
        device.shutdown();
      } catch {
        // already closed
      }
    }
    branch.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function fingerprintOf(world: World, stats: RunStats): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify(stats));
  for (const row of world.branch.log()) hash.update(JSON.stringify([row.seq, row.event_id, row.entity_id, row.version]));
  for (const row of world.branch.sql.all<Record<string, unknown>>("SELECT event_id, status, code FROM verdicts ORDER BY event_id")) hash.update(JSON.stringify(row));
  for (const d of world.devices) hash.update(`${d.name}:${d.store?.cursor()}:${d.crashes}:${d.incarnation}`);
  return hash.digest("hex").slice(0, 16);
}

/** The same breach found on many rows is reported a few times, not a thousand. */
function dedupe(violations: Violation[]): Violation[] {
  const seen = new Map<string, number>();
  return violations.filter((v) => {
    const key = `${v.invariant}:${v.message.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, "<id>").replace(/\d+/g, "#")}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return n <= 3;
  });
}

/** The one line that replays a seed. */
export const reproduce = (seed: number) => `npm run sim -- --seeds 1 --from ${seed} --trace`;
