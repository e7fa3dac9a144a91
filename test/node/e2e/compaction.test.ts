/**
 * Compaction end to end (issue 18): the real Worker + branch Durable Object + R2 under workerd, with
 * compaction set to keep nothing past the newest base snapshot, and real desktops. A device offline
 * past a compaction, holding queued events (one of them already committed, its verdict lost),
 * reconnects, is told its cursor is below `compacted_through`, bootstraps again keeping its queue,
 * and ends with every event confirmed exactly once and its store equal to the server's. A v8 desktop
 * in the same place is told to update and keeps its queue.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspectStore } from "../../../desktop/store/inspect.js";
import { SyncEngine } from "../../../desktop/sync/engine.js";
import { type SyncEvent } from "../../../domain/index.js";
import { PROTOCOL_VERSION, SnapshotManifest, type Verdict } from "../../../protocol/index.js";
import * as ex from "../../fixtures/examples.js";
import { makeEventFactory } from "../../support/events.js";
import { type Desktop, desktop, serverTruth, waitUntil } from "../../support/e2e.js";
import { type LocalServer, NodeClient, startServer, tokenFor } from "../../support/server.js";

const OWNER = "01936f3c-0000-7000-8000-0000000000a1";
const DEVICE = "01936f3c-0000-7000-8000-0000000000d1";
const OLD = "01936f3c-0000-7000-8000-0000000000d8";
const READER = "01936f3c-0000-7000-8000-0000000000ff";

let server: LocalServer;
const open: Desktop[] = [];

/** The real Worker under workerd (test/support/server.ts), with compaction keeping nothing past the newest base snapshot. */
const startCompactingServer = (): Promise<LocalServer> =>
  startServer(undefined, 0, undefined, { COMPACTION_RETAIN_COMMITS: "0", COMPACTION_RETAIN_MS: "0", COMPACTION_MIN_STEP_COMMITS: "1" });

beforeAll(async () => {
  server = await startCompactingServer();
}, 60_000);
afterAll(async () => {
  open.forEach((d) => d.close());
  await server?.stop();
});

const headers = async (branch: string) => ({ Authorization: `Bearer ${await tokenFor(branch, READER, "owner")}` });

/** A snapshot now (at the head), and the compaction its alarm runs after it: waits until pulls from `below` are refused. */
async function snapshotAndCompact(branch: string, below: number): Promise<SnapshotManifest> {
  const response = await fetch(new URL(`/v1/branches/${branch}/snapshots`, server.url), { method: "POST", headers: { Authorization: `Bearer ${await tokenFor(branch, OWNER, "owner")}` } });
  expect(response.status).toBe(201);
  const manifest = SnapshotManifest.parse(await response.json());
  let status = 0;
  for (let i = 0; i < 100 && status !== 410; i++) {
    status = (await fetch(new URL(`/v1/branches/${branch}/changes?since=${below}`, server.url), { headers: await headers(branch) })).status;
    if (status !== 410) await new Promise((r) => setTimeout(r, 100));
  }
  expect(status).toBe(410);
  return manifest;
}

async function httpPush(branch: string, device: string, events: SyncEvent[]): Promise<Verdict[]> {
  const response = await fetch(new URL(`/v1/branches/${branch}/push?protocol_version=${PROTOCOL_VERSION}`, server.url), {
    method: "POST",
    headers: { Authorization: `Bearer ${await tokenFor(branch, device, "manager")}`, "Content-Type": "application/json" },
    body: JSON.stringify({ type: "push", batch_id: crypto.randomUUID().replace(/^(.{14})./, "$17"), events }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { verdicts: Verdict[] }).verdicts;
}

describe("a device offline past a compaction", () => {
  it("bootstraps again keeping its queue, re-sends it, and every event is confirmed exactly once; its store equals the server's", async () => {
    const branch = `compact-${Date.now().toString(36)}`;
    const f = makeEventFactory(18);
    const owner = await NodeClient.open(server, branch, OWNER, "owner");
    const projects = Array.from({ length: 40 }, (_, i) => f.createProject(OWNER, undefined, `Shoot ${i}`));
    await owner.pushAll(projects.length, (i) => projects[i]!, () => crypto.randomUUID().replace(/^(.{14})./, "$17"));

    // The device syncs once, then goes offline.
    const device = await desktop(server, branch, DEVICE, "manager", 3);
    open.push(device);
    device.start();
    await device.engine.untilDrained(60_000);
    const cursorBefore = device.store.cursor();
    device.engine.setOnline(false);
    await waitUntil("the device is offline", () => device.engine.status().kind === "offline");

    // Offline work: a new project, an edit, a sale.
    const created = device.store.createProject({ ...ex.project, title: "Written offline" });
    const edited = device.store.updateProject(projects[0]!.entity_id, { notes: "edited offline" });
    const sale = device.store.posSale({ currency: "LKR", lines: [{ sku: null, description: "Prints", quantity: 1, unit_price_minor: 900 }], method: "card" });
    if (!created.ok || !edited.ok || !sale.ok) throw new Error("an offline write was refused");
    // The first one went out once and was committed, but its verdict never came back (the link dropped).
    const lost = device.store.nextBatch(1);
    expect(lost?.events.map((e) => e.id)).toEqual([created.value.event.id]);
    const [lostVerdict] = await httpPush(branch, DEVICE, lost!.events);
    expect(lostVerdict).toMatchObject({ status: "confirmed" });

    // Meanwhile the branch moves on, is snapshotted and compacted past the device's cursor.
    const edits = projects.slice(1, 30).map((p) => f.updateProject(OWNER, p.entity_id, { notes: "moved on" }, { base: 1 }));
    await owner.pushAll(edits.length, (i) => edits[i]!, () => crypto.randomUUID().replace(/^(.{14})./, "$17"));
    const manifest = await snapshotAndCompact(branch, cursorBefore);
    expect(manifest.seq).toBeGreaterThan(cursorBefore);
    // And after the snapshot: the device pulls these after bootstrapping again.
    const after = [f.updateProject(OWNER, projects[35]!.entity_id, { title: "after the snapshot" }, { base: 1 })];
    await owner.pushAll(after.length, (i) => after[i]!, () => crypto.randomUUID().replace(/^(.{14})./, "$17"));
    owner.close();
    const headBefore = manifest.seq + 1;

    device.engine.setOnline(true);
    await device.engine.untilDrained(60_000);

    // Every queued event confirmed; the one committed before got its first verdict again, no second commit.
    expect(device.store.queueCounts()).toMatchObject({ pending: 0, sent: 0, confirmed: 3, rejected: 0 });
    expect(device.store.get(created.value.event.entity_id)).toMatchObject({ status: "synced" });
    expect(device.store.base(created.value.event.entity_id)).toMatchObject({ version: 1 });
    expect(device.store.get(sale.value.event.entity_id)).toMatchObject({ status: "synced", official_receipt_no: expect.any(Number) });
    const truth = await serverTruth(server, branch);
    expect(truth.head).toBe(headBefore + 2); // the edit and the sale; the lost one was not committed again
    expect(device.store.cursor()).toBe(headBefore + 2);
    expect(device.store.snapshotSeq()).toBe(manifest.seq);
    expect([...device.store.baseEntities()]).toEqual(truth.entities);
    expect(device.store.ledger()).toEqual(truth.ledger);
    const audited = inspectStore(device.store.path, (i) => i.audit({ kind: "rebootstrap" }));
    expect(audited.map((r) => r.detail)).toEqual([expect.stringContaining(`bootstrapped again at seq ${manifest.seq}`)]);
  }, 180_000);

  it("a v8 desktop below the point is told to update the app, and keeps its queue", async () => {
    const branch = `compact-old-${Date.now().toString(36)}`;
    const f = makeEventFactory(19);
    const owner = await NodeClient.open(server, branch, OWNER, "owner");
    const projects = Array.from({ length: 10 }, () => f.createProject(OWNER));
    await owner.pushAll(projects.length, (i) => projects[i]!, () => crypto.randomUUID().replace(/^(.{14})./, "$17"));
    const old = await desktop(server, branch, OLD, "manager", 4);
    open.push(old);
    old.engine.stop();
    const engine = new SyncEngine({ store: old.store, protocolVersion: 8, random: () => 0.5 });
    engine.start();
    await engine.untilDrained(60_000);
    const cursor = old.store.cursor();
    engine.setOnline(false);
    const edited = old.store.updateProject(projects[0]!.entity_id, { notes: "queued on an old app" });
    if (!edited.ok) throw new Error("write refused");
    const edits = projects.slice(1).map((p) => f.updateProject(OWNER, p.entity_id, { notes: "moved on" }, { base: 1 }));
    await owner.pushAll(edits.length, (i) => edits[i]!, () => crypto.randomUUID().replace(/^(.{14})./, "$17"));
    owner.close();
    await snapshotAndCompact(branch, cursor);
    engine.setOnline(true);
    await waitUntil("the old app is told to update", () => engine.status().kind === "update_required");
    engine.stop();
    expect(old.store.queueCounts()).toMatchObject({ pending: 1 });
    expect(old.store.cursor()).toBe(cursor);
  }, 120_000);
});
