/**
 * The desktop store on a real SQLite file, synced in-process with a real branch core: local-first
 * writes (I1), verdicts and server wins (I2, I7), append-only POS and logs (I6), convergence (I5).
 */
import { afterEach, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { LocalStore } from "../../../desktop/store/local-store.js";
import { LAYOUT_VERSION } from "../../../desktop/store/migrations.js";
import type { PosLine } from "../../../domain/index.js";
import { makeCore } from "../../support/branch.js";
import { deviceToken, expectConverged, openStore, syncDirect, tempDbPath } from "../../support/desktop.js";
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
const count = (store: LocalStore, sql: string) => (store.db.prepare(sql).get() as { n: number }).n;

describe("local writes (I1)", () => {
  it("write the entity, its queued event and its log row together, with no network", async () => {
    const { a } = await setup();
    const { event, entity } = ok(a.createProject(ex.project));
    expect(a.get(event.entity_id)).toMatchObject({ status: "pending", entity: { version: 1, data: { title: "Perera wedding" } } });
    expect(a.db.prepare("SELECT sync_status, payload_json FROM sync_queue WHERE id = ?").get(event.id)).toMatchObject({ sync_status: "pending" });
    expect(count(a, `SELECT COUNT(*) AS n FROM tx_log WHERE event_id = '${event.id}'`)).toBe(1);
    expect(entity.entity_id).toBe(event.entity_id);
  });

  it("write nothing at all when any part of the transaction fails", async () => {
    const { a } = await setup();
    a.db.exec("CREATE TEMP TRIGGER fail_log BEFORE INSERT ON tx_log BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    expect(() => a.createProject(ex.project)).toThrow(/disk full/);
    expect(count(a, "SELECT COUNT(*) AS n FROM sync_queue")).toBe(0);
    expect(count(a, "SELECT COUNT(*) AS n FROM view_entities")).toBe(0);
  });

  it("refuse invalid input with the field and a reason, and queue nothing", async () => {
    const { a } = await setup();
    const r = a.createProject({ ...ex.project, title: "" });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatchObject({ code: "invalid_payload", detail: { field: "title" } });
    expect(count(a, "SELECT COUNT(*) AS n FROM sync_queue")).toBe(0);
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

  it("an unanswered batch is sent again with the same id and events after a restart", async () => {
    const { a } = await setup();
    ok(a.createProject(ex.project));
    ok(a.posSale({ currency: "LKR", lines, method: "card" }));
    const first = a.nextBatch()!;
    const again = a.nextBatch()!;
    expect(again).toEqual(first);
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
    const kinds = (a.db.prepare("SELECT kind FROM audit ORDER BY id").all() as Array<{ kind: string }>).map((r) => r.kind);
    expect(kinds).toEqual(["initialised", "push", "push", "conflict_shown", "conflict_resolved"]);
  });

  it("records a wrong till clock once when it goes wrong, not at every reconnect", async () => {
    const { a } = await setup();
    const skews = () => (a.db.prepare("SELECT detail FROM audit WHERE kind = 'clock_skew' ORDER BY id").all() as Array<{ detail: string }>).map((r) => r.detail);
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
    for (const sql of [
      "UPDATE tx_log SET detail = 'x'",
      "DELETE FROM tx_log",
      "UPDATE pos_orders SET total_minor = 0",
      "DELETE FROM pos_orders",
      "DELETE FROM sync_queue",
      "UPDATE sync_queue SET payload_json = '{}'",
      "UPDATE sync_queue SET sync_status = 'pending'",
      "DELETE FROM audit",
    ]) {
      expect(() => a.db.exec(sql), sql).toThrow(/append_only/);
    }
  });
});

describe("the desktop's storage layout", () => {
  it("upgrades a layout-1 database in place (the queue's batch index), keeping its data, and refuses a newer one", async () => {
    const path = tempDbPath("layout");
    const { store } = await openStore({ device: "01936f3c-0000-7000-8000-0000000000a1", path });
    expect(store.createProject({ ...ex.project, media_selection: { items: [] } }).ok).toBe(true);
    store.close();
    // Put the file back the way layout 1 left it.
    const raw = new Database(path);
    raw.exec("DROP INDEX queue_by_batch; UPDATE meta SET value = '1' WHERE key = 'layout_version'");
    raw.close();

    const upgraded = LocalStore.open(path);
    expect(upgraded.summary().pending).toBe(1);
    upgraded.close();
    const check = new Database(path);
    expect(check.prepare("SELECT value FROM meta WHERE key = 'layout_version'").get()).toEqual({ value: String(LAYOUT_VERSION) });
    expect(check.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'queue_by_batch'").get()).toEqual({ name: "queue_by_batch" });
    check.prepare("UPDATE meta SET value = ? WHERE key = 'layout_version'").run(String(LAYOUT_VERSION + 1));
    check.close();
    expect(() => LocalStore.open(path)).toThrow(`this database has layout ${LAYOUT_VERSION + 1}, newer than this app understands (${LAYOUT_VERSION}): update the app`);
  });
});
