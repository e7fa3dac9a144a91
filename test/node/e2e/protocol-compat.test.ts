/**
 * The protocol moved to v7 (leases, issue 17) without stranding anyone: a desktop that still speaks
 * v6, whose store is of an older layout and holds 500 events queued offline, upgrades its store in
 * place and syncs every event exactly once against the real v7 server (Worker + branch Durable
 * Object under workerd), a process kill in the middle of its pushes included. Its edit of a group a
 * v7 till holds the lease on is refused in words it knows (`operation_not_allowed`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalStore } from "../../../desktop/store/local-store.js";
import { inspectStore } from "../../../desktop/store/inspect.js";
import { LAYOUT_VERSION } from "../../../desktop/store/migrations.js";
import { rewindToLayout1 } from "../../../desktop/store/testing.js";
import { SyncEngine } from "../../../desktop/sync/engine.js";
import type { Role } from "../../../domain/index.js";
import * as ex from "../../fixtures/examples.js";
import { openStore, tempDbPath } from "../../support/desktop.js";
import { desktop, freePort, serverTruth, waitUntil } from "../../support/e2e.js";
import { type LocalServer, startServer, tokenFor } from "../../support/server.js";

const MANAGER = "01936f3c-0000-7000-8000-0000000000e1";
const OLD = "01936f3c-0000-7000-8000-0000000000d6";
const QUEUED = 500;

let server: LocalServer;
beforeAll(async () => {
  server = await startServer(undefined, await freePort());
  await fetch(new URL("/health", server.url));
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

/** The old desktop: the real store and engine, saying hello with protocol 6, pushing 50 events a batch. */
async function oldDesktop(path: string, branch: string, role: Role) {
  const store = LocalStore.open(path);
  const bound = store.init({ server_url: server.url.origin, token: await tokenFor(branch, OLD, role) });
  if (!bound.ok) throw new Error(bound.error);
  let seed = 7;
  const engine = new SyncEngine({
    store,
    protocolVersion: 6,
    maxBatchEvents: 50,
    random: () => ((seed = (seed * 16807) % 2147483647) / 2147483647),
  });
  return { store, engine };
}

describe("a v6 desktop with an older store against the v7 server", () => {
  it("upgrades its layout-1 store in place and pushes 500 queued events exactly once, across a kill mid-push", async () => {
    const branch = `compat-${Date.now().toString(36)}`;
    // A v7 manager's till: an invoice, whose payment lease it holds for the whole test.
    const manager = await desktop(server, branch, MANAGER, "manager", 1);
    const created = manager.store.createInvoice({ ...ex.invoice, project_id: null });
    if (!created.ok) throw new Error(created.error.message);
    const invoice = created.value.event.entity_id;
    manager.start();
    await manager.engine.untilDrained(20_000);
    expect(await manager.engine.lease("acquire", invoice, "payment", { ttlMs: 300_000 })).toMatchObject({ outcome: "granted" });

    // The old till learns the invoice, then works offline: 498 projects, a note (not guarded) and a payment (guarded).
    const path = tempDbPath("compat");
    const first = await openStore({ path, branch, device: OLD, role: "staff", seed: 9, serverUrl: server.url.origin });
    first.store.close();
    const online = await oldDesktop(path, branch, "staff");
    online.engine.start();
    await waitUntil("the old till has the invoice", () => online.store.get(invoice) !== null, 20_000);
    await online.engine.untilDrained(20_000);
    online.engine.stop();
    for (let i = 0; i < QUEUED - 2; i++) {
      const r = online.store.createProject({ ...ex.project, title: `Offline shoot ${i}`, media_selection: { items: [] } });
      if (!r.ok) throw new Error(r.error.message);
    }
    // The note first: a later local edit of the invoice builds on the earlier one (depends_on), and
    // the refused payment would take a note queued after it along (depends_on_rejected).
    const note = online.store.updateInvoice(invoice, { notes: "deliver on Friday" });
    const pay = online.store.updateInvoice(invoice, { payments: [...ex.invoice.payments, { method: "cash", amount_minor: 5_000, paid_at: "2026-11-25T05:00:00.000Z", reference: null }] });
    if (!pay.ok || !note.ok) throw new Error("the invoice edits were refused locally");
    expect(online.store.summary().pending).toBe(QUEUED);
    online.store.close();

    // The store as the previous app left it: layout 1, the 500 events still pending.
    rewindToLayout1(path);
    expect(inspectStore(path, (i) => i.layout()).version).toBe(1);

    // The app starts: the store upgrades in place; the engine pushes, and the process is killed as
    // its first verdicts are applied, with later batches sent and not answered yet.
    let kill: () => void = () => {};
    const dead = new Promise<void>((resolve) => (kill = resolve));
    const killed = await oldDesktop(path, branch, "staff");
    expect(inspectStore(path, (i) => i.layout()).version).toBe(LAYOUT_VERSION);
    expect(killed.store.summary().pending).toBe(QUEUED);
    killed.engine.subscribe(() => {
      if (killed.store.queueCounts().confirmed > 0) kill();
    });
    killed.engine.start();
    await dead;
    killed.engine.stop();
    const atKill = killed.store.queueCounts();
    killed.store.close();
    expect(atKill.confirmed).toBeGreaterThan(0);
    expect(atKill.confirmed).toBeLessThan(QUEUED - 1);
    expect(atKill.sent).toBeGreaterThan(0);

    // Started again: batches without verdicts go out again with the same ids; the rest follow.
    const restarted = await oldDesktop(path, branch, "staff");
    restarted.engine.start();
    await restarted.engine.untilDrained(60_000);
    const counts = restarted.store.queueCounts();
    // The initial sync's own events are none (it only pulled): every queued event is decided once.
    expect(counts).toEqual({ pending: 0, sent: 0, confirmed: QUEUED - 1, rejected: 1 });
    const [refused] = restarted.store.conflicts({ open: true });
    expect(refused).toMatchObject({ event_id: pay.value.event.id, code: "operation_not_allowed" });
    expect(refused!.message).toContain("being edited on device");

    // The server committed each of them exactly once, in the order queued.
    const truth = await serverTruth(server, branch);
    const response = await fetch(new URL(`/v1/branches/${branch}/changes?since=0&limit=1000`, server.url), { headers: { Authorization: `Bearer ${await tokenFor(branch, MANAGER, "manager")}` } });
    const page = (await response.json()) as { changes: Array<{ event_id: string; device_id: string; seq: number }> };
    const mine = page.changes.filter((c) => c.device_id === OLD);
    expect(mine).toHaveLength(QUEUED - 1);
    expect(new Set(mine.map((c) => c.event_id)).size).toBe(QUEUED - 1);
    const order = restarted.store.queue({ limit: QUEUED }).events.filter((e) => e.status === "confirmed");
    expect(mine.map((c) => c.event_id)).toEqual([...order].sort((x, y) => x.position - y.position).map((e) => e.event_id));
    expect(truth.head).toBe(1 + (QUEUED - 1));
    // The note went through beside the refused payment; the branch knows this till spoke v6.
    expect(truth.entities.find((e) => e.entity_id === invoice)).toMatchObject({ data: { notes: "deliver on Friday", payments: ex.invoice.payments } });
    const devices = await fetch(new URL(`/v1/branches/${branch}/dashboard/devices`, server.url), { headers: { Authorization: `Bearer ${await tokenFor(branch, MANAGER, "manager")}` } });
    const presence = ((await devices.json()) as { devices: Array<{ device_id: string; protocol_version: number | null }> }).devices;
    expect(presence.find((d) => d.device_id === OLD)?.protocol_version).toBe(6);

    // Nothing more goes out: a later start pushes nothing and the head stays.
    restarted.engine.stop();
    restarted.store.close();
    const again = await oldDesktop(path, branch, "staff");
    again.engine.start();
    await again.engine.untilDrained(20_000);
    expect((await serverTruth(server, branch)).head).toBe(truth.head);
    again.engine.stop();
    again.store.close();
    manager.close();
  }, 180_000);
});
