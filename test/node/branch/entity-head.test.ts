/**
 * Layout 13 (issue 16): an entity's current version is its last change's. A commit writes its entity
 * version and its log row, and no pointer row beside them; every reader of "the current version"
 * (deciding, the branch's entity list, the day report, compaction's guard) reads the log instead, and
 * a branch stored with pointers reads the same after migrating.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { BranchId, SyncEvent } from "../../../domain/index.js";
import { BranchCore } from "../../../durable/core/branch.js";
import { entityHead, readEntity } from "../../../durable/core/entity-store.js";
import { LAYOUT_VERSION, migrate } from "../../../durable/core/migrations.js";
import type { SqlStore } from "../../../durable/core/sql.js";
import * as ex from "../../fixtures/examples.js";
import { actor, asOlderLayout, DEVICES, makeCore } from "../../support/branch.js";
import { makeEventFactory } from "../../support/events.js";

const { A, B } = DEVICES;
const NOW = Date.UTC(2026, 10, 25, 4, 0, 0);
const stores: Array<{ close(): void }> = [];
afterEach(() => stores.splice(0).forEach((s) => s.close()));

function core() {
  const t = makeCore(":memory:", { nowMs: NOW });
  stores.push(t);
  return t;
}

/** Rows per table (SQLite's own tables and `meta` left out). */
function rowCounts(sql: SqlStore): Map<string, number> {
  const tables = sql.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'meta' ORDER BY name");
  return new Map(tables.map(({ name }) => [name, sql.one<{ n: number }>(`SELECT COUNT(*) AS n FROM ${name}`)!.n]));
}

/** The tables a step added rows to, and how many. */
function grown(sql: SqlStore, step: () => void): Record<string, number> {
  const before = rowCounts(sql);
  step();
  const after = rowCounts(sql);
  return Object.fromEntries([...after].filter(([name, n]) => n !== before.get(name)).map(([name, n]) => [name, n - (before.get(name) ?? 0)]));
}

/** A branch whose entities end every way one can: created, updated twice, deleted, a sale voided, an invoice. */
function busyBranch(t: ReturnType<typeof core>) {
  const f = makeEventFactory(13);
  const kept = f.createProject(A, undefined, "Kept");
  const gone = f.createProject(A, undefined, "Gone");
  const sale = f.sale(A);
  const invoice = f.event(A, "invoice", f.nextId(), "create", { ...ex.invoice, project_id: kept.entity_id });
  const events: Array<[string, SyncEvent]> = [
    [A, kept],
    [A, gone],
    [A, sale],
    [B, f.updateProject(B, kept.entity_id, { title: "Kept, renamed" }, { base: 1 })],
    [A, f.updateProject(A, kept.entity_id, { notes: "retouched" }, { base: 2 })],
    [A, f.deleteProject(A, gone.entity_id, { base: 1 })],
    [A, f.voidOrder(A, sale.entity_id, { base: 1 })],
    [A, invoice],
  ];
  for (const [device, event] of events) expect(t.core.push(actor(device), [event]).verdicts[0]).toMatchObject({ status: "confirmed" });
  return { f, kept, gone, sale, invoice };
}

describe("a commit's rows (layout 13)", () => {
  it("a create and an update each add their entity version and their log row, and no row anywhere else", () => {
    const t = core();
    const f = makeEventFactory(5);
    const a = actor(A);
    t.core.push(a, [f.createProject(A)]); // the device's first push records the device
    const creates = Array.from({ length: 50 }, (_, i) => f.createProject(A, undefined, `Shoot ${i}`));
    expect(grown(t.sql, () => t.core.push(a, creates))).toEqual({ entity_versions: 50, changes: 50 });
    const updates = creates.map((c) => f.updateProject(A, c.entity_id, { notes: "retouched" }, { base: 1 }));
    expect(grown(t.sql, () => t.core.push(a, updates))).toEqual({ entity_versions: 50, changes: 50 });
  });
});

describe("an entity's current version, read from its last change", () => {
  it("is what the entity's last commit made: renamed twice, a tombstone, a voided sale", () => {
    const t = core();
    const { kept, gone, sale, invoice } = busyBranch(t);
    expect(entityHead(t.sql, kept.entity_id)).toEqual({ entity_id: kept.entity_id, entity_type: "project", version: 3, deleted: 0 });
    expect(readEntity(t.sql, kept.entity_id)).toMatchObject({ version: 3, data: { title: "Kept, renamed", notes: "retouched" } });
    expect(entityHead(t.sql, gone.entity_id)).toEqual({ entity_id: gone.entity_id, entity_type: "project", version: 2, deleted: 1 });
    expect(readEntity(t.sql, gone.entity_id)).toMatchObject({ version: 2, deleted: true, data: null });
    expect(readEntity(t.sql, sale.entity_id)).toMatchObject({ version: 2, void: { reason: "mistake" } });
    expect(entityHead(t.sql, "01936f3c-0000-7000-8000-000000000000")).toBeUndefined();
    expect(new Map([...t.core.entities()].map((e) => [e.entity_id, e.version]))).toEqual(
      new Map([[kept.entity_id, 3], [gone.entity_id, 2], [sale.entity_id, 2], [invoice.entity_id, 1]]),
    );
  });

  it("decides by it: an update builds on the last version, an invoice may not name the deleted project", () => {
    const t = core();
    const { f, kept, gone } = busyBranch(t);
    const stale = t.core.push(actor(A), [f.updateProject(A, kept.entity_id, { title: "Late" }, { base: 2 })]).verdicts[0];
    expect(stale).toMatchObject({ status: "rejected", code: "version_conflict", server_entity: { version: 3 } });
    expect(t.core.push(actor(A), [f.updateProject(A, kept.entity_id, { title: "On time" }, { base: 3 })]).verdicts[0]).toMatchObject({ status: "confirmed", version: 4 });
    const naming = (project: string) => f.event(A, "invoice", f.nextId(), "create", { ...ex.invoice, project_id: project });
    expect(t.core.push(actor(A), [naming(gone.entity_id)]).verdicts[0]).toMatchObject({ status: "rejected", code: "reference_invalid" });
    expect(t.core.push(actor(A), [naming(f.nextId())]).verdicts[0]).toMatchObject({ status: "rejected", code: "reference_not_found" });
  });
});

describe("migrating a layout-12 branch to 13", () => {
  it("reads every entity as its pointer said, takes the next commit on top, and compaction still may not delete a current version", () => {
    const t = core();
    const { f, kept } = busyBranch(t);
    const entities = [...t.core.entities()];
    const old = asOlderLayout(t.sql, 12);
    stores.push(old);
    expect(old.one<{ n: number }>("SELECT COUNT(*) AS n FROM entities")!.n).toBe(entities.length);
    migrate(old);
    expect(old.one("SELECT value FROM meta WHERE key = 'layout_version'")).toEqual({ value: String(LAYOUT_VERSION) });
    expect(old.one("SELECT name FROM sqlite_master WHERE name = 'entities'")).toBeUndefined();
    const migrated = new BranchCore(old, "test-branch" as BranchId, () => NOW, { defaultTimeZone: "UTC" });
    expect([...migrated.entities()]).toEqual(entities);
    expect(migrated.push(actor(A), [f.updateProject(A, kept.entity_id, { title: "After" }, { base: 3 })]).verdicts[0]).toMatchObject({ status: "confirmed", version: 4 });
    old.transaction(() => {
      old.run("INSERT INTO compaction_guard (through) VALUES (?)", migrated.head());
      expect(() => old.run("DELETE FROM entity_versions WHERE entity_id = ? AND version = 4", kept.entity_id)).toThrow(/append_only: entity_versions/);
      old.run("DELETE FROM entity_versions WHERE entity_id = ? AND version = 3", kept.entity_id); // superseded: compaction's to remove
      old.run("DELETE FROM compaction_guard");
    });
    expect(() => old.run("DELETE FROM entity_versions WHERE entity_id = ? AND version = 2", kept.entity_id)).toThrow(/append_only: entity_versions/);
  });
});
