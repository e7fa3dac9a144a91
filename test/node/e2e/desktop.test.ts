/**
 * End to end: real desktop stores (better-sqlite3 files) and sync engines (partysocket over `ws`)
 * against the real Worker + branch Durable Object under workerd, over WebSockets on 127.0.0.1.
 * Every test ends by checking convergence (I5) and POS totals (I6) field by field.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspectStore } from "../../../desktop/store/inspect.js";
import { LocalStore } from "../../../desktop/store/local-store.js";
import { type Entity, type PosLine } from "../../../domain/index.js";
import { MAX_BATCHES_IN_FLIGHT } from "../../../machines/index.js";
import { MAX_BATCH_EVENTS } from "../../../protocol/index.js";
import * as ex from "../../fixtures/examples.js";
import { tempDbPath } from "../../support/desktop.js";
import { startProxy } from "../../support/proxy.js";
import { type Desktop, desktop, freePort, serverTruth, waitUntil } from "../../support/e2e.js";
import { type LocalServer, startServer, tokenFor } from "../../support/server.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const B = "01936f3c-0000-7000-8000-0000000000b2";
const root = path.resolve(import.meta.dirname, "../../..");
let server: LocalServer;
let n = 0;
const open: Desktop[] = [];
const branch = () => `e2e-${Date.now().toString(36)}-${++n}`;

beforeAll(async () => {
  server = await startServer(undefined, await freePort());
}, 60_000);
afterAll(async () => {
  open.forEach((d) => d.close());
  await server.stop();
});

async function device(b: string, id: string, role: Parameters<typeof desktop>[3] = "owner", seed = 1) {
  const d = await desktop(server, b, id, role, seed);
  open.push(d);
  return d;
}
const ok = <T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T => {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
const lines = (amount: number): PosLine[] => [{ sku: null, description: "Prints", quantity: 1, unit_price_minor: amount }];

/** I5 and I6: each device's base and view equal the server's entities; ledgers equal the server's. */
async function expectConverged(b: string, devices: Desktop[]) {
  const truth = await serverTruth(server, b);
  for (const d of devices) {
    expect(d.store.cursor()).toBe(truth.head);
    const base = [...d.store.baseEntities()];
    expect(base).toEqual(truth.entities);
    for (const entity of truth.entities) {
      const view = d.store.get(entity.entity_id);
      if (entity.deleted) expect(view === null || view.entity.deleted).toBe(true);
      else expect(view?.entity).toEqual(entity);
    }
    expect(d.store.ledger()).toEqual(truth.ledger);
  }
  return truth;
}

describe("the desktop against the real server", () => {
  it("the seed's scenario: A's offline edit of a project B deleted is rejected, gone locally, and explained", async () => {
    const b = branch();
    const a = await device(b, A, "owner", 1);
    const bb = await device(b, B, "manager", 2);
    const project = ok(a.store.createProject(ex.project)).event.entity_id;
    a.start();
    await a.engine.untilDrained(20_000);
    a.engine.setOnline(false); // A goes on location, offline
    ok(a.store.updateProject(project, { notes: "edited on location" }));

    bb.start();
    await bb.engine.untilDrained(20_000);
    ok(bb.store.deleteProject(project, "client cancelled"));
    bb.engine.notifyWrite();
    await bb.engine.untilDrained(20_000);

    a.engine.setOnline(true);
    await a.engine.untilDrained(20_000);
    expect(a.store.list("project")).toEqual([]);
    expect(a.store.get(project)?.entity.deleted).toBe(true);
    expect(a.store.conflicts({ open: true })).toMatchObject([{ code: "entity_deleted", message: "Project was deleted remotely" }]);
    await expectConverged(b, [a, bb]);
  }, 60_000);

  it("an on-location crew: 500 mixed offline writes are confirmed once and reach the other device live", async () => {
    const b = branch();
    const a = await device(b, A, "owner", 3);
    const bb = await device(b, B, "manager", 4);
    bb.start();
    await bb.engine.untilDrained(20_000);

    const projects: string[] = [];
    const sales: string[] = [];
    for (let i = 0; i < 500; i++) {
      const kind = i % 10;
      if (kind < 4 || sales.length === 0) sales.push(ok(a.store.posSale({ currency: "LKR", lines: lines(10_000 + i), method: i % 3 === 0 ? "cash" : "card", tendered_minor: i % 3 === 0 ? 20_000 : null })).event.entity_id);
      // A second void of the same order is refused locally (already voided): that is expected here.
      else if (kind === 4) a.store.posVoid(sales[i % sales.length]!, "customer changed mind");
      else if (kind === 5) ok(a.store.posCorrection(sales.at(-1)!, { lines: [{ sku: null, description: "Refund", quantity: -1, unit_price_minor: 1_000 }], method: "cash", reason: "discount" }));
      else if (kind === 6 || projects.length === 0) projects.push(ok(a.store.createProject({ ...ex.project, title: `Shoot ${i}` })).event.entity_id);
      else ok(a.store.updateProject(projects[i % projects.length]!, { notes: `note ${i}` }));
    }
    // Voiding an order twice offline is refused locally, so a few writes above may have been refused:
    const queued = a.store.queueCounts().pending;
    expect(queued).toBeGreaterThan(450);

    a.start();
    await a.engine.untilDrained(60_000);
    expect(a.store.queueCounts()).toEqual({ pending: 0, sent: 0, confirmed: queued, rejected: 0 });
    await waitUntil("B has every commit", () => bb.store.cursor() === a.store.cursor(), 30_000);
    const truth = await expectConverged(b, [a, bb]);
    expect(truth.head).toBe(queued);
    const seqs = bb.received.map((c) => c.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs.length).toBe(queued);
  }, 120_000);

  it("a push cut by killing the desktop process resumes after restart: nothing lost, nothing twice", async () => {
    const b = branch();
    const dbPath = tempDbPath("crash");
    // The device talks to the server through a proxy that cuts it at an exact point: after the first
    // batch's verdicts, the server still gets the second batch (and commits it) but the device never
    // hears back. The process is killed right there, not after a race against a timer.
    const proxy = await startProxy(server.url);
    const store = LocalStore.open(dbPath);
    const init = store.init({ server_url: proxy.url.origin, token: await tokenFor(b, A, "owner") });
    if (!init.ok) throw new Error(init.error);
    for (let i = 0; i < 1_500; i++) ok(store.posSale({ currency: "LKR", lines: lines(100 + i), method: "card" }));
    store.close();

    const unanswered = proxy.freezeAfterVerdicts(1);
    const cli = spawn(path.join(root, "node_modules/.bin/tsx"), ["desktop/cli/main.ts", "--db", dbPath, "sync", "--timeout", "60"], { cwd: root, stdio: "ignore" });
    const exited = new Promise((r) => cli.once("exit", r));
    await unanswered;
    // Read from the side (a read-only connection), each event in its state as the app reads it.
    const queueCounts = () => {
      const counts: Record<string, number | undefined> = {};
      for (const q of inspectStore(dbPath, (i) => i.queue())) counts[q.sync_status] = (counts[q.sync_status] ?? 0) + 1;
      return counts;
    };
    // The proxy forwarded the first verdicts and holds everything after them: once the process has
    // applied those (on a loaded machine that takes a moment after the frame left the proxy), nothing
    // more can change, and it is killed with the later batches in flight.
    await waitUntil("the first batch's verdicts applied", () => queueCounts().confirmed === MAX_BATCH_EVENTS, 30_000);
    cli.kill("SIGKILL");
    await exited;
    const counts = queueCounts();
    // Exactly one batch confirmed, the batches in flight behind it sent and unanswered (up to
    // MAX_BATCHES_IN_FLIGHT: the ones that went out before the first verdicts, and one after), the rest still queued.
    expect(counts.confirmed).toBe(MAX_BATCH_EVENTS);
    const sent = counts.sent ?? 0;
    expect(sent % MAX_BATCH_EVENTS).toBe(0);
    expect(sent / MAX_BATCH_EVENTS).toBeGreaterThanOrEqual(1);
    expect(sent / MAX_BATCH_EVENTS).toBeLessThanOrEqual(MAX_BATCHES_IN_FLIGHT);
    expect(counts.pending).toBe(1_500 - MAX_BATCH_EVENTS - sent);
    proxy.passAll();

    const again = LocalStore.open(dbPath);
    const { SyncEngine } = await import("../../../desktop/sync/engine.js");
    const engine = new SyncEngine({ store: again }).start();
    await engine.untilDrained(60_000);
    engine.stop();
    expect(again.queueCounts()).toEqual({ pending: 0, sent: 0, confirmed: 1_500, rejected: 0 });
    const truth = await serverTruth(server, b);
    expect(truth.head).toBe(1_500);
    expect(truth.entities).toHaveLength(1_500);
    expect([...again.baseEntities()]).toEqual(truth.entities);
    expect(again.ledger()).toEqual(truth.ledger);
    again.close();
    await proxy.close();
  }, 120_000);

  it("a project whose Smart Select holds 20,000 items syncs through chunks across a cut connection", async () => {
    const b = branch();
    const a = await device(b, A, "owner", 5);
    const bb = await device(b, B, "owner", 6);
    const project = ok(a.store.createProject(ex.project)).event.entity_id;
    const items = Array.from({ length: 20_000 }, (_, i) => ({
      sha256: (i * 7919).toString(16).padStart(64, "a"),
      file_name: `DSC_${String(i).padStart(5, "0")}.NEF`,
      size_bytes: 24_000_000 + i,
      note: i % 50 === 0 ? "client favourite" : null,
    }));
    ok(a.store.setMediaSelection(project, { items }));
    bb.start();
    await bb.engine.untilDrained(20_000);

    // Cut the first connection after two chunk frames have gone out.
    const { openPartySocket } = await import("../../../desktop/sync/transport.js");
    const { SyncEngine } = await import("../../../desktop/sync/engine.js");
    let chunksSent = 0;
    let cuts = 0;
    const base = openPartySocket(15_000);
    const cutting = new SyncEngine({
      store: a.store,
      openSocket: (url, handlers) => {
        const socket = base(url, handlers);
        return {
          send: (text) => {
            socket.send(text);
            if (text.startsWith('{"type":"chunk"') && ++chunksSent === 2 && cuts++ === 0) socket.close(4999, "test_cut");
          },
          close: (code, reason) => socket.close(code, reason),
        };
      },
    });
    cutting.start();
    await cutting.untilDrained(60_000);
    cutting.stop();
    expect(cuts).toBe(1);
    expect(a.store.queueCounts()).toMatchObject({ confirmed: 2, pending: 0, sent: 0 });
    await waitUntil("B has the selection", () => bb.store.cursor() === a.store.cursor(), 30_000);
    const onB = bb.store.get(project)!.entity as Extract<Entity, { entity_type: "project" }>;
    expect(onB.data?.media_selection.items).toEqual(items);
    await expectConverged(b, [a, bb]);
  }, 120_000);
});

describe("a server restart while devices are connected", () => {
  it("devices reconnect with backoff and converge", async () => {
    const b = branch();
    const a = await device(b, A, "owner", 7);
    const bb = await device(b, B, "owner", 8);
    a.start();
    bb.start();
    ok(a.store.createProject(ex.project));
    a.engine.notifyWrite();
    await a.engine.untilDrained(20_000);
    await waitUntil("B is live", () => bb.engine.status().kind === "live" && bb.store.cursor() === 1);

    const port = Number(server.url.port);
    const dir = server.persistDir;
    await server.stop({ keepState: true });
    await waitUntil("A notices", () => a.engine.status().kind !== "live", 20_000);
    for (let i = 0; i < 20; i++) ok(a.store.posSale({ currency: "LKR", lines: lines(1_000 * (i + 1)), method: "card" }));
    ok(bb.store.createProject({ ...ex.project, title: "Written during the outage" }));

    server = await startServer(dir, port);
    a.engine.notifyWrite();
    bb.engine.notifyWrite();
    await a.engine.untilDrained(60_000);
    await bb.engine.untilDrained(60_000);
    await waitUntil("both caught up", () => a.store.cursor() === 22 && bb.store.cursor() === 22, 30_000);
    await expectConverged(b, [a, bb]);
  }, 120_000);
});
