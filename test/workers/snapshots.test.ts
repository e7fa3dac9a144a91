/** Snapshot export from the real Durable Object into R2 (miniflare's local R2), and serving it. */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SnapshotLine, SnapshotManifest, type SyncEvent } from "../../schema/index.js";
import { makeEventFactory } from "../support/events.js";
import { connect, newId, ORIGIN, tokenFor } from "./support.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const push = (events: SyncEvent[]) => ({ type: "push", batch_id: newId(), events });

async function lines(bytes: ArrayBuffer): Promise<SnapshotLine[]> {
  const text = await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
  return text
    .trim()
    .split("\n")
    .map((l) => SnapshotLine.parse(JSON.parse(l)));
}

describe("snapshots", () => {
  it("exports every entity and POS fact at one seq, serves the manifest and the data with ranges", async () => {
    const branch = `snap-${Date.now().toString(36)}`;
    const f = makeEventFactory(31);
    const client = await connect(branch, A, "manager");
    const project = f.createProject(A);
    const sale = f.sale(A, undefined, "A-1", 410_000);
    client.send(push([project, sale, f.voidOrder(A, sale.entity_id, { base: 1 }), f.deleteProject(A, project.entity_id, { base: 1 }), f.sale(A)]));
    await client.next("verdicts");
    const auth = { Authorization: `Bearer ${await tokenFor(branch, A, "manager")}` };

    const none = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/snapshots/latest`, { headers: auth });
    expect(none.status).toBe(404);
    const cashier = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/snapshots`, { method: "POST", headers: { Authorization: `Bearer ${await tokenFor(branch, A, "cashier")}` } });
    expect(cashier.status).toBe(403);

    const created = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/snapshots`, { method: "POST", headers: auth });
    expect(created.status).toBe(201);
    const manifest = SnapshotManifest.parse(await created.json());
    expect(manifest).toMatchObject({ branch_id: branch, seq: 5, counts: { project: 0, tombstones: 1, pos_order: 2, pos_facts: 2, pos_voids: 1 } });
    expect(await (await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/snapshots/latest`, { headers: auth })).json()).toEqual(manifest);

    const whole = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/snapshots/5/data`, { headers: auth });
    expect(whole.status).toBe(200);
    const bytes = await whole.arrayBuffer();
    expect(bytes.byteLength).toBe(manifest.byte_size);
    const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
    expect(digest).toBe(manifest.sha256);
    const parsed = await lines(bytes);
    expect(parsed[0]).toEqual({ kind: "header", format_version: 1, branch_id: branch, seq: 5 });
    expect(parsed.at(-1)).toEqual({ kind: "end", entities: 3, pos_orders: 2, pos_voids: 1 });

    const tail = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/snapshots/5/data`, { headers: { ...auth, Range: "bytes=10-" } });
    expect(tail.status).toBe(206);
    expect(tail.headers.get("Content-Range")).toBe(`bytes 10-${manifest.byte_size - 1}/${manifest.byte_size}`);
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(new Uint8Array(bytes).subarray(10));

    const audit = (await (await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/audit?limit=100`, { headers: auth })).json()) as { entries: Array<{ kind: string }> };
    expect(audit.entries.map((e) => e.kind)).toContain("snapshot_export");
    client.close();
  });

  it("stays consistent at its seq while commits keep landing", async () => {
    const branch = `snap-live-${Date.now().toString(36)}`;
    const f = makeEventFactory(32);
    const client = await connect(branch, A, "manager");
    client.send(push(Array.from({ length: 150 }, (_, i) => f.sale(A, undefined, `A-${i}`, 100 + i))));
    await client.next("verdicts");
    const auth = { Authorization: `Bearer ${await tokenFor(branch, A, "manager")}` };
    const exporting = SELF.fetch(`${ORIGIN}/v1/branches/${branch}/snapshots`, { method: "POST", headers: auth });
    client.send(push(Array.from({ length: 50 }, (_, i) => f.sale(A, undefined, `B-${i}`, 100 + i))));
    const manifest = SnapshotManifest.parse(await (await exporting).json());
    await client.next("verdicts", { skip: true });
    const data = await (await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/snapshots/${manifest.seq}/data`, { headers: auth })).arrayBuffer();
    const entities = (await lines(data)).filter((l) => l.kind === "entity");
    expect(entities).toHaveLength(manifest.seq);
    expect(manifest.counts.pos_order).toBe(manifest.seq);
    client.close();
  });
});
