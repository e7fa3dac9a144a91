/**
 * A queued event that cannot be read back (its saved payload is not JSON any more, or no longer
 * validates) never stops sync: it is quarantined into the conflict inbox, kept in the queue (rows are
 * never deleted), and every other event keeps flowing. Real SQLite files, a real branch core.
 */
import { afterEach, describe, expect, it } from "vitest";
import { inspectStore } from "../../../desktop/store/inspect.js";
import type { LocalStore } from "../../../desktop/store/local-store.js";
import type { PosLine } from "../../../domain/index.js";
import { makeCore } from "../../support/branch.js";
import { corruptQueuedPayload, expectConverged, openStore, syncDirect } from "../../support/desktop.js";
import * as ex from "../../fixtures/examples.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const cleanup: Array<() => void> = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

async function setup() {
  const server = makeCore();
  const a = await openStore({ device: A, seed: 1 });
  cleanup.push(() => server.close(), () => a.store.close());
  return { server, a: a.store };
}
const ok = <T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T => {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const lines: PosLine[] = [{ sku: null, description: "Prints", quantity: 2, unit_price_minor: 150_000 }];
const TRUNCATED = '{"kind":"sale","local_receipt_no":"DA1-000001","lines":[{"sku":nu';
const queueRow = (store: LocalStore, id: string) => {
  const row = inspectStore(store.path, (i) => i.queued(id));
  return row && { sync_status: row.sync_status, reject_code: row.reject_code, payload_json: row.payload_json };
};

describe("an unreadable queued event", () => {
  it("is quarantined into the conflict inbox, never deleted, and every other event is pushed", async () => {
    const { server, a } = await setup();
    const project = ok(a.createProject(ex.project)).event;
    const broken = ok(a.posSale({ currency: "LKR", lines, method: "cash", tendered_minor: 500_000 })).event;
    const sale = ok(a.posSale({ currency: "LKR", lines, method: "card" })).event;
    const stale = ok(a.createProject({ ...ex.project, title: "Silva engagement" })).event;
    const builtOnStale = ok(a.updateProject(stale.entity_id, { notes: "drone" })).event;
    // A damaged row, and one an older build wrote that this build's schema no longer accepts.
    corruptQueuedPayload(a, broken.id, TRUNCATED);
    corruptQueuedPayload(a, stale.id, JSON.stringify({ ...ex.project, title: "Silva engagement", budget: 5 }));

    expect(() => syncDirect(a, server.core)).not.toThrow();

    // The server has everything else, and nothing of the two rows.
    expect([...server.core.entities()].map((e) => e.entity_id).sort()).toEqual([project.entity_id, sale.entity_id].sort());
    expect(server.core.ledger(null)[0]).toMatchObject({ sales_count: 1, sales_minor: 300_000 });
    // Nothing is deleted or rewritten: the rows are there, with their saved data as it was.
    expect(a.queueCounts()).toEqual({ pending: 0, sent: 0, confirmed: 2, rejected: 3 });
    expect(queueRow(a, broken.id)).toEqual({ sync_status: "rejected", reject_code: "unreadable", payload_json: TRUNCATED });
    expect(queueRow(a, stale.id)).toMatchObject({ sync_status: "rejected", reject_code: "unreadable" });
    // The inbox says so in words; the sale is flagged for a manager, with its raw text kept.
    const conflicts = a.conflicts({ open: true });
    expect(conflicts.map((c) => [c.event_id, c.code, c.needs_manager])).toEqual([
      [broken.id, "unreadable", true],
      [stale.id, "unreadable", false],
      [builtOnStale.id, "depends_on_rejected", false],
    ]);
    expect(conflicts[0]!.message).toMatch(/^This change could not be read, so it was not sent: its saved data is not valid JSON/);
    expect(conflicts[0]!.local_payload).toBe(TRUNCATED);
    expect(conflicts[1]!.message).toMatch(/^This change could not be read, so it was not sent: it no longer validates: invalid_payload/);
    // Views do not crash: the refused sale stays visible (as last seen), flagged; the project is gone.
    expect(a.get(broken.entity_id)).toMatchObject({ status: "rejected", entity: { data: { total_minor: 300_000 } } });
    expect(a.list("pos_order").map((o) => o.status).sort()).toEqual(["rejected", "synced"]);
    expect(a.get(stale.entity_id)).toBeNull();
    expectConverged(a, [...server.core.entities()], expect);
    // Nothing is left to send; the project's entry can be dismissed but not re-applied, and the sale's
    // stays for a manager (closed only through the server, issue 14).
    expect(a.nextBatch()).toBeNull();
    expect(a.resolveConflict(conflicts[1]!.id, "reapply")).toMatchObject({ ok: false, error: expect.stringMatching(/could not be read/) });
    expect(a.resolveConflict(conflicts[1]!.id, "dismiss")).toEqual({ ok: true, value: null });
    expect(a.resolveConflict(conflicts[0]!.id, "dismiss")).toMatchObject({ ok: false, error: expect.stringMatching(/only by a manager/) });
    const kinds = inspectStore(a.path, (i) => i.txLog({ eventId: broken.id })).map((r) => r.kind);
    expect(kinds).toEqual(["write", "quarantined"]);
  });

  it("in a batch already sent: the batch goes again under the same id without it", async () => {
    const { server, a } = await setup();
    const first = ok(a.posSale({ currency: "LKR", lines, method: "card" })).event;
    const second = ok(a.posSale({ currency: "LKR", lines, method: "card" })).event;
    const sent = a.nextBatch()!;
    expect(sent.events.map((e) => e.id)).toEqual([first.id, second.id]);
    corruptQueuedPayload(a, first.id, "not json at all");

    const again = a.nextBatch()!;
    expect(again).toEqual({ batch_id: sent.batch_id, events: [sent.events[1]], texts: [sent.texts[1]] });
    syncDirect(a, server.core);
    expect([...server.core.entities()].map((e) => e.entity_id)).toEqual([second.entity_id]);
    expect(a.queueCounts()).toEqual({ pending: 0, sent: 0, confirmed: 1, rejected: 1 });
    expect(a.conflicts()[0]).toMatchObject({ event_id: first.id, code: "unreadable", needs_manager: true });
    expect(a.conflicts()[0]!.message).toMatch(/^This change could not be read, so it was not sent again \(the server may have it from before\): its saved data is not valid JSON/);
  });

  it("under a new local write: the write succeeds and is built on the server's version, not on it", async () => {
    const { server, a } = await setup();
    const project = ok(a.createProject(ex.project)).event;
    syncDirect(a, server.core);
    const edit = ok(a.updateProject(project.entity_id, { notes: "first" })).event;
    corruptQueuedPayload(a, edit.id, "{");

    const next = ok(a.updateProject(project.entity_id, { title: "Renamed" })).event;
    expect(next).toMatchObject({ base_version: 1, depends_on: null });
    expect(a.conflicts()[0]).toMatchObject({ event_id: edit.id, code: "unreadable", needs_manager: false });
    expect(a.get(project.entity_id)).toMatchObject({ status: "pending", entity: { data: { title: "Renamed", notes: ex.project.notes } } });
    syncDirect(a, server.core);
    expect([...server.core.entities()].find((e) => e.entity_id === project.entity_id)).toMatchObject({ version: 2, data: { title: "Renamed" } });
    expectConverged(a, [...server.core.entities()], expect);
  });

  it("found while applying the server's changes: the pull goes on and the view is rebuilt without it", async () => {
    const { server, a } = await setup();
    const project = ok(a.createProject(ex.project)).event;
    syncDirect(a, server.core);
    const edit = ok(a.updateProject(project.entity_id, { notes: "offline" })).event;
    corruptQueuedPayload(a, edit.id, "[1,2");
    // Someone else's commit to the same entity arrives first.
    const other = { device_id: "01936f3c-0000-7000-8000-0000000000b2", user_id: "u-00b2", role: "owner" } as const;
    const b = server.core.push(other as never, [
      { id: "01936f3c-4444-7000-8000-0000000000b1", device_id: other.device_id, entity_type: "project", entity_id: project.entity_id, operation: "update", payload: { title: "B's" }, base_version: 1, depends_on: null, created_at: "2026-11-25T04:00:00.000Z" },
    ] as never);
    expect(b.verdicts[0]).toMatchObject({ status: "confirmed" });

    expect(() => a.applyChanges(server.core.pull(a.cursor(), 100, crypto.randomUUID()).changes)).not.toThrow();
    expect(a.cursor()).toBe(2);
    expect(a.get(project.entity_id)).toMatchObject({ status: "synced", entity: { version: 2, data: { title: "B's" } } });
    expect(a.conflicts()[0]).toMatchObject({ event_id: edit.id, code: "unreadable" });
  });
});
