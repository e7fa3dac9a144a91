/**
 * The conflict inbox for people (issue 14), on real SQLite files synced in-process with a real branch
 * core: the store keeps who changed the server's version, when and why (protocol v5) and the base a
 * change was built on; the core's view names the entity (a deleted project's too), says who/when/why
 * in the branch's zone, compares field by field with money and dates for people, and offers only the
 * actions an entry allows; a refused POS sale is closed only by a manager's resolution.
 */
import { afterEach, describe, expect, it } from "vitest";
import { DesktopCore } from "../../../desktop/app/core.js";
import { conflictView, type Viewer } from "../../../desktop/app/conflict-view.js";
import { inspectStore } from "../../../desktop/store/inspect.js";
import type { LocalStore } from "../../../desktop/store/local-store.js";
import type { PosLine } from "../../../domain/index.js";
import { makeCore } from "../../support/branch.js";
import { freePort } from "../../support/e2e.js";
import { deviceToken, openStore, syncDirect } from "../../support/desktop.js";
import * as ex from "../../fixtures/examples.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const B = "01936f3c-0000-7000-8000-0000000000b2";
const cleanup: Array<() => void> = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

async function setup() {
  const server = makeCore();
  const a = await openStore({ device: A, seed: 1, role: "staff" });
  const b = await openStore({ device: B, seed: 2, role: "manager" });
  cleanup.push(() => server.close(), () => a.store.close(), () => b.store.close());
  return { server, a: a.store, b: b.store };
}
const ok = <T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T => {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const lines: PosLine[] = [{ sku: null, description: "Prints", quantity: 2, unit_price_minor: 150_000 }];
/** The branch is in Colombo; the clock is makeCore's (25 Nov 2026, 04:00 UTC = 09:30 there). */
const viewer = (store: LocalStore): Viewer => ({ device_id: store.config()!.device_id, role: store.config()!.role, time_zone: "Asia/Colombo", now_ms: Date.UTC(2026, 10, 25, 4, 0, 0) });
const views = (store: LocalStore) => store.conflicts({ open: true }).map((c) => conflictView(c, viewer(store)));

describe("a project deleted on another device", () => {
  it("keeps its name, who deleted it, when and why, and can be restored as a new project with my fields", async () => {
    const { server, a, b } = await setup();
    const created = ok(a.createProject({ ...ex.project, title: "Perera wedding" })).event;
    syncDirect(a, server.core);
    syncDirect(b, server.core);
    ok(b.deleteProject(created.entity_id, "duplicate"));
    syncDirect(b, server.core);
    ok(a.updateProject(created.entity_id, { notes: "bring the 85mm" }));
    syncDirect(a, server.core);

    const [stored] = a.conflicts({ open: true });
    expect(stored).toMatchObject({
      code: "entity_deleted",
      last_change: { seq: 2, user_id: "u-00b2", device_id: B, operation: "delete", reason: "duplicate", committed_at: "2026-11-25T04:00:00.000Z" },
      base_entity: { version: 1, data: { title: "Perera wedding" } },
    });
    const [view] = views(a);
    expect(view).toMatchObject({
      entity_name: "Perera wedding",
      what: "Your edit of this project was not applied.",
      last_change: { words: "Deleted by u-00b2 on another device, 25 Nov 09:30 — reason: duplicate" },
      actions: ["dismiss", "restore"],
      reapply_preview: null,
      manager: null,
    });
    expect(view!.fields.slice(0, 2)).toEqual([
      { label: "Deleted", mine: "No", server: "Yes", differs: true },
      { label: "Title", mine: "Perera wedding", server: "—", differs: true },
    ]);
    expect(view!.fields.find((f) => f.label === "Notes")).toEqual({ label: "Notes", mine: "bring the 85mm", server: "—", differs: true });
    expect(view!.fields.find((f) => f.label === "Package")?.mine).toMatch(/^.+, [\d,]+\.\d\d [A-Z]{3}$/);

    expect(a.resolveConflict(stored!.id, "reapply")).toMatchObject({ ok: false, error: expect.stringMatching(/still exists/) });
    expect(a.resolveConflict(stored!.id, "restore")).toEqual({ ok: true, value: null });
    syncDirect(a, server.core);
    const restored = [...server.core.entities()].filter((e) => e.entity_id !== created.entity_id);
    expect(restored).toEqual([expect.objectContaining({ entity_type: "project", version: 1, data: expect.objectContaining({ title: "Perera wedding", notes: "bring the 85mm" }) })]);
    expect(a.conflicts()[0]).toMatchObject({ resolution: "restore", resolved_by: "u-00a1" });
    expect(a.conflicts({ open: true })).toEqual([]);
  });
});

describe("the base a change was built on", () => {
  it("is kept when a pull replaces it before the verdict comes, and released once nothing is open", async () => {
    const { server, a, b } = await setup();
    const created = ok(a.createProject({ ...ex.project, title: "Perera wedding" })).event;
    syncDirect(a, server.core);
    syncDirect(b, server.core);
    ok(b.updateProject(created.entity_id, { status: "shooting" }));
    ok(b.deleteProject(created.entity_id, "duplicate"));
    syncDirect(b, server.core);
    ok(a.updateProject(created.entity_id, { notes: "bring the 85mm" }));
    expect(inspectStore(a.path, (i) => i.keptBases())).toEqual([]);
    // This device pulls first (the deletion arrives), then pushes its edit.
    a.applyChanges(server.core.pull(a.cursor(), 100, crypto.randomUUID()).changes);
    expect(inspectStore(a.path, (i) => i.keptBases())).toEqual([created.entity_id]);
    syncDirect(a, server.core);
    const [view] = views(a);
    expect(view).toMatchObject({ entity_name: "Perera wedding", actions: ["dismiss", "restore"] });
    expect(view!.fields.find((f) => f.label === "Status")).toEqual({ label: "Status", mine: "Booked", server: "—", differs: true });
    expect(inspectStore(a.path, (i) => i.keptBases())).toEqual([]);
  });
});

describe("a version conflict on an edit", () => {
  it("previews exactly what a re-apply sends, on the server's current version", async () => {
    const { server, a, b } = await setup();
    const created = ok(a.createProject(ex.project)).event;
    syncDirect(a, server.core);
    syncDirect(b, server.core);
    ok(b.updateProject(created.entity_id, { title: "Changed by B", starts_on: "2026-12-02", ends_on: "2026-12-02" }));
    syncDirect(b, server.core);
    ok(a.updateProject(created.entity_id, { notes: "mine" }));
    syncDirect(a, server.core);
    const [view] = views(a);
    expect(view).toMatchObject({
      entity_name: "Perera wedding",
      last_change: { operation: "update", reason: null, words: "Changed by u-00b2 on another device, 25 Nov 09:30" },
      actions: ["dismiss", "reapply"],
      reapply_preview: { base_version: 2, fields: [{ label: "Notes", value: "mine" }] },
    });
    expect(view!.fields.find((f) => f.label === "Title")).toEqual({ label: "Title", mine: "Perera wedding", server: "Changed by B", differs: true });
    expect(view!.fields.find((f) => f.label === "Starts")).toEqual({ label: "Starts", mine: "12 Dec 2026", server: "2 Dec 2026", differs: true });
    expect(view!.fields.find((f) => f.label === "Location")).toMatchObject({ differs: false });
  });
});

describe("an edit of an invoice voided on another device", () => {
  it("can only be dropped: a void is final, so a re-apply is not offered and is refused", async () => {
    const { server, a, b } = await setup();
    const created = ok(a.createInvoice({ ...ex.invoice, project_id: null })).event;
    syncDirect(a, server.core);
    syncDirect(b, server.core);
    ok(b.voidInvoice(created.entity_id, "issued twice"));
    syncDirect(b, server.core);
    ok(a.updateInvoice(created.entity_id, { notes: "late edit" }));
    syncDirect(a, server.core);
    const [view] = views(a);
    expect(view).toMatchObject({ code: "entity_voided", actions: ["dismiss"], last_change: { operation: "void", reason: "issued twice" } });
    expect(view!.last_change!.words).toBe("Voided by u-00b2 on another device, 25 Nov 09:30 — reason: issued twice");
    expect(a.resolveConflict(view!.id, "reapply")).toMatchObject({ ok: false, error: expect.stringMatching(/not voided/) });
  });
});

describe("a refused create", () => {
  it("is entered again as a new record with a new id and the same fields", async () => {
    const { server, a } = await setup();
    const created = ok(a.createInvoice({ ...ex.invoice, project_id: null, reference: "INV-7" })).event;
    // Demoted to viewer before it was sent: the create is refused.
    const init = a.init({ server_url: "http://127.0.0.1:8787", token: await deviceToken("test-branch", A, "viewer") });
    if (!init.ok) throw new Error(init.error);
    syncDirect(a, server.core);
    const [view] = views(a);
    expect(view).toMatchObject({ code: "permission_denied", entity_name: `Invoice INV-7 for ${ex.invoice.client_name}`, what: "Your new invoice was not accepted by the server.", last_change: null, actions: ["dismiss", "reenter"] });
    expect(view!.fields[0]).toEqual({ label: "On the server", mine: "—", server: "Does not exist", differs: true });
    const promoted = a.init({ server_url: "http://127.0.0.1:8787", token: await deviceToken("test-branch", A, "staff") });
    if (!promoted.ok) throw new Error(promoted.error);
    expect(a.resolveConflict(view!.id, "reenter")).toEqual({ ok: true, value: null });
    syncDirect(a, server.core);
    const [again] = [...server.core.entities()];
    expect(again!.entity_id).not.toBe(created.entity_id);
    expect(again).toMatchObject({ entity_type: "invoice", data: { reference: "INV-7", client_name: ex.invoice.client_name } });
  });
});

describe("a refused POS sale (kept for a manager, I6)", () => {
  it("is never closed or re-entered locally; only a manager's resolution from the server closes it, naming the manager", async () => {
    const server = makeCore();
    const till = await openStore({ device: A, role: "staff" });
    cleanup.push(() => server.close(), () => till.store.close());
    const store = till.store;
    ok(store.posSale({ currency: "LKR", lines, method: "card" }));
    const cfg = store.config()!;
    const batch = store.nextBatch()!;
    store.applyVerdicts(batch.batch_id, server.core.push({ device_id: cfg.device_id, user_id: cfg.user_id, role: "viewer" }, batch.events as never).verdicts);
    const [stored] = store.conflicts({ open: true });
    const [view] = views(store);
    expect(view).toMatchObject({ needs_manager: true, actions: [], manager: { can_resolve: false, words: expect.stringContaining("only a manager or the owner can") } });
    expect(view!.fields.find((f) => f.label === "Total")).toEqual({ label: "Total", mine: "3,000.00 LKR", server: "—", differs: true });
    for (const action of ["dismiss", "reapply", "restore", "reenter"] as const) {
      expect(store.resolveConflict(stored!.id, action)).toMatchObject({ ok: false, error: expect.stringContaining("resolved only by a manager or the owner, through the server") });
    }
    expect(store.conflicts({ open: true })).toHaveLength(1);
    expect(conflictView(stored!, { ...viewer(store), role: "manager" }).manager).toMatchObject({ can_resolve: true });

    const resolution = { event_id: stored!.event_id, action: "keep_server", note: "refunded in cash", resolved_by: "priya", resolved_device: B, resolved_at: "2026-11-25T04:05:00.000Z", already: false } as const;
    // An answer about another change closes nothing.
    expect(store.recordManagerResolution(stored!.id, { ...resolution, event_id: B } as never)).toMatchObject({ ok: false });
    expect(store.conflicts({ open: true })).toHaveLength(1);
    expect(store.recordManagerResolution(stored!.id, resolution as never)).toEqual({ ok: true, value: null });
    expect(store.conflicts()[0]).toMatchObject({ resolution: "keep_server", resolved_by: "priya", resolution_note: "refunded in cash" });
    expect(store.conflicts({ open: true })).toEqual([]);
    expect(inspectStore(store.path, (i) => i.audit()).at(-1)).toMatchObject({ kind: "conflict_resolved", detail: expect.stringContaining("keep_server by priya: refunded in cash") });
  });
});

describe("a manager's resolution through the core", () => {
  /** A till whose sale the server refused, bound to `role`, talking to `serverUrl`. */
  async function refusedSale(role: "cashier" | "manager", serverUrl: string) {
    const server = makeCore();
    const till = await openStore({ device: A, role, serverUrl });
    cleanup.push(() => server.close(), () => till.store.close());
    ok(till.store.posSale({ currency: "LKR", lines, method: "card" }));
    const cfg = till.store.config()!;
    const batch = till.store.nextBatch()!;
    till.store.applyVerdicts(batch.batch_id, server.core.push({ device_id: cfg.device_id, user_id: cfg.user_id, role: "viewer" }, batch.events as never).verdicts);
    return till.store;
  }

  it("refuses a cashier, an empty note, and keeps the entry open, in words, when the server cannot be reached", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const cashier = await refusedSale("cashier", dead);
    const core = new DesktopCore(cashier, { online: false });
    cleanup.push(() => core.stop());
    const id = cashier.conflicts()[0]!.id;
    expect(await core.handle({ method: "managerResolveConflict", id, note: "refunded" })).toEqual({ ok: false, error: "Only a manager or the owner can resolve a refused POS sale. Ask a manager." });
    expect(await core.handle({ method: "resolveConflict", id, action: "dismiss" })).toMatchObject({ ok: false, error: expect.stringContaining("resolved only by a manager") });

    const manager = await refusedSale("manager", dead);
    const online = new DesktopCore(manager, { online: true });
    cleanup.push(() => online.stop());
    const entry = manager.conflicts()[0]!.id;
    expect(await online.handle({ method: "managerResolveConflict", id: entry, note: "  " })).toMatchObject({ ok: false, error: expect.stringMatching(/^Write a note/) });
    expect(await online.handle({ method: "managerResolveConflict", id: entry, note: "refunded in cash" })).toEqual({
      ok: false,
      error: "The server could not be reached, so the sale stays open for a manager. Try again when this till is online.",
    });
    expect(manager.conflicts({ open: true })).toHaveLength(1);
    const [view] = (await online.handle({ method: "conflicts", open: true })) as Array<{ manager: unknown; actions: unknown }>;
    expect(view).toMatchObject({ manager: { can_resolve: true }, actions: [] });
  });

  it("on a cashier's till takes a manager's code: the note first, offline and unreachable in words, a bad code beside its field; the till's sign-in untouched", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const cashier = await refusedSale("cashier", dead);
    const before = cashier.config()!;
    const core = new DesktopCore(cashier, { online: false });
    cleanup.push(() => core.stop());
    const id = cashier.conflicts()[0]!.id;
    expect(await core.handle({ method: "managerResolveConflict", id, note: " ", code: "K7QF-9M2X" })).toEqual({ ok: false, field: "note", error: "Write a note saying what was decided (for example: customer refunded in cash)." });
    expect(await core.handle({ method: "managerResolveConflict", id, note: "refunded", code: "K7QF-9M2X" })).toMatchObject({ ok: false, error: expect.stringMatching(/^Sync is switched off/) });
    await core.handle({ method: "setOnline", online: true });
    // A code that cannot be one is refused before anything is sent.
    expect(await core.handle({ method: "managerResolveConflict", id, note: "refunded", code: "K7QF-0M2X" })).toEqual({
      ok: false,
      field: "code",
      error: "A sign-in code has no 0: it never uses 0, O, 1, I or L. Check the code and type it again.",
    });
    expect(await core.handle({ method: "managerResolveConflict", id, note: "refunded", code: "k7qf 9m2x" })).toEqual({
      ok: false,
      error: "The server could not be reached, so the sale stays open for a manager. Try again when this till is online.",
    });
    expect(cashier.conflicts({ open: true })).toHaveLength(1);
    expect(cashier.config()).toEqual(before);
    const [view] = (await core.handle({ method: "conflicts", open: true })) as Array<{ manager: unknown }>;
    expect(view).toMatchObject({ manager: { can_resolve: false, by_code: true, words: expect.stringContaining("Ask a manager for a manager sign-in code") } });
  });
});
