/**
 * Layout 8: a confirmed verdict is read from its commit (the change row, the POS order's receipt, the
 * invoice number), not from a row of its own. A branch stored under layout 7 keeps every verdict it
 * gave, word for word (I3): its replays answer as before, and the `verdicts` view holds what the table did.
 */
import { afterEach, describe, expect, it } from "vitest";
import { BranchCore } from "../../../durable/core/branch.js";
import { LAYOUT_VERSION, migrate } from "../../../durable/core/migrations.js";
import type { SqlStore } from "../../../durable/core/sql.js";
import { type BranchId, type SyncEvent } from "../../../domain/index.js";
import * as ex from "../../fixtures/examples.js";
import { actor, asOlderLayout, DEVICES, makeCore } from "../../support/branch.js";
import { makeEventFactory } from "../../support/events.js";

const { A, B } = DEVICES;
const NOW = Date.UTC(2026, 10, 25, 4, 0, 0);
const stores: Array<{ close(): void }> = [];
afterEach(() => stores.splice(0).forEach((s) => s.close()));

/** A branch with every kind of verdict: confirmations (a project, a sale with its receipt, an issued invoice with its number, a void) and rejections with and without the server's entity. */
function busyBranch() {
  const t = makeCore();
  stores.push(t);
  const f = makeEventFactory(8);
  const project = f.createProject(A);
  const sale = f.sale(A);
  const invoice = f.event(A, "invoice", f.nextId(), "create", { ...ex.invoice, project_id: project.entity_id });
  const events: Array<[string, SyncEvent]> = [
    [A, project],
    [A, sale],
    [A, invoice],
    [B, f.updateProject(B, project.entity_id, { title: "B's" }, { base: 1 })],
    [A, f.updateProject(A, project.entity_id, { title: "A's" }, { base: 1 })], // version_conflict, carries the entity
    [A, f.voidOrder(A, sale.entity_id, { base: 1 })],
    [A, f.event(A, "project", f.nextId(), "create", { title: 7 })], // invalid_payload, no entity
    [B, f.sale(B)],
  ];
  for (const [device, event] of events) t.core.push(actor(device), [event]);
  return { t, events };
}

/** The branch as layout 7 stored it: the same rows, and every verdict, confirmations included, in `verdicts`. */
function asLayout7(from: SqlStore): SqlStore & { close(): void } {
  const old = asOlderLayout(from, 7, ["verdicts"]);
  stores.push(old);
  for (const row of from.all<Record<string, string | number | null>>("SELECT * FROM verdicts")) {
    const columns = Object.keys(row);
    old.run(`INSERT INTO verdicts (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`, ...Object.values(row));
  }
  return old;
}

const allVerdicts = (sql: SqlStore) => sql.all("SELECT * FROM verdicts ORDER BY event_id");

describe("confirmed verdicts read from their commits (layout 8)", () => {
  it("stores a row for a rejection only, and the verdicts view still lists every verdict with its receipt number and time", () => {
    const { t, events } = busyBranch();
    expect(t.sql.all("SELECT status, code FROM stored_verdicts ORDER BY code")).toEqual([
      { status: "rejected", code: "invalid_payload" },
      { status: "rejected", code: "version_conflict" },
    ]);
    const rows = allVerdicts(t.sql) as Array<{ event_id: string; status: string; official_receipt_no: number | null; decided_at: string }>;
    expect(rows.map((r) => r.event_id).sort()).toEqual(events.map(([, e]) => e.id).sort());
    expect(rows.filter((r) => r.official_receipt_no !== null).map((r) => r.official_receipt_no).sort()).toEqual([1, 2]);
    expect(new Set(rows.map((r) => r.decided_at))).toEqual(new Set([new Date(NOW).toISOString()]));
  });

  it("answers a replay of every event with the verdict it first gave, and commits nothing more", () => {
    const { t, events } = busyBranch();
    const first = events.map(([, e]) => t.core.verdictOf(e.id));
    expect(first.filter((v) => v?.status === "confirmed").map((v) => v?.status === "confirmed" && [v.official_receipt_no, v.official_invoice_no])).toEqual([
      [null, null],
      [1, null],
      [null, 1],
      [null, null],
      [null, null],
      [2, null],
    ]);
    const head = t.core.head();
    const again = events.map(([device, e]) => t.core.push(actor(device), [e]).verdicts[0]);
    expect(again).toEqual(first);
    expect(t.core.head()).toBe(head);
  });
});

describe("migrating a layout-7 branch to 8", () => {
  it("keeps every verdict: each replays as first given, the view lists what the table held, only rejections keep a row", () => {
    const { t, events } = busyBranch();
    const answers = events.map(([, e]) => t.core.verdictOf(e.id));
    const old = asLayout7(t.sql);
    const before = allVerdicts(old);
    expect(before).toHaveLength(events.length);
    migrate(old);
    expect(old.one("SELECT value FROM meta WHERE key = 'layout_version'")).toEqual({ value: String(LAYOUT_VERSION) });
    expect(allVerdicts(old)).toEqual(before);
    expect(old.all("SELECT status FROM stored_verdicts")).toEqual([{ status: "rejected" }, { status: "rejected" }]);
    const core = new BranchCore(old, "test-branch" as BranchId, () => NOW + 60_000, { defaultTimeZone: "UTC" });
    expect(events.map(([, e]) => core.verdictOf(e.id))).toEqual(answers);
    const head = core.head();
    expect(events.map(([device, e]) => core.push(actor(device), [e]).verdicts[0])).toEqual(answers);
    expect(core.head()).toBe(head);
  });

  it("keeps a confirmed row its change does not vouch for word for word, and answers from it", () => {
    const { t, events } = busyBranch();
    const old = asLayout7(t.sql);
    const [, project] = events[0]!;
    // Never written by any version of the code; if it had been, the stored verdict is the one given.
    old.run("UPDATE verdicts SET official_receipt_no = 99 WHERE event_id = ?", project.id);
    migrate(old);
    expect(old.all("SELECT event_id, official_receipt_no FROM stored_verdicts WHERE status = 'confirmed'")).toEqual([{ event_id: project.id, official_receipt_no: 99 }]);
    const core = new BranchCore(old, "test-branch" as BranchId, () => NOW, { defaultTimeZone: "UTC" });
    expect(core.verdictOf(project.id)).toMatchObject({ status: "confirmed", seq: 1, version: 1, official_receipt_no: 99 });
    expect(allVerdicts(old).filter((r) => (r as { event_id: string }).event_id === project.id)).toHaveLength(1);
  });
});
