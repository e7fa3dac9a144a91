/**
 * Every dashboard read uses an index: none scans `changes`, `rejections`, `audit` or `pos_orders`
 * whole, whatever their size. Checked with EXPLAIN QUERY PLAN on each query the reads make, on both
 * SQLite adapters (the planner is SQLite's, but Durable Object SQLite binds numbers differently):
 * test/node/branch/dashboard.test.ts runs it on better-sqlite3, test/workers/dashboard.test.ts in a
 * Durable Object in workerd.
 *
 * Runtime-free: both vitest projects import it.
 */
import { describe, expect, it } from "vitest";
import type { BranchId } from "../../../../domain/index.js";
import { BranchCore } from "../../../../durable/core/branch.js";
import type { Actor } from "../../../../durable/core/actor.js";
import type { SqlStore, SqlValue } from "../../../../durable/core/sql.js";
import { makeEventFactory } from "../../../support/events.js";

export interface PlanDriver {
  /** Runs `fn` on a fresh, empty store of this adapter. */
  withStore<T>(fn: (store: SqlStore) => T | Promise<T>): Promise<T>;
}

const A = "01936f3c-0000-7000-8000-0000000000a1";
const B = "01936f3c-0000-7000-8000-0000000000b2";
const C = "01936f3c-0000-7000-8000-0000000000c3";
const who = (device: string, role: Actor["role"]): Actor => ({ device_id: device as Actor["device_id"], user_id: `u-${device.slice(-2)}` as Actor["user_id"], role });

/** The plan's lines that read one of the big tables whole (`SCAN t`, with or without an index). */
export function scans(sql: SqlStore, text: string, params: SqlValue[]): string[] {
  return sql
    .all<{ detail: string }>(`EXPLAIN QUERY PLAN ${text}`, ...params)
    .map((row) => row.detail)
    .filter((detail) => /^SCAN (changes|rejections|audit|rejection_attempts|pos_orders)\b/.test(detail));
}

export function dashboardPlanContract(name: string, driver: PlanDriver): void {
  describe(`dashboard query plans: ${name}`, () => {
    it("the scan detector sees a full scan", () =>
      driver.withStore((sql) => {
        new BranchCore(sql, "plans" as BranchId, () => 0);
        expect(scans(sql, "SELECT COUNT(*) FROM rejections", [])).not.toEqual([]);
        expect(scans(sql, "SELECT * FROM audit ORDER BY at", [])).not.toEqual([]);
      }));

    it("no dashboard read scans changes, rejections, audit or pos_orders whole", () =>
      driver.withStore((sql) => {
        const queries: { text: string; params: SqlValue[] }[] = [];
        const recording: SqlStore = {
          all: (text, ...params) => (queries.push({ text, params }), sql.all(text, ...params)),
          one: (text, ...params) => (queries.push({ text, params }), sql.one(text, ...params)),
          run: (text, ...params) => sql.run(text, ...params),
          script: (text) => sql.script(text),
          transaction: (fn) => sql.transaction(fn),
        };
        const start = Date.UTC(2026, 10, 25, 4);
        const core = new BranchCore(recording, "plans" as BranchId, () => start, { defaultTimeZone: "Asia/Colombo" });
        const f = makeEventFactory(21);
        const project = f.createProject(A);
        core.push(who(A, "owner"), [project, f.updateProject(A, project.entity_id, { title: "Ours" }, { base: 1 })]);
        const conflict = f.updateProject(C, project.entity_id, { title: "Theirs" }, { base: 1 });
        const second = f.updateProject(C, project.entity_id, { notes: "more" }, { dep: conflict.id });
        core.push(who(C, "owner"), [conflict, second]);
        const refused = f.createProject(B);
        core.push(who(B, "cashier"), [refused]);
        const sale = f.sale(A);
        core.push(who(A, "owner"), [sale, f.voidOrder(A, sale.entity_id, { base: 1 })]);

        const d = core.dashboard;
        queries.length = 0;
        d.devices(new Set());
        d.rejections({}, null, 50);
        d.rejections({}, 3, 50);
        for (const filter of [{ device: C }, { code: "version_conflict" as const }, { entity_type: "project" as const }, { entity: project.entity_id }, { from: "2026-11-25T00:00:00.000Z" }, { to: "2026-11-26T00:00:00.000Z" }]) {
          d.rejections(filter, null, 50);
        }
        d.timeline(start, start + 86_400_000, null);
        d.rejection(conflict.id);
        d.rejection(second.id);
        d.history(project.entity_id, null, 1);
        d.history(project.entity_id, 2, 1);
        d.history(refused.entity_id, null, 50);
        d.money("2026-11-01", "2026-11-30");
        d.audit({}, null, 50);
        d.audit({ kind: "rejection" }, 10, 50);
        d.audit({ device: B }, null, 50);
        core.rejectionsAfter(1, 200);
        core.rejectionHead();
        core.auditHead();
        expect(queries.length).toBeGreaterThan(20);
        for (const { text, params } of queries) expect(scans(sql, text, params), text).toEqual([]);
      }));
  });
}
