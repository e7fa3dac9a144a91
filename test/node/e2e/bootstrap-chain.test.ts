/**
 * Bootstrap from a chain of incremental snapshots end to end (snapshot format 3, issue 18): the real
 * Worker + branch Durable Object + R2 (workerd via wrangler), a real desktop store.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootstrap } from "../../../desktop/sync/bootstrap.js";
import { SnapshotChain, SnapshotManifest } from "../../../protocol/index.js";
import { makeEventFactory } from "../../support/events.js";
import { type Desktop, desktop, serverTruth } from "../../support/e2e.js";
import { type LocalServer, NodeClient, startServer, tokenFor } from "../../support/server.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const N = "01936f3c-0000-7000-8000-0000000000e1";
let server: LocalServer;
const open: Desktop[] = [];
beforeAll(async () => {
  server = await startServer();
}, 60_000);
afterAll(async () => {
  open.forEach((d) => d.close());
  await server.stop();
});

async function exportNow(branch: string) {
  const response = await fetch(new URL(`/v1/branches/${branch}/snapshots`, server.url), { method: "POST", headers: { Authorization: `Bearer ${await tokenFor(branch, A, "manager")}` } });
  expect(response.status).toBe(201);
  return SnapshotManifest.parse(await response.json());
}

describe("bootstrap from a chain of incremental snapshots", () => {
  it("a new device downloads the base and each increment, applies them in order and equals the server field for field", async () => {
    const branch = `boot-chain-${Date.now().toString(36)}`;
    const f = makeEventFactory(78);
    const client = await NodeClient.open(server, branch, A, "owner");
    const projects = Array.from({ length: 1_000 }, (_, i) => f.createProject(A, undefined, `Shoot ${i}`));
    const sales = Array.from({ length: 1_000 }, (_, i) => f.sale(A, undefined, `R-${i}`, 1_000 + i));
    await client.pushEvents([...projects, ...sales]);
    const base = await exportNow(branch);

    await client.pushEvents([
      ...projects.slice(0, 10).map((p) => f.updateProject(A, p.entity_id, { notes: "first" }, { base: 1 })),
      f.deleteProject(A, projects[10]!.entity_id, { base: 1 }),
      ...sales.slice(0, 5).map((s) => f.voidOrder(A, s.entity_id, { base: 1 })),
      f.correction(A, sales[5]!.entity_id, undefined, -100),
    ]);
    const first = await exportNow(branch);
    await client.pushEvents([
      ...projects.slice(0, 5).map((p) => f.updateProject(A, p.entity_id, { notes: "second" }, { base: 2 })),
      f.sale(A, undefined, "R-new", 4_242),
    ]);
    const second = await exportNow(branch);
    expect([first, second].map((m) => m.base_seq)).toEqual([base.seq, first.seq]);
    expect(second.counts).toMatchObject({ project: 5, pos_order: 1, pos_facts: 1 });
    // Commits after the chain, pulled by the engine after the bootstrap.
    await client.pushEvents([f.updateProject(A, projects[20]!.entity_id, { title: "after" }, { base: 1 })]);
    client.close();

    const auth = { Authorization: `Bearer ${await tokenFor(branch, N, "cashier")}` };
    const listed = SnapshotChain.parse(await (await fetch(new URL(`/v1/branches/${branch}/snapshots/latest?chain=1`, server.url), { headers: auth })).json());
    expect(listed.chain).toEqual([base, first, second]);

    const device = await desktop(server, branch, N, "cashier", 9);
    open.push(device);
    const used = await bootstrap(device.store);
    expect(used).toEqual(second);
    expect(device.store.cursor()).toBe(second.seq);
    expect(device.store.snapshotSeq()).toBe(second.seq);

    device.start();
    await device.engine.untilDrained(60_000);
    const truth = await serverTruth(server, branch);
    expect(device.store.cursor()).toBe(truth.head);
    expect([...device.store.baseEntities()]).toEqual(truth.entities);
    expect(device.store.ledger()).toEqual(truth.ledger);
  }, 180_000);
});
