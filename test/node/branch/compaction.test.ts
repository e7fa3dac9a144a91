/**
 * Compaction of the branch's log (issue 18), on the core with a real SQLite file: what leaves the log,
 * what must stay (each entity's base, rejected verdicts' versions, POS facts), exactly-once across it
 * (I3), the retention rule, the storage triggers, idempotence and the bounded slices.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { compactionState, retentionPoint, DEFAULT_COMPACTION, type CompactionSettings } from "../../../durable/core/compaction.js";
import { nodeSqlStore } from "../../../durable/adapters/node-sqlite.js";
import { BranchCore } from "../../../durable/core/branch.js";
import type { BranchId, SyncEvent } from "../../../domain/index.js";
import type { SnapshotCounts } from "../../../durable/core/snapshot-source.js";
import * as ex from "../../fixtures/examples.js";
import { actor, DEVICES } from "../../support/branch.js";
import { makeEventFactory } from "../../support/events.js";

const T0 = Date.UTC(2026, 10, 25, 4, 0, 0);
const A = actor(DEVICES.A);
const B = actor(DEVICES.B, "manager");
const EVERYTHING: Partial<CompactionSettings> = { retainCommits: 0, retainMs: 0, minStepCommits: 1, sliceRows: 7 };

let dir: string | undefined;
const closers: Array<() => void> = [];
afterEach(() => {
  closers.splice(0).forEach((close) => close());
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function branch(compaction: Partial<CompactionSettings> = EVERYTHING) {
  dir ??= mkdtempSync(path.join(tmpdir(), "sv-compaction-"));
  let nowMs = T0;
  const sql = nodeSqlStore(path.join(dir, `branch-${closers.length}.sqlite`));
  closers.push(() => sql.close());
  const core = new BranchCore(sql, "test-branch" as BranchId, () => nowMs, { defaultTimeZone: "UTC", compaction });
  return { core, sql, advance: (ms: number) => void (nowMs += ms) };
}

const count = (sql: ReturnType<typeof nodeSqlStore>, query: string, ...params: Array<string | number>) => sql.one<{ n: number }>(query, ...params)!.n;

function compactAll(core: BranchCore): number {
  let slices = 0;
  for (let finished = false; !finished; slices++) finished = core.compactSlice().finished;
  return slices;
}

const snapshotText = (core: BranchCore, seq: number) => [...core.snapshotLines(seq, { project: 0, invoice: 0, pos_order: 0, tombstones: 0, pos_facts: 0, pos_voids: 0 } satisfies SnapshotCounts)].join("");

/**
 * A branch with history: 20 projects edited over and over, a deleted one, POS sales with a void and
 * a correction, an invoice issued (numbered), and rejections against versions that later move on.
 */
function seed(core: BranchCore) {
  const f = makeEventFactory(18);
  const events: SyncEvent[] = [];
  const push = (a: typeof A, batch: SyncEvent[]) => {
    events.push(...batch);
    return core.push(a, batch).verdicts;
  };
  const projects = Array.from({ length: 20 }, (_, i) => f.createProject(DEVICES.A, undefined, `Shoot ${i}`));
  push(A, projects);
  const version = new Map(projects.map((p) => [p.entity_id, 1]));
  for (let round = 0; round < 10; round++) {
    push(
      A,
      projects.map((p) => f.updateProject(DEVICES.A, p.entity_id, { notes: `round ${round}` }, { base: version.get(p.entity_id)! })),
    );
    for (const p of projects) version.set(p.entity_id, version.get(p.entity_id)! + 1);
  }
  // A rejection naming version 11 of project 0 (B edits from version 3), then the project moves on.
  const stale = push(B, [f.updateProject(DEVICES.B, projects[0]!.entity_id, { title: "stale" }, { base: 3 })]);
  expect(stale[0]).toMatchObject({ status: "rejected", code: "version_conflict", server_entity: { version: 11 } });
  const sale = f.sale(DEVICES.A, undefined, "T1-1", 5_000);
  const other = f.sale(DEVICES.A, undefined, "T1-2", 7_000);
  push(A, [sale, other, f.voidOrder(DEVICES.A, sale.entity_id, { base: 1 }), f.correction(DEVICES.A, other.entity_id)]);
  const invoice = f.event(DEVICES.A, "invoice", f.nextId(), "create", { ...ex.invoice, project_id: null, reference: "INV-1" });
  push(A, [invoice]);
  push(B, [f.deleteProject(DEVICES.B, projects[19]!.entity_id, { base: 11 })]);
  for (const p of projects.slice(0, 5)) {
    push(A, [f.updateProject(DEVICES.A, p.entity_id, { notes: "after" }, { base: version.get(p.entity_id)! })]);
    version.set(p.entity_id, version.get(p.entity_id)! + 1);
  }
  return { f, events, projects, sale, invoice };
}

describe("compaction of the branch's log", () => {
  it("removes superseded changes and versions at or below the newest snapshot, and every verdict reads the same after (I3)", () => {
    const { core, sql } = branch();
    const { events, projects } = seed(core);
    const head = core.head();
    const S = head - 5; // a snapshot before the last five edits
    core.setMeta("last_base_snapshot", { seq: S, at_ms: T0 });
    const verdictsBefore = events.map((e) => core.verdictOf(e.id));
    const viewBefore = count(sql, "SELECT COUNT(*) AS n FROM verdicts");
    const snapshotBefore = snapshotText(core, S);
    const headSnapshotBefore = snapshotText(core, head);
    const pullBefore = core.pull(S, 1_000, "r");
    const entitiesBefore = [...core.entities()];
    const ledgerBefore = core.ledger(null);
    const changesBefore = count(sql, "SELECT COUNT(*) AS n FROM changes");

    expect(core.compactedThrough()).toBe(0);
    expect(core.compactionDue()).toBe(true);
    const slices = compactAll(core);
    expect(slices).toBeGreaterThan(changesBefore / 7 - 5); // bounded slices, not one sweep

    expect(core.compactedThrough()).toBe(S);
    expect(core.head()).toBe(head);
    // At or below S: each entity's last change up to S (project 0's is also the version the stored rejection names).
    const entityCount = entitiesBefore.length;
    const below = count(sql, "SELECT COUNT(*) AS n FROM changes WHERE seq <= ?", S);
    expect(below).toBe(entityCount);
    expect(count(sql, "SELECT COUNT(*) AS n FROM changes WHERE entity_id = ? AND version = 11", projects[0]!.entity_id)).toBe(1);
    expect(count(sql, "SELECT COUNT(*) AS n FROM entity_versions WHERE entity_id = ? AND version = 11", projects[0]!.entity_id)).toBe(1);
    expect(count(sql, "SELECT COUNT(*) AS n FROM entity_versions WHERE entity_id = ? AND version = 5", projects[0]!.entity_id)).toBe(0);
    expect(count(sql, "SELECT COUNT(*) AS n FROM changes")).toBeLessThan(changesBefore / 4);
    // Every entity still has its current version, and every change after S its entity.
    expect(count(sql, "SELECT COUNT(DISTINCT entity_id) AS n FROM changes")).toBe(entityCount);
    expect(count(sql, "SELECT COUNT(*) AS n FROM changes c WHERE NOT EXISTS (SELECT 1 FROM entity_versions v WHERE v.entity_id = c.entity_id AND v.version = c.version)")).toBe(0);

    // Exactly-once: every verdict rebuilt as first given; the view lists every verdict still.
    expect(events.map((e) => core.verdictOf(e.id))).toEqual(verdictsBefore);
    expect(count(sql, "SELECT COUNT(*) AS n FROM verdicts")).toBe(viewBefore);
    // Snapshots at S and at the head, pulls from S and the entities: unchanged.
    expect(snapshotText(core, S)).toBe(snapshotBefore);
    expect(snapshotText(core, head)).toBe(headSnapshotBefore);
    expect(core.pull(S, 1_000, "r")).toEqual(pullBefore);
    expect([...core.entities()]).toEqual(entitiesBefore);
    // The POS facts and the ledger are never compacted (I6).
    expect(core.ledger(null)).toEqual(ledgerBefore);
    expect(ledgerBefore[0]).toMatchObject({ sales_count: 2, voids_count: 1, corrections_count: 1 });

    const audit = core.readAudit(0, 1_000).entries.filter((e) => e.kind === "compaction");
    expect(audit.map((e) => e.message)).toEqual([
      expect.stringContaining(`compaction started: commits through seq ${S} leave the log`),
      expect.stringMatching(new RegExp(`compaction through seq ${S} done: \\d+ changes and \\d+ entity version parts removed`)),
    ]);
    // Idempotent: nothing more to do until the point moves.
    expect(core.compactionDue()).toBe(false);
    expect(core.compactSlice()).toMatchObject({ finished: true, removedChanges: 0 });
  });

  it("a compacted event sent again gets its verdict again and commits nothing (I3)", () => {
    const { core, sql } = branch();
    const { events, sale, invoice } = seed(core);
    core.setMeta("last_base_snapshot", { seq: core.head(), at_ms: T0 });
    compactAll(core);
    const head = core.head();
    const audit = core.auditHead();
    // The first update of project 0 and the sale (receipt number) were compacted; the invoice (its
    // number) is still its own base.
    const resent = [events[20]!, events.find((e) => e.id === sale.id)!, events.find((e) => e.id === invoice.id)!];
    for (const e of resent.slice(0, 2)) expect(count(sql, "SELECT COUNT(*) AS n FROM changes WHERE event_id = ?", e.id)).toBe(0);
    const before = resent.map((e) => core.verdictOf(e.id));
    const again = core.push(A, resent).verdicts;
    expect(again).toEqual(before);
    expect(again[1]).toMatchObject({ status: "confirmed", official_receipt_no: expect.any(Number) });
    expect(again[2]).toMatchObject({ status: "confirmed", official_invoice_no: 1 });
    expect(core.head()).toBe(head);
    expect(core.auditHead()).toBe(audit);
    // Another device naming a compacted event id is refused as before (device_mismatch), not replayed.
    expect(core.push(B, [{ ...resent[0]!, device_id: DEVICES.B } as SyncEvent]).verdicts[0]).toMatchObject({ status: "rejected", code: "device_mismatch" });
    // A dependency on a compacted event is read from its record.
    const f = makeEventFactory(99);
    const p = events[0]!;
    const current = core.verdictOf(events.filter((e) => e.entity_id === p.entity_id).at(-1)!.id);
    expect(current).toMatchObject({ status: "confirmed" });
    const dependent = f.updateProject(DEVICES.A, p.entity_id, { notes: "on its dependency" }, { base: null, dep: events[20]!.id });
    expect(core.push(A, [dependent]).verdicts[0]).toMatchObject({ status: "rejected", code: "version_conflict" });
  });

  it("a later pass removes what an earlier one kept as the base, and a rejected replay keeps its entity and last_change", () => {
    const { core, sql } = branch();
    const { f, projects, events } = seed(core);
    core.setMeta("last_base_snapshot", { seq: core.head(), at_ms: T0 });
    compactAll(core);
    const rejected = events.find((e) => e.device_id === DEVICES.B && e.operation === "update")!;
    const rejection = core.verdictOf(rejected.id);
    expect(rejection).toMatchObject({ status: "rejected", server_entity: { version: 11 }, last_change: { operation: "update", seq: expect.any(Number) } });
    const keptBase = sql.one<{ seq: number }>("SELECT seq FROM changes WHERE entity_id = ? ORDER BY seq LIMIT 1", projects[1]!.entity_id)!;
    // Project 1 moves on; a new snapshot and a second pass: its old base row goes.
    core.push(A, [f.updateProject(DEVICES.A, projects[1]!.entity_id, { notes: "later" }, { base: 12 })]);
    const firstPoint = core.compactedThrough();
    core.setMeta("last_base_snapshot", { seq: core.head(), at_ms: T0 });
    compactAll(core);
    expect(core.compactedThrough()).toBe(core.head());
    expect(compactionState(sql)).toMatchObject({ floor: firstPoint, done: core.head() });
    expect(count(sql, "SELECT COUNT(*) AS n FROM changes WHERE seq = ?", keptBase.seq)).toBe(0);
    expect(count(sql, "SELECT COUNT(*) AS n FROM changes WHERE entity_id = ?", projects[1]!.entity_id)).toBe(1);
    expect(core.verdictOf(rejected.id)).toEqual(rejection);
    expect(core.push(B, [rejected]).verdicts[0]).toEqual(rejection);
  });

  it("storage refuses every other delete: without the guard, above the point, or of a current version; never an update", () => {
    const { core, sql } = branch();
    const { projects } = seed(core);
    core.setMeta("last_base_snapshot", { seq: 60, at_ms: T0 }); // 20 creates and two rounds of edits
    compactAll(core);
    expect(count(sql, "SELECT COUNT(*) AS n FROM compacted_verdicts")).toBe(40);
    expect(() => sql.run("DELETE FROM changes WHERE seq = ?", core.head())).toThrow(/append_only: changes rows are never deleted/);
    expect(() => sql.run("DELETE FROM entity_versions WHERE entity_id = ? AND version = 5", projects[3]!.entity_id)).toThrow(/append_only: entity_versions/);
    expect(() => sql.run("UPDATE changes SET user_id = 'x' WHERE seq = ?", core.head())).toThrow(/append_only/);
    expect(() => sql.run("DELETE FROM compacted_verdicts")).toThrow(/append_only/);
    sql.transaction(() => {
      sql.run("INSERT INTO compaction_guard (through) VALUES (60)");
      expect(() => sql.run("DELETE FROM changes WHERE seq = 61")).toThrow(/append_only/);
      const current = [...core.entities()][0]!;
      expect(() => sql.run("DELETE FROM entity_versions WHERE entity_id = ? AND version = ?", current.entity_id, current.version)).toThrow(/append_only/);
      sql.run("DELETE FROM compaction_guard");
    });
    expect(count(sql, "SELECT COUNT(*) AS n FROM compaction_guard")).toBe(0);
  });

  it("the retention point is the newest snapshot's seq, held back by the newest commits and the retention window", () => {
    const { core, sql, advance } = branch({ retainCommits: 30, retainMs: 60 * 60_000, minStepCommits: 1, sliceRows: 100 });
    const f = makeEventFactory(5);
    // 100 commits, one a minute.
    for (let i = 0; i < 100; i++) {
      core.push(A, [f.createProject(DEVICES.A)]);
      advance(60_000);
    }
    const settings = core.compactionSettings;
    // No snapshot yet: nothing may go.
    expect(retentionPoint(sql, settings, T0 + 100 * 60_000, { seq: 0, at_ms: 0 })).toBe(0);
    expect(core.compactionDue()).toBe(false);
    // A snapshot at 90: the last 30 commits stay (70), and so does the last hour (commit 41 is exactly an hour old).
    core.setMeta("last_base_snapshot", { seq: 90, at_ms: T0 });
    expect(retentionPoint(sql, settings, T0 + 100 * 60_000, { seq: 90, at_ms: 0 })).toBe(41);
    expect(retentionPoint(sql, { ...settings, retainMs: 0 }, T0 + 100 * 60_000, { seq: 90, at_ms: 0 })).toBe(70);
    expect(retentionPoint(sql, { ...settings, retainMs: 0 }, T0, { seq: 50, at_ms: 0 })).toBe(50);
    expect(retentionPoint(sql, DEFAULT_COMPACTION, T0 + 100 * 60_000, { seq: 90, at_ms: 0 })).toBe(0);
    // Not worth a pass below the minimum step.
    expect(branchDue({ retainCommits: 30, retainMs: 60 * 60_000, minStepCommits: 42 })).toBe(false);
    expect(core.compactionDue()).toBe(true);
    compactAll(core);
    expect(core.compactedThrough()).toBe(41);

    function branchDue(compaction: Partial<CompactionSettings>) {
      const other = new BranchCore(sql, "test-branch" as BranchId, () => T0 + 100 * 60_000, { defaultTimeZone: "UTC", compaction });
      return other.compactionDue();
    }
  });

  it("a pass interrupted between slices resumes where it stopped, and pulls below the new point are refused from its start", () => {
    const { core, sql } = branch({ ...EVERYTHING, sliceRows: 3 });
    seed(core);
    const S = core.head() - 1;
    core.setMeta("last_base_snapshot", { seq: S, at_ms: T0 });
    expect(core.compactSlice().finished).toBe(false);
    // The point is in force at once, before the pass is over.
    expect(core.compactedThrough()).toBe(S);
    expect(compactionState(sql).done).toBeLessThan(S);
    // Another core on the same file (an eviction): it carries on.
    const again = new BranchCore(sql, "test-branch" as BranchId, () => T0, { defaultTimeZone: "UTC", compaction: { ...EVERYTHING, sliceRows: 3 } });
    expect(again.compactionDue()).toBe(true);
    compactAll(again);
    expect(compactionState(sql)).toMatchObject({ through: S, done: S });
    expect(count(sql, "SELECT COUNT(*) AS n FROM audit WHERE kind = 'compaction'")).toBe(2);
  });
});
