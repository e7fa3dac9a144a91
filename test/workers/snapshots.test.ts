/** Snapshot export from the real Durable Object into R2 (miniflare's local R2), and serving it. */
import { env, runDurableObjectAlarm, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SnapshotLine, SnapshotManifest } from "../../protocol/index.js";
import { type SyncEvent } from "../../domain/index.js";
import { sha256Hex } from "../../lib/bytes.js";
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
    const digest = await sha256Hex(bytes);
    expect(digest).toBe(manifest.sha256);
    const parsed = await lines(bytes);
    expect(parsed[0]).toEqual({ kind: "header", format_version: 2, branch_id: branch, seq: 5 });
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

  it("is exported by the alarm once 10,000 commits have accumulated, and only the newest three are kept", async () => {
    const branch = `snap-alarm-${Date.now().toString(36)}`;
    const f = makeEventFactory(33);
    const client = await connect(branch, A, "manager");
    for (let batch = 0; batch < 50; batch++) {
      client.send(push(Array.from({ length: 200 }, (_, i) => f.sale(A, undefined, `A-${batch}-${i}`, 100))));
      await client.next("verdicts", { skip: true, timeoutMs: 30_000 });
    }
    const stub = env.BRANCH.get(env.BRANCH.idFromName(branch));
    const auth = { Authorization: `Bearer ${await tokenFor(branch, A, "manager")}` };
    // The alarm is due at once: miniflare may already have run it; otherwise run it now.
    await runDurableObjectAlarm(stub);
    let latest: Response | null = null;
    for (let i = 0; i < 50 && latest?.status !== 200; i++) {
      latest = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/snapshots/latest`, { headers: auth });
      if (latest.status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(SnapshotManifest.parse(await latest!.json()).seq).toBe(10_000);
    const audit = (await (await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/audit?limit=1000`, { headers: auth })).json()) as { entries: Array<{ kind: string; message: string }> };
    expect(audit.entries.find((e) => e.kind === "snapshot_export")?.message).toMatch(/snapshot at seq 10000 \(alarm\)/);

    for (let i = 0; i < 3; i++) {
      client.send(push([f.sale(A)]));
      await client.next("verdicts", { skip: true });
      expect((await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/snapshots`, { method: "POST", headers: auth })).status).toBe(201);
    }
    const listed = await env.SNAPSHOTS.list({ prefix: `branches/${branch}/snapshots/` });
    const seqs = listed.objects.filter((o) => o.key.endsWith(".manifest.json")).map((o) => Number(o.key.split("/").at(-1)!.split(".")[0]));
    expect(seqs).toEqual([10_001, 10_002, 10_003]);
    expect(listed.objects).toHaveLength(6);
    client.close();
  }, 60_000);
});
