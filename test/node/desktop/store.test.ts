/**
 * The desktop store on a real SQLite file, synced in-process with a real branch core: local-first
 * writes (I1), verdicts and server wins (I2, I7), append-only POS and logs (I6), convergence (I5).
 */
import { afterEach, describe, expect, it } from "vitest";
import { inspectStore } from "../../../desktop/store/inspect.js";
import { LocalStore } from "../../../desktop/store/local-store.js";
import { LAYOUT_VERSION } from "../../../desktop/store/migrations.js";
import { failTxLogInserts, recordViewBodyWrites, rewindToLayout1, rewindToLayout6, stampLayoutVersion, tamper, TAMPERS, type Tamper } from "../../../desktop/store/testing.js";
import { type PosLine, SyncEvent } from "../../../domain/index.js";
import { makeCore } from "../../support/branch.js";
import { corruptQueuedPayload, deviceToken, expectConverged, openStore, syncDirect, tempDbPath } from "../../support/desktop.js";
import * as ex from "../../fixtures/examples.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const B = "01936f3c-0000-7000-8000-0000000000b2";
const cleanup: Array<() => void> = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

async function setup() {
  const server = makeCore();
  const a = await openStore({ device: A, seed: 1 });
  const b = await openStore({ device: B, seed: 2, role: "manager" });
  cleanup.push(() => server.close(), () => a.store.close(), () => b.store.close());
  return { server, a: a.store, b: b.store };
}
const ok = <T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T => {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const lines: PosLine[] = [{ sku: null, description: "Prints", quantity: 2, unit_price_minor: 150_000 }];
/** Rows in the queue, the view and one event's log, read from the file (desktop/store/inspect.ts). */
const rows = (store: LocalStore, eventId?: string) =>
  inspectStore(store.path, (i) => ({ queue: i.queue().length, views: i.views().length, log: eventId === undefined ? i.txLog().length : i.txLog({ eventId }).length }));

describe("local writes (I1)", () => {
  it("write the entity, its queued event and its log row together, with no network", async () => {
    const { a } = await setup();
    const { event, entity } = ok(a.createProject(ex.project));
    expect(a.get(event.entity_id)).toMatchObject({ status: "pending", entity: { version: 1, data: { title: "Perera wedding" } } });
    expect(inspectStore(a.path, (i) => i.queued(event.id))).toMatchObject({ sync_status: "pending" });
    expect(rows(a, event.id).log).toBe(1);
    expect(entity.entity_id).toBe(event.entity_id);
  });

  it("write nothing at all when any part of the transaction fails", async () => {
    const { a } = await setup();
    const diskWorksAgain = failTxLogInserts(a, "disk full");
    expect(() => a.createProject(ex.project)).toThrow(/disk full/);
    expect(rows(a)).toEqual({ queue: 0, views: 0, log: 0 });
    diskWorksAgain();
    expect(a.createProject(ex.project).ok).toBe(true);
  });

  it("write many in one transaction, each its own queued event; a refused one rolls back all and is named", async () => {
    const { a } = await setup();
    const many = ok(a.writeMany([1, 2, 3].map((n) => ({ kind: "project_create" as const, data: { ...ex.project, title: `Import ${n}` } }))));
    expect(new Set(many.map((w) => w.event.id)).size).toBe(3);
    expect(rows(a)).toEqual({ queue: 3, views: 3, log: 3 });
    const bad = a.writeMany([
      { kind: "project_create", data: { ...ex.project, title: "Fine" } },
      { kind: "project_create", data: { ...ex.project, title: "" } },
    ]);
    expect(!bad.ok && bad.error).toMatchObject({ index: 1, code: "invalid_payload", detail: { field: "title" } });
    expect(rows(a)).toEqual({ queue: 3, views: 3, log: 3 });
  });

  it("write many on one entity and many sales at once: each builds on the last, as single writes would", async () => {
    const { server, a } = await setup();
    const id = ok(a.createProject(ex.project)).entity.entity_id;
    const sale = { kind: "pos_sale" as const, input: { currency: "LKR" as const, lines, method: "card" as const } };
    const many = ok(
      a.writeMany([{ kind: "project_update", id, patch: { title: "One" } }, sale, { kind: "project_update", id, patch: { title: "Two" } }, sale]),
    );
    expect(many[0]!.event.depends_on).not.toBeNull();
    expect(many[2]!.event.depends_on).toBe(many[0]!.event.id);
    expect(a.get(id)).toMatchObject({ status: "pending", entity: { version: 3, data: { title: "Two" } } });
    const receipts = [many[1]!, many[3]!].map((w) => (w.entity.entity_type === "pos_order" ? w.entity.data.local_receipt_no : null));
    expect(receipts.map((r) => r?.slice(-6))).toEqual(["000001", "000002"]);
    // The log has a row per write, in the writes' order.
    const logged = inspectStore(a.path, (i) => i.txLog().filter((r) => r.kind === "write").map((r) => r.event_id));
    expect(logged.slice(-4)).toEqual(many.map((w) => w.event.id));
    // A refused bulk write rolls its sales' receipt numbers back too: the next sale takes the next number.
    expect(a.writeMany([sale, { kind: "project_update", id, patch: { title: "" } }]).ok).toBe(false);
    const next = ok(a.posSale(sale.input)).entity;
    expect(next.entity_type === "pos_order" && next.data.local_receipt_no.slice(-6)).toBe("000003");
    syncDirect(a, server.core);
    expectConverged(a, [...server.core.entities()], expect);
  });

  it("a batch sends the events this process wrote exactly as their rows read back give them, byte for byte", async () => {
    const { a } = await setup();
    const [first] = ok(a.writeMany([1, 2].map((n) => ({ kind: "project_create" as const, data: { ...ex.project, title: `Import ${n}` } }))));
    ok(a.updateProject(first!.entity.entity_id, { notes: "on top of the import" }));
    ok(a.posSale({ currency: "LKR", lines, method: "cash", tendered_minor: 500_000 }));
    const sent = a.nextBatch()!;
    expect(sent.events).toHaveLength(4);
    // Another handle on the file remembers nothing: it sends the same batch again, read back from its rows.
    const again = LocalStore.open(a.path);
    cleanup.push(() => again.close());
    const reread = again.nextBatch()!;
    expect(reread.batch_id).toBe(sent.batch_id);
    expect(JSON.stringify(reread.events)).toBe(JSON.stringify(sent.events));
    // The texts a batch is measured and sent by are its events, whether remembered or read back.
    for (const batch of [sent, reread]) {
      expect(batch.texts).toHaveLength(batch.events.length);
      batch.texts.forEach((text, i) => {
        expect(JSON.parse(text)).toStrictEqual(batch.events[i]);
        // The same characters JSON.stringify makes, but for the order of the keys (the payload spliced in last).
        expect(text.length).toBe(JSON.stringify(batch.events[i]).length);
      });
    }
  });

  it("a create's event is exactly what the event schema decodes it to, though the store does not decode it again", async () => {
    const { a } = await setup();
    const created = [
      ok(a.createProject(ex.project)).event,
      ...ok(a.writeMany([{ kind: "project_create" as const, data: { ...ex.project, title: "Import" } }])).map((w) => w.event),
      ok(a.posSale({ currency: "LKR", lines, method: "card" })).event,
    ];
    for (const event of created) {
      const decoded = SyncEvent.parse(event);
      expect(decoded).toEqual(event);
      expect(JSON.stringify(decoded)).toBe(JSON.stringify(event));
    }
  });

  it("a clock past the year 9999 gets a create refused, its time named, and nothing queued", async () => {
    const { store: a } = await openStore({ device: A, nowMs: Date.UTC(10_000, 0, 1) });
    cleanup.push(() => a.close());
    const r = a.createProject(ex.project);
    expect(!r.ok && r.error).toMatchObject({ code: "invalid_payload", detail: { field: "created_at" } });
    expect(rows(a)).toEqual({ queue: 0, views: 0, log: 0 });
  });

  it("refuse invalid input with the field and a reason, and queue nothing", async () => {
    const { a } = await setup();
    const r = a.createProject({ ...ex.project, title: "" });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatchObject({ code: "invalid_payload", detail: { field: "title" } });
    expect(rows(a).queue).toBe(0);
  });

  it("chain local edits with depends_on, and base later edits on the confirmed version", async () => {
    const { server, a } = await setup();
    const created = ok(a.createProject(ex.project)).event;
    const e1 = ok(a.updateProject(created.entity_id, { title: "One" })).event;
    expect(e1).toMatchObject({ depends_on: created.id, base_version: null });
    syncDirect(a, server.core);
    const e2 = ok(a.updateProject(created.entity_id, { title: "Two" })).event;
    expect(e2).toMatchObject({ depends_on: null, base_version: 2 });
  });

  it("pre-check the role: a cashier's void is refused before it reaches the server", async () => {
    const cashier = await openStore({ device: A, role: "cashier" });
    cleanup.push(() => cashier.store.close());
    const sale = ok(cashier.store.posSale({ currency: "LKR", lines, method: "cash", tendered_minor: 500_000 })).event;
    const v = cashier.store.posVoid(sale.entity_id, "mistake");
    expect(!v.ok && v.error).toMatchObject({ code: "permission_denied", message: "Your role (cashier) may not void a POS order" });
    expect(cashier.store.queueCounts().pending).toBe(1);
  });
});

describe("sync through a real branch core", () => {
  it("the seed's scenario: A's offline edit of a project B deleted is rejected, gone, and in A's inbox", async () => {
    const { server, a, b } = await setup();
    const created = ok(a.createProject(ex.project)).event;
    syncDirect(a, server.core);
    syncDirect(b, server.core);
    ok(a.updateProject(created.entity_id, { notes: "offline edit" }));
    ok(b.deleteProject(created.entity_id, "client cancelled"));
    syncDirect(b, server.core);
    syncDirect(a, server.core);
    expect(a.get(created.entity_id)?.entity).toMatchObject({ deleted: true, data: null });
    expect(a.list("project")).toEqual([]);
    const [conflict] = a.conflicts({ open: true });
    expect(conflict).toMatchObject({ code: "entity_deleted", message: "Project was deleted remotely", server_entity: { deleted: true } });
    expectConverged(a, [...server.core.entities()], expect);
    expectConverged(b, [...server.core.entities()], expect);
  });

  it("a rejected edit takes its dependent edits with it, and the entity returns to server truth", async () => {
    const { server, a, b } = await setup();
    const created = ok(a.createProject(ex.project)).event;
    syncDirect(a, server.core);
    syncDirect(b, server.core);
    ok(b.updateProject(created.entity_id, { title: "B's title" }));
    syncDirect(b, server.core);
    ok(a.updateProject(created.entity_id, { title: "A1" }));
    ok(a.updateProject(created.entity_id, { notes: "A2" }));
    expect(a.get(created.entity_id)?.entity).toMatchObject({ data: { title: "A1", notes: "A2" } });
    syncDirect(a, server.core);
    expect(a.conflicts().map((c) => c.code)).toEqual(["version_conflict", "depends_on_rejected"]);
    expect(a.get(created.entity_id)).toMatchObject({ status: "synced", entity: { version: 2, data: { title: "B's title" } } });
    expectConverged(a, [...server.core.entities()], expect);
  });

  it("a rejection that brings no entity (protocol v3: permission_denied) still shows the server's side in the inbox", async () => {
    const { server, a } = await setup();
    const created = ok(a.createProject(ex.project)).event;
    syncDirect(a, server.core);
    ok(a.updateProject(created.entity_id, { title: "Edited before the demotion" }));
    // The user was demoted while offline: the same device's new token says viewer.
    const init = a.init({ server_url: "http://127.0.0.1:8787", token: await deviceToken("test-branch", A, "viewer") });
    if (!init.ok) throw new Error(init.error);
    syncDirect(a, server.core);
    const [conflict] = a.conflicts();
    expect(conflict).toMatchObject({ code: "permission_denied" });
    expect(conflict!.server_entity).toEqual(server.core.entities().next().value);
    expect(a.get(created.entity_id)).toMatchObject({ status: "synced", entity: { version: 1 } });
  });

  it("a re-applied conflict becomes a new event on top of the server's version", async () => {
    const { server, a, b } = await setup();
    const created = ok(a.createProject(ex.project)).event;
    syncDirect(a, server.core);
    syncDirect(b, server.core);
    ok(b.updateProject(created.entity_id, { title: "B" }));
    syncDirect(b, server.core);
    ok(a.updateProject(created.entity_id, { notes: "mine" }));
    syncDirect(a, server.core);
    const [conflict] = a.conflicts({ open: true });
    expect(a.resolveConflict(conflict!.id, "reapply")).toEqual({ ok: true, value: null });
    syncDirect(a, server.core);
    expect(a.get(created.entity_id)?.entity).toMatchObject({ version: 3, data: { title: "B", notes: "mine" } });
    expect(a.conflicts({ open: true })).toEqual([]);
  });

  it("POS: offline sales get official numbers once synced; totals match the server's ledger", async () => {
    const { server, a, b } = await setup();
    const s1 = ok(a.posSale({ currency: "LKR", lines, method: "cash", tendered_minor: 500_000 }));
    const s2 = ok(a.posSale({ currency: "LKR", lines, method: "card" }));
    expect(a.get(s1.event.entity_id)).toMatchObject({ status: "pending", official_receipt_no: null });
    ok(a.posCorrection(s1.event.entity_id, { lines: [{ sku: null, description: "Refund", quantity: -1, unit_price_minor: 150_000 }], method: "cash", reason: "damaged" }));
    syncDirect(a, server.core);
    expect(a.get(s1.event.entity_id)).toMatchObject({ status: "synced", official_receipt_no: 1 });
    syncDirect(b, server.core);
    ok(b.posVoid(s2.event.entity_id, "card declined"));
    syncDirect(b, server.core);
    syncDirect(a, server.core);
    expect(a.ledger()).toEqual(server.core.ledger(null));
    expect(b.ledger()).toEqual(server.core.ledger(null));
    expect(a.ledger()[0]).toMatchObject({ sales_count: 2, sales_minor: 600_000, corrections_minor: -150_000, voids_minor: 300_000, net_minor: 150_000 });
  });

  it("a POS sale the server refuses is never erased: it stays, flagged for a manager", async () => {
    const server = makeCore();
    const viewer = await openStore({ device: A, role: "cashier" });
    cleanup.push(() => server.close(), () => viewer.store.close());
    const sale = ok(viewer.store.posSale({ currency: "LKR", lines, method: "card" }));
    // The device's role changed to viewer on the server side: the push is refused there.
    const cfg = viewer.store.config()!;
    const batch = viewer.store.nextBatch()!;
    const outcome = server.core.push({ device_id: cfg.device_id, user_id: cfg.user_id, role: "viewer" }, batch.events as never);
    viewer.store.applyVerdicts(batch.batch_id, outcome.verdicts);
    expect(viewer.store.get(sale.event.entity_id)).toMatchObject({ status: "rejected", entity: { data: { total_minor: 300_000 } } });
    expect(viewer.store.conflicts()[0]).toMatchObject({ code: "permission_denied", needs_manager: true });
    expect(viewer.store.queueCounts()).toMatchObject({ rejected: 1 });
  });

  it("a confirmed write whose view is already the server's result changes only the view's status, not its body", async () => {
    const { server, a } = await setup();
    const alone = ok(a.createProject(ex.project)).entity.entity_id;
    const edited = ok(a.createProject({ ...ex.project, title: "Edited" })).entity.entity_id;
    ok(a.updateProject(edited, { title: "Edited twice" }));
    const sale = ok(a.posSale({ currency: "LKR", lines, method: "card" })).entity.entity_id;
    const bodyWrites = recordViewBodyWrites(a);
    syncDirect(a, server.core);
    const rewritten = bodyWrites();
    // The sale's view takes its official receipt number; the edited project's first verdict leaves
    // an open edit on top, so its view is folded again. The lone create was right all along.
    expect(rewritten).toContain(sale);
    expect(rewritten).toContain(edited);
    expect(rewritten).not.toContain(alone);
    expect(a.get(alone)).toMatchObject({ status: "synced" });
    expect(a.get(sale)).toMatchObject({ status: "synced", official_receipt_no: 1 });
    expectConverged(a, [...server.core.entities()], expect);
  });

  it("one pulled slice with several commits on one entity, others on an entity with an open local edit, and this device's own commits: each ends as the server's", async () => {
    const { server, a, b } = await setup();
    const shared = ok(b.createProject({ ...ex.project, title: "Shared" })).entity.entity_id;
    syncDirect(b, server.core);
    syncDirect(a, server.core);
    // B: a new project edited twice, and an edit of the shared one; A: its own create and an open edit of the shared one.
    const twice = ok(b.createProject({ ...ex.project, title: "Draft" })).entity.entity_id;
    ok(b.updateProject(twice, { title: "Second" }));
    ok(b.updateProject(twice, { title: "Third" }));
    ok(b.updateProject(shared, { notes: "from B" }));
    syncDirect(b, server.core);
    const mine = ok(a.createProject({ ...ex.project, title: "Mine" })).entity.entity_id;
    ok(a.updateProject(shared, { title: "Shared, renamed on A" }));
    const before = a.cursor();
    const page = server.core.pull(before, 500, crypto.randomUUID());
    expect(a.applyChanges(page.changes)).toEqual({ applied: page.changes.length, cursor: before + page.changes.length });
    expect(a.get(twice)).toMatchObject({ status: "synced", entity: { version: 3, data: { title: "Third" } } });
    // The open edit stays on top of the pulled version, and waits for its verdict.
    expect(a.get(shared)).toMatchObject({ status: "pending", entity: { version: 3, data: { title: "Shared, renamed on A", notes: "from B" } } });
    syncDirect(a, server.core);
    expect(a.get(mine)).toMatchObject({ status: "synced" });
    expectConverged(a, [...server.core.entities()], expect);
  });

  it("a verdict sent twice in one frame is applied once", async () => {
    const { server, a } = await setup();
    const { event } = ok(a.createProject(ex.project));
    const cfg = a.config()!;
    const batch = a.nextBatch()!;
    const { verdicts } = server.core.push({ device_id: cfg.device_id, user_id: cfg.user_id, role: cfg.role }, batch.events as never);
    expect(a.applyVerdicts(batch.batch_id, [...verdicts, ...verdicts])).toEqual({ confirmed: 1, rejected: 0, open_in_batch: 0, cursor: 1, behind: false });
    expect(inspectStore(a.path, (i) => i.txLog({ eventId: event.id }).map((r) => r.kind))).toEqual(["write", "confirmed"]);
  });

  it("an unanswered batch is sent again with the same id and events after a restart", async () => {
    const { a } = await setup();
    ok(a.createProject(ex.project));
    ok(a.posSale({ currency: "LKR", lines, method: "card" }));
    const first = a.nextBatch()!;
    const again = a.nextBatch()!;
    expect(again).toEqual(first);
  });

  it("a batch in flight is not sent again; the next pending events form the next batch", async () => {
    const { a } = await setup();
    ok(a.createProject(ex.project));
    ok(a.createProject({ ...ex.project, title: "Second" }));
    ok(a.createProject({ ...ex.project, title: "Third" }));
    const first = a.nextBatch(1)!;
    const second = a.nextBatch(1, new Set([first.batch_id]))!;
    expect(second.batch_id).not.toBe(first.batch_id);
    expect(second.events[0]!.id).not.toBe(first.events[0]!.id);
    // After a reconnect nothing is in flight: the oldest unanswered batch goes first, then the next.
    expect(a.nextBatch(1)).toEqual(first);
    expect(a.nextBatch(1, new Set([first.batch_id]))).toEqual(second);
    expect(a.nextBatch(1, new Set([first.batch_id, second.batch_id]))!.events[0]!.payload).toMatchObject({ title: "Third" });
  });

  it("a lost verdict is recovered from the change stream", async () => {
    const { server, a } = await setup();
    const created = ok(a.createProject(ex.project)).event;
    const batch = a.nextBatch()!;
    const cfg = a.config()!;
    server.core.push({ device_id: cfg.device_id, user_id: cfg.user_id, role: cfg.role }, batch.events as never); // verdict lost
    a.applyChanges(server.core.pull(0, 100, crypto.randomUUID()).changes);
    expect(a.queueCounts()).toMatchObject({ confirmed: 1, sent: 0, pending: 0 });
    expect(a.get(created.entity_id)?.status).toBe("synced");
  });
});

describe("its own commits by verdict (protocol v11: echo off)", () => {
  const actorOf = (store: LocalStore) => {
    const cfg = store.config()!;
    return { device_id: cfg.device_id, user_id: cfg.user_id, role: cfg.role };
  };

  it("verdicts move the cursor over this device's own commits, and its copy of server truth is the server's without their changes", async () => {
    const { server, a } = await setup();
    const kept = ok(a.createProject(ex.project)).entity.entity_id;
    ok(a.updateProject(kept, { notes: "second version, one by one" }));
    ok(a.createProject({ ...ex.project, title: "Alone" }));
    ok(a.posSale({ currency: "LKR", lines, method: "card" })); // numbered by the server: one by one
    const batch = a.nextBatch()!;
    const outcome = server.core.push(actorOf(a), batch.events as never);
    expect(a.applyVerdicts(batch.batch_id, outcome.verdicts)).toEqual({ confirmed: 4, rejected: 0, open_in_batch: 0, cursor: 4, behind: false });
    expect(a.cursor()).toBe(server.core.head());
    // Nothing pulled: the base and the view are the server's entities, receipt number included.
    expectConverged(a, [...server.core.entities()], expect);
    // The change stream's copy of them later is no news (an older server still sends it).
    expect(a.applyChanges(outcome.changes.map((c) => c.change))).toEqual({ applied: 0, cursor: 4 });
  });

  it("a commit below its own that it has not had yet leaves the cursor where it is, says so, and a pull brings both", async () => {
    const { server, a, b } = await setup();
    ok(b.createProject({ ...ex.project, title: "B's, not yet on A" }));
    syncDirect(b, server.core); // seq 1
    ok(a.createProject(ex.project));
    const batch = a.nextBatch()!;
    const { verdicts } = server.core.push(actorOf(a), batch.events as never); // seq 2
    expect(a.applyVerdicts(batch.batch_id, verdicts)).toMatchObject({ confirmed: 1, cursor: 0, behind: true });
    a.applyChanges(server.core.pull(a.cursor(), 100, crypto.randomUUID()).changes);
    expect(a.cursor()).toBe(2);
    expectConverged(a, [...server.core.entities()], expect);
  });

  it("a commit it could not fold (its queued event damaged after it was sent) leaves the cursor below it, and a pull brings the server's", async () => {
    const { server, a } = await setup();
    const sale = ok(a.posSale({ currency: "LKR", lines, method: "card" })).event;
    const batch = a.nextBatch()!;
    corruptQueuedPayload(a, sale.id, "{not json");
    const { verdicts } = server.core.push(actorOf(a), batch.events as never);
    expect(a.applyVerdicts(batch.batch_id, verdicts)).toMatchObject({ confirmed: 1, cursor: 0, behind: true });
    a.applyChanges(server.core.pull(0, 100, crypto.randomUUID()).changes);
    expect(a.cursor()).toBe(1);
    expectConverged(a, [...server.core.entities()], expect);
  });
});

describe("the desktop's audit log (I10)", () => {
  it("records pushes, conflicts shown and conflicts resolved", async () => {
    const { server, a, b } = await setup();
    const created = ok(a.createProject(ex.project)).event;
    syncDirect(a, server.core);
    syncDirect(b, server.core);
    ok(b.deleteProject(created.entity_id, "cancelled"));
    syncDirect(b, server.core);
    ok(a.updateProject(created.entity_id, { notes: "late" }));
    syncDirect(a, server.core);
    expect(a.resolveConflict(a.conflicts()[0]!.id, "dismiss").ok).toBe(true);
    const kinds = inspectStore(a.path, (i) => i.audit()).map((r) => r.kind);
    expect(kinds).toEqual(["initialised", "push", "push", "conflict_shown", "conflict_resolved"]);
  });

  it("records a wrong till clock once when it goes wrong, not at every reconnect", async () => {
    const { a } = await setup();
    const skews = () => inspectStore(a.path, (i) => i.audit({ kind: "clock_skew" })).map((r) => r.detail);
    for (let i = 0; i < 5; i++) a.recordClockSkew(-3 * 3600_000);
    expect(skews()).toEqual(["this till's clock is 3 h 0 min behind the server's"]);
    expect(a.clockSkewMs()).toBe(-3 * 3600_000);
    a.recordClockSkew(1_000); // fixed
    a.recordClockSkew(10 * 60_000); // wrong again
    expect(skews()).toHaveLength(2);
  });
});

describe("append-only on the desktop (I6)", () => {
  it("SQLite refuses to change or delete log rows, POS facts, queued events and verdicts", async () => {
    const { server, a } = await setup();
    ok(a.posSale({ currency: "LKR", lines, method: "card" }));
    syncDirect(a, server.core);
    // Each one through a second connection on the file: the triggers are the file's, not the store's.
    for (const what of Object.keys(TAMPERS) as Tamper[]) {
      expect(() => tamper(a, what), what).toThrow(/append_only/);
    }
  });
});

describe("the desktop's storage layout", () => {
  it("upgrades a layout-6 file whose rows say 'sent': the batch goes out again with its id and events, and reads as sent", async () => {
    const server = makeCore();
    const path = tempDbPath("layout-6");
    const { store } = await openStore({ device: A, path });
    cleanup.push(() => server.close());
    const cfg = store.config()!;
    const push = (events: unknown) => server.core.push({ device_id: cfg.device_id, user_id: cfg.user_id, role: cfg.role }, events as never).verdicts;
    ok(store.writeMany([1, 2, 3, 4, 5].map((n) => ({ kind: "project_create" as const, data: { ...ex.project, title: `Import ${n}` } }))));
    const answered = store.nextBatch(2)!;
    expect(store.applyVerdicts(answered.batch_id, push(answered.events))).toMatchObject({ confirmed: 2, open_in_batch: 0 });
    const sent = store.nextBatch(2)!;
    store.close();
    rewindToLayout6(path);
    expect(inspectStore(path, (i) => i.queue().map((q) => [q.sync_status, q.batch_id]))).toEqual([
      ["confirmed", answered.batch_id],
      ["confirmed", answered.batch_id],
      ["sent", sent.batch_id],
      ["sent", sent.batch_id],
      ["pending", null],
    ]);

    const upgraded = LocalStore.open(path);
    cleanup.push(() => upgraded.close());
    expect(inspectStore(path, (i) => i.layout().version)).toBe(LAYOUT_VERSION);
    expect(upgraded.queueCounts()).toEqual({ pending: 1, sent: 2, confirmed: 2, rejected: 0 });
    expect(upgraded.queue({ status: "sent" }).events.map((e) => e.event_id)).toEqual(sent.events.map((e) => e.id));
    const again = upgraded.nextBatch(2)!;
    expect(again.batch_id).toBe(sent.batch_id);
    expect(JSON.stringify(again.events)).toBe(JSON.stringify(sent.events));
    const rest = upgraded.nextBatch(2, new Set([sent.batch_id]))!;
    expect(rest.events.map((e) => e.id)).toEqual([inspectStore(path, (i) => i.queue()[4]!.id)]);
    for (const batch of [again, rest]) expect(upgraded.applyVerdicts(batch.batch_id, push(batch.events))).toMatchObject({ open_in_batch: 0 });
    // Each event keeps the batch it went out in, and when.
    const decided = inspectStore(path, (i) => i.queue());
    expect(decided.map((q) => [q.sync_status, q.batch_id])).toEqual([
      ["confirmed", answered.batch_id],
      ["confirmed", answered.batch_id],
      ["confirmed", sent.batch_id],
      ["confirmed", sent.batch_id],
      ["confirmed", rest.batch_id],
    ]);
    expect(decided.every((q) => q.sent_at !== null)).toBe(true);
    expect(upgraded.nextBatch()).toBeNull();
  });


  it("upgrades a layout-1 database in place, keeping its data, and refuses a newer one", async () => {
    const path = tempDbPath("layout");
    const { store } = await openStore({ device: "01936f3c-0000-7000-8000-0000000000a1", path });
    expect(store.createProject({ ...ex.project, media_selection: { items: [] } }).ok).toBe(true);
    store.close();
    // Put the file back the way layout 1 left it.
    rewindToLayout1(path);
    expect(inspectStore(path, (i) => i.layout())).toMatchObject({ version: 1, indexes: expect.not.arrayContaining(["queue_by_batch"]) });

    const upgraded = LocalStore.open(path);
    expect(upgraded.summary().pending).toBe(1);
    upgraded.close();
    expect(inspectStore(path, (i) => i.layout())).toMatchObject({ version: LAYOUT_VERSION, indexes: expect.arrayContaining(["queue_by_type", "queue_pos_days"]) });
    expect(inspectStore(path, (i) => i.layout()).indexes).not.toContain("queue_by_batch");
    stampLayoutVersion(path, LAYOUT_VERSION + 1);
    expect(() => LocalStore.open(path)).toThrow(`this database has layout ${LAYOUT_VERSION + 1}, newer than this app understands (${LAYOUT_VERSION}): update the app`);
  });
});
