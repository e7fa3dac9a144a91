/**
 * A push batch's storage (durable/core/push-storage.ts): what every event reads is read for the whole
 * batch, and commits' rows are written together, so a batch costs a few statements instead of five
 * per event; and batching never changes a verdict or a stored row. A pull page reads its entities'
 * texts with its rows. The core on real SQLite, its statements counted.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { SyncEvent } from "../../../domain/index.js";
import { nodeSqlStore } from "../../../durable/adapters/node-sqlite.js";
import { BranchCore } from "../../../durable/core/branch.js";
import type { SqlStore, SqlValue } from "../../../durable/core/sql.js";
import type { BranchId } from "../../../domain/index.js";
import type { Verdict } from "../../../protocol/index.js";
import { actor, DEVICES } from "../../support/branch.js";
import { makeEventFactory } from "../../support/events.js";
import * as ex from "../../fixtures/examples.js";
import { Prng } from "../../support/prng.js";

const NOW = Date.UTC(2026, 10, 25, 4);

/** A core whose statements are counted (every call of all/one/run/script). */
function countedCore() {
  const inner = nodeSqlStore(":memory:");
  let statements = 0;
  const sql: SqlStore = {
    all: <T>(q: string, ...p: SqlValue[]) => (statements++, inner.all<T>(q, ...p)),
    one: <T>(q: string, ...p: SqlValue[]) => (statements++, inner.one<T>(q, ...p)),
    run: (q: string, ...p: SqlValue[]) => void (statements++, inner.run(q, ...p)),
    script: (q: string) => void (statements++, inner.script(q)),
    transaction: (fn) => inner.transaction(fn),
  };
  const core = new BranchCore(sql, "batch-branch" as BranchId, () => NOW, { defaultTimeZone: "UTC" });
  return { core, inner, count: () => statements, reset: () => void (statements = 0) };
}

const closers: Array<() => void> = [];
afterEach(() => closers.splice(0).forEach((c) => c()));

describe("a push batch's statements", () => {
  it("200 creates, then 200 updates of them, cost a handful of statements each, not five per event", () => {
    const t = countedCore();
    closers.push(() => t.inner.close());
    const f = makeEventFactory(5);
    const a = actor(DEVICES.A);
    const creates = Array.from({ length: 200 }, (_, i) => f.createProject(DEVICES.A, undefined, `Shoot ${i}`));
    t.reset();
    expect(t.core.push(a, creates).verdicts.every((v) => v.status === "confirmed")).toBe(true);
    expect(t.count()).toBeLessThanOrEqual(8);
    const updates = creates.map((c) => f.updateProject(DEVICES.A, c.entity_id, { notes: "retouched" }, { base: 1 }));
    t.reset();
    expect(t.core.push(a, updates).verdicts.map((v) => (v.status === "confirmed" ? v.version : v.code))).toEqual(updates.map(() => 2));
    expect(t.count()).toBeLessThanOrEqual(8);
  });
});

describe("a pull page's statements", () => {
  it("a page of hundreds of changes reads its rows with their entities' texts, 64 rows a statement, not one statement per change", () => {
    const t = countedCore();
    closers.push(() => t.inner.close());
    const f = makeEventFactory(6);
    for (let i = 0; i < 5; i++) t.core.push(actor(DEVICES.A), Array.from({ length: 200 }, (_, k) => f.createProject(DEVICES.A, undefined, `Shoot ${i}-${k}`)));
    t.reset();
    const page = JSON.parse(t.core.pullText(0, 1_000, "0193a000-0000-7000-8000-000000000001")) as { changes: unknown[] };
    expect(page.changes.length).toBeGreaterThan(400); // as many as fit the page's bytes
    expect(t.count()).toBeLessThanOrEqual(2 + Math.ceil(page.changes.length / 64));
  });
});

describe("batching changes nothing", () => {
  /**
   * A random history of one device's events: creates (some reusing an id), updates on a right or a
   * stale base or on top of the previous event, deletes, events sent again, invoices naming projects,
   * POS sales, corrections and voids, a project too large to be read up front, and events that do
   * not parse.
   */
  function history(seed: number): SyncEvent[] {
    const rnd = new Prng(seed, "push-storage");
    const f = makeEventFactory(seed);
    const A = DEVICES.A;
    const events: SyncEvent[] = [];
    const projects: string[] = [];
    const sales: string[] = [];
    const last = new Map<string, string>(); // entity → last event id on it
    const selection = (n: number) => ({ items: Array.from({ length: n }, (_, i) => ({ sha256: i.toString(16).padStart(64, "0"), file_name: `IMG_${i}.CR3`, size_bytes: i, note: null })) });
    // Past what is read up front (16 Ki characters), and past what waits to be written with others (256 Ki).
    const big = [selection(200), selection(2_600)];
    for (let i = 0; i < 160; i++) {
      const kind = rnd.weighted([
        ["create", 5],
        ["update", 6],
        ["chain", 3],
        ["delete", 1],
        ["again", 2],
        ["invoice", 2],
        ["sale", 2],
        ["void", 1],
        ["big", 2],
        ["garbage", 1],
      ] as const);
      let e: SyncEvent;
      if (kind === "create" || projects.length === 0) {
        const reuse = projects.length > 0 && rnd.chance(0.1);
        e = f.createProject(A, reuse ? rnd.pick(projects) : undefined, `Shoot ${i}`);
        if (!reuse) projects.push(e.entity_id);
      } else if (kind === "update") {
        e = f.updateProject(A, rnd.pick(projects), { notes: `edit ${i}` }, { base: rnd.int(1, 4) });
      } else if (kind === "chain") {
        const id = rnd.pick(projects);
        const dep = last.get(id);
        e = dep ? f.updateProject(A, id, { title: `Chained ${i}` }, { dep }) : f.updateProject(A, id, { title: `Chained ${i}` }, { base: 1 });
      } else if (kind === "delete") {
        e = f.deleteProject(A, rnd.pick(projects), { base: rnd.int(1, 3) });
      } else if (kind === "again") {
        e = rnd.pick(events);
      } else if (kind === "invoice") {
        e = f.event(A, "invoice", f.nextId(), "create", { ...ex.invoice, project_id: rnd.chance(0.8) ? rnd.pick(projects) : f.nextId() });
      } else if (kind === "sale") {
        e = f.sale(A, undefined, `T1-${String(i).padStart(6, "0")}`, rnd.int(100, 10_000));
        sales.push(e.entity_id);
      } else if (kind === "void") {
        e = sales.length > 0 ? f.voidOrder(A, rnd.pick(sales), { base: 1 }) : f.sale(A);
      } else if (kind === "big") {
        const id = rnd.pick(projects);
        e = f.updateProject(A, id, { media_selection: rnd.pick(big) }, { base: rnd.int(1, 3) });
      } else {
        e = { ...f.createProject(A), payload: { title: 42 } } as unknown as SyncEvent;
      }
      events.push(e);
      last.set(e.entity_id, e.id);
    }
    return events;
  }

  const dump = (sql: SqlStore) =>
    Object.fromEntries(
      ["entity_versions", "changes", "stored_verdicts", "pos_orders", "pos_voids", "invoice_numbers", "rejections", "audit"].map((table) => [
        table,
        sql.all(`SELECT * FROM ${table} ORDER BY 1, 2`),
      ]),
    );

  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`seed ${seed}: one batch per 40 events and one event per batch give the same verdicts and the same rows`, () => {
      const events = history(seed);
      const batched = nodeSqlStore(":memory:");
      const single = nodeSqlStore(":memory:");
      closers.push(() => batched.close(), () => single.close());
      const a = actor(DEVICES.A);
      const coreOf = (sql: SqlStore) => new BranchCore(sql, "batch-branch" as BranchId, () => NOW, { defaultTimeZone: "UTC" });
      const inBatches = coreOf(batched);
      const oneByOne = coreOf(single);
      const got: Verdict[] = [];
      for (let i = 0; i < events.length; i += 40) got.push(...inBatches.push(a, events.slice(i, i + 40)).verdicts);
      const want: Verdict[] = events.flatMap((e) => oneByOne.push(a, [e]).verdicts);
      // A batch sends each server entity once (push.ts onceEach): compare the verdicts but that.
      const plain = (v: Verdict) => (v.status === "rejected" ? { ...v, server_entity: null, last_change: null } : v);
      expect(got.map(plain)).toEqual(want.map(plain));
      expect(got.filter((v) => v.status === "confirmed").length).toBeGreaterThan(40);
      expect(dump(batched)).toEqual(dump(single));
    });
  }
});
