/**
 * Snapshots and bootstrap end to end: the real Worker + branch Durable Object + R2 (workerd via
 * wrangler), real desktop stores. A new device never replays a branch's whole history.
 */
import { inspectStore } from "../../../desktop/store/inspect.js";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootstrap } from "../../../desktop/sync/bootstrap.js";
import { SnapshotManifest } from "../../../protocol/index.js";
import { type SyncEvent } from "../../../domain/index.js";
import * as ex from "../../fixtures/examples.js";
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

async function requestSnapshot(branch: string) {
  const response = await fetch(new URL(`/v1/branches/${branch}/snapshots`, server.url), {
    method: "POST",
    headers: { Authorization: `Bearer ${await tokenFor(branch, A, "manager")}` },
  });
  expect(response.status).toBe(201);
  return SnapshotManifest.parse(await response.json());
}

/** A branch with history: projects (edited, some deleted), invoices, POS sales, voids, corrections. */
async function seedBranch(branch: string, entities: number) {
  const f = makeEventFactory(77);
  const client = await NodeClient.open(server, branch, A, "owner");
  const events: SyncEvent[] = [];
  const projects: string[] = [];
  const sales: string[] = [];
  let created = 0;
  for (let i = 0; created < entities; i++) {
    if (i % 10 <= 7) created++;
    switch (i % 10) {
      case 0:
      case 1:
      case 2: {
        const e = f.createProject(A, undefined, `Shoot ${i}`);
        projects.push(e.entity_id);
        events.push(e);
        break;
      }
      case 3:
      case 4:
      case 5:
      case 6: {
        const e = f.sale(A, undefined, `R-${i}`, 1_000 + (i % 977));
        sales.push(e.entity_id);
        events.push(e);
        break;
      }
      case 7:
        events.push(f.event(A, "invoice", f.nextId(), "create", { ...ex.invoice, project_id: null, reference: `INV-${i}` }));
        break;
      case 8:
        events.push(f.updateProject(A, projects[i % projects.length]!, { notes: `edit ${i}` }, { base: 1 }));
        projects.splice(i % projects.length, 1); // one edit per project keeps base versions simple
        break;
      case 9:
        if (i % 20 === 9) events.push(f.voidOrder(A, sales.shift()!, { base: 1 }));
        else if (i % 40 === 19) events.push(f.deleteProject(A, projects.shift()!, { base: 1 }));
        else events.push(f.correction(A, sales.pop()!, undefined, -100));
        break;
    }
  }
  await client.pushEvents(events);
  return { client, f, sales, projects };
}

describe("bootstrap from a snapshot", () => {
  it("a new device bootstraps a 50,000-entity branch, then pulls what came after: equal to the server, field for field", async () => {
    const branch = `boot-${Date.now().toString(36)}`;
    const { client, f, sales, projects } = await seedBranch(branch, 50_000);
    const manifest = await requestSnapshot(branch);
    const { counts } = manifest;
    expect(counts.project + counts.invoice + counts.pos_order + counts.tombstones).toBeGreaterThanOrEqual(50_000);
    expect(counts.tombstones).toBeGreaterThan(0);
    expect(counts.pos_voids).toBeGreaterThan(0);

    // Commits after the snapshot: the device must pull these after bootstrapping.
    await client.pushEvents([f.sale(A, undefined, "AFTER-1", 5_000), f.voidOrder(A, sales.at(-1)!, { base: 1 }), f.updateProject(A, projects.at(-1)!, { title: "after" }, { base: 1 })]);
    client.close();

    const device = await desktop(server, branch, N, "cashier", 9);
    open.push(device);
    const phases = new Set<string>();
    let lastBytes = 0;
    const { SyncEngine } = await import("../../../desktop/sync/engine.js");
    const engine = new SyncEngine({
      store: device.store,
      onBootstrapProgress: (p) => {
        phases.add(p.phase);
        lastBytes = p.bytes;
      },
    }).start();
    await engine.untilDrained(120_000);
    engine.stop();
    expect([...phases]).toEqual(["download", "verify", "apply", "done"]);
    expect(lastBytes).toBe(manifest.byte_size);
    expect(device.store.snapshotSeq()).toBe(manifest.seq);
    const audited = inspectStore(device.store.path, (i) => i.audit({ kind: "bootstrap" }));
    expect(audited.map((r) => r.detail)).toEqual([expect.stringContaining(`snapshot seq ${manifest.seq}`)]);

    const truth = await serverTruth(server, branch);
    expect(device.store.cursor()).toBe(truth.head);
    expect(truth.head).toBe(manifest.seq + 3);
    const local = [...device.store.baseEntities()];
    expect(local.length).toBe(truth.entities.length);
    expect(local).toEqual(truth.entities);
    expect(device.store.ledger()).toEqual(truth.ledger);
    expect(device.store.list("project", { limit: 5 })).toHaveLength(5);
    // Issued invoices came through the snapshot with their official numbers (format 2), gap-free from 1.
    const numbers = local.flatMap((e) => (e.entity_type === "invoice" && e.official_invoice_no !== undefined ? [e.official_invoice_no] : [])).sort((a, b) => a - b);
    expect(numbers.length).toBe(counts.invoice);
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
  }, 300_000);

  it("resumes an interrupted download, refuses a flipped byte, another branch and a newer format", async () => {
    const branch = `boot-edge-${Date.now().toString(36)}`;
    const { client } = await seedBranch(branch, 3_000);
    client.close();
    const manifest = await requestSnapshot(branch);
    const device = await desktop(server, branch, N, "owner", 10);
    open.push(device);
    const file = `${device.store.path}.test-download`;

    // 1. The connection drops halfway through the download.
    const ranges: Array<string | null> = [];
    const cutting: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input).endsWith("/data")) return response;
      ranges.push(new Headers(init?.headers).get("Range"));
      if (ranges.length > 1) return response;
      const reader = response.body!.getReader();
      let sent = 0;
      const half = Math.floor(manifest.byte_size / 2);
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done || sent >= half) return controller.close();
          const piece = value.subarray(0, Math.max(0, half - sent));
          sent += piece.byteLength;
          controller.enqueue(piece);
        },
      });
      return new Response(body, { status: response.status, headers: response.headers });
    };
    await expect(bootstrap(device.store, { fetch: cutting, downloadPath: file })).rejects.toThrow(/stopped at \d+ of \d+ bytes; it resumes/);
    expect(device.store.cursor()).toBe(0);
    const done = await bootstrap(device.store, { fetch: cutting, downloadPath: file });
    expect(done?.seq).toBe(manifest.seq);
    expect(ranges[0]).toBeNull();
    expect(ranges[1]).toMatch(/^bytes=\d+-$/);
    expect(device.store.cursor()).toBe(manifest.seq);

    // 2. A flipped byte: refused, nothing applied, the bad download deleted.
    const fresh = await desktop(server, branch, "01936f3c-0000-7000-8000-0000000000e2", "owner", 11);
    open.push(fresh);
    const flipping: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input).endsWith("/data")) return response;
      const bytes = new Uint8Array(await response.arrayBuffer());
      bytes[Math.floor(bytes.length / 3)]! ^= 0x01;
      return new Response(bytes, { status: response.status, headers: response.headers });
    };
    const freshFile = `${fresh.store.path}.test-download`;
    await expect(bootstrap(fresh.store, { fetch: flipping, downloadPath: freshFile })).rejects.toThrow(/the snapshot is corrupt: expected sha256 [0-9a-f]{64}/);
    expect(existsSync(freshFile)).toBe(false);
    expect(fresh.store.cursor()).toBe(0);
    expect([...fresh.store.baseEntities()]).toEqual([]);

    // 3. A manifest for another branch, and one of a newer format.
    const lying = (patch: Partial<SnapshotManifest>): typeof fetch => async (input, init) => {
      const response = await fetch(input, init);
      if (!new URL(String(input)).pathname.endsWith("/latest")) return response;
      // The device asks for the chain (`latest?chain=1`, snapshot format 3): every link is patched.
      const body = (await response.json()) as { chain: SnapshotManifest[] };
      return Response.json({ chain: body.chain.map((m) => ({ ...m, ...patch })) });
    };
    await expect(bootstrap(fresh.store, { fetch: lying({ branch_id: "kandy-hill" as SnapshotManifest["branch_id"] }) })).rejects.toThrow(
      `the snapshot is for branch kandy-hill, but this device belongs to branch ${branch}`,
    );
    await expect(bootstrap(fresh.store, { fetch: lying({ format_version: 4 }) })).rejects.toThrow(/format 4, newer than this app understands \(3\): update the app/);
    await expect(bootstrap(fresh.store, {})).resolves.toMatchObject({ seq: manifest.seq });
  }, 180_000);

  it("a device with unsynced work that bootstraps keeps its pending events and sends them after", async () => {
    const branch = `boot-pending-${Date.now().toString(36)}`;
    const { client } = await seedBranch(branch, 500);
    client.close();
    await requestSnapshot(branch);
    const device = await desktop(server, branch, N, "owner", 12);
    open.push(device);
    const sale = device.store.posSale({ currency: "LKR", lines: [{ sku: null, description: "Prints", quantity: 1, unit_price_minor: 700 }], method: "card" });
    const project = device.store.createProject({ ...ex.project, title: "Written before the bootstrap" });
    if (!sale.ok || !project.ok) throw new Error("write refused");
    device.start();
    await device.engine.untilDrained(60_000);
    expect(device.store.snapshotSeq()).not.toBeNull();
    expect(device.store.queueCounts()).toMatchObject({ confirmed: 2, pending: 0, sent: 0 });
    expect(device.store.get(sale.value.event.entity_id)).toMatchObject({ status: "synced", official_receipt_no: expect.any(Number) });
    const truth = await serverTruth(server, branch);
    expect([...device.store.baseEntities()]).toEqual(truth.entities);
    expect(device.store.ledger()).toEqual(truth.ledger);
  }, 120_000);
});
