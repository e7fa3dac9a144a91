/** Snapshot export from the real Durable Object into R2 (miniflare's local R2), and serving it. */
import { env, runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MAX_CHAIN_INCREMENTS } from "../../durable/core/snapshot-schedule.js";
import { exportSnapshot } from "../../durable/snapshots/export.js";
import { SnapshotChain, SnapshotLine, SnapshotManifest } from "../../protocol/index.js";
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

  it("a snapshot smaller than a part goes up as one part of its own size, and reads back whole", async () => {
    const branch = `snap-parts-${Date.now().toString(36)}`;
    const f = makeEventFactory(34);
    const client = await connect(branch, A, "manager");
    client.send(push(Array.from({ length: 120 }, (_, i) => f.sale(A, undefined, `P-${i}`, 1_000 + i))));
    await client.next("verdicts");
    const stub = env.BRANCH.get(env.BRANCH.idFromName(branch));
    // The real bucket, with the size of every part it is sent recorded on the way. (Local R2 refuses
    // parts under 5 MiB but the last, so cutting into several parts is proven in test/node/branch/parts.test.ts.)
    const sizes: number[] = [];
    const own = <T extends object>(target: T, key: string | symbol): unknown => {
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    };
    const bucket = new Proxy(env.SNAPSHOTS, {
      get(target, key) {
        if (key !== "createMultipartUpload") return own(target, key);
        return async (...args: Parameters<R2Bucket["createMultipartUpload"]>) => {
          const upload = await target.createMultipartUpload(...args);
          return new Proxy(upload, {
            get(u, k) {
              if (k !== "uploadPart") return own(u, k);
              return (n: number, bytes: Uint8Array) => (sizes.push(bytes.byteLength), u.uploadPart(n, bytes));
            },
          });
        };
      },
    });
    const manifest = await runInDurableObject(stub, (instance) => exportSnapshot(instance.core, bucket));
    expect(sizes).toEqual([manifest.byte_size]);
    const auth = { Authorization: `Bearer ${await tokenFor(branch, A, "manager")}` };
    const data = await (await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/snapshots/${manifest.seq}/data`, { headers: auth })).arrayBuffer();
    expect(data.byteLength).toBe(manifest.byte_size);
    expect(await sha256Hex(data)).toBe(manifest.sha256);
    const read = await lines(data);
    expect(read.filter((l) => l.kind === "entity")).toHaveLength(120);
    expect(read.at(-1)).toEqual({ kind: "end", entities: 120, pos_orders: 120, pos_voids: 0 });
    client.close();
  });

  it("is exported by the alarm once 10,000 commits have accumulated, and the exports after it are increments of its chain", async () => {
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
    expect(audit.entries.find((e) => e.kind === "snapshot_export")?.message).toMatch(/snapshot at seq 10000 \(alarm\): base/);

    for (let i = 0; i < 3; i++) {
      client.send(push([f.sale(A)]));
      await client.next("verdicts", { skip: true });
      expect((await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/snapshots`, { method: "POST", headers: auth })).status).toBe(201);
    }
    const listed = await env.SNAPSHOTS.list({ prefix: `branches/${branch}/snapshots/` });
    const seqsOf = (suffix: string) => listed.objects.filter((o) => o.key.endsWith(suffix)).map((o) => Number(o.key.split("/").at(-1)!.split(".")[0]));
    expect(seqsOf(".manifest.json")).toEqual([10_000]);
    expect(seqsOf(".increment.json")).toEqual([10_001, 10_002, 10_003]);
    expect(seqsOf(".ndjson.gz")).toEqual([10_000, 10_001, 10_002, 10_003]);
    client.close();
  }, 60_000);
});

describe("incremental snapshots (format 3)", () => {
  const auth = async (branch: string) => ({ Authorization: `Bearer ${await tokenFor(branch, A, "manager")}` });
  const exportNow = async (branch: string) => {
    const response = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/snapshots`, { method: "POST", headers: await auth(branch) });
    expect(response.status).toBe(201);
    return SnapshotManifest.parse(await response.json());
  };
  const chainOf = async (branch: string) => {
    const response = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/snapshots/latest?chain=1`, { headers: await auth(branch) });
    expect(response.status).toBe(200);
    return SnapshotChain.parse(await response.json()).chain;
  };
  const dataOf = async (branch: string, seq: number) => (await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/snapshots/${seq}/data`, { headers: await auth(branch) })).arrayBuffer();

  it("an increment holds exactly the entities, POS facts and voids committed since the previous snapshot, chained to it by its checksum", async () => {
    const branch = `snap-inc-${Date.now().toString(36)}`;
    const f = makeEventFactory(34);
    const client = await connect(branch, A, "manager");
    const projects = Array.from({ length: 40 }, (_, i) => f.createProject(A, undefined, `Shoot ${i}`));
    const sales = Array.from({ length: 40 }, (_, i) => f.sale(A, undefined, `A-${i}`, 1_000 + i));
    client.send(push([...projects, ...sales]));
    await client.next("verdicts", { skip: true });
    const chainBefore = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/snapshots/latest?chain=1`, { headers: await auth(branch) });
    expect(chainBefore.status).toBe(404);

    const base = await exportNow(branch);
    // A base is format 2, field for field: a device that reads format 2 only still bootstraps from it.
    expect(base).toMatchObject({ format_version: 2, seq: 80 });
    expect(Object.keys(base)).not.toContain("base_seq");

    const newProject = f.createProject(A, undefined, "After the base");
    const newSale = f.sale(A, undefined, "B-1", 500);
    client.send(
      push([
        f.updateProject(A, projects[0]!.entity_id, { notes: "first" }, { base: 1 }),
        f.updateProject(A, projects[0]!.entity_id, { notes: "second" }, { base: 2 }),
        f.deleteProject(A, projects[1]!.entity_id, { base: 1 }),
        f.voidOrder(A, sales[0]!.entity_id, { base: 1 }),
        newProject,
        newSale,
      ]),
    );
    const { verdicts } = await client.next("verdicts", { skip: true });
    expect(verdicts.map((v) => v.status)).toEqual(Array(6).fill("confirmed"));

    const increment = await exportNow(branch);
    expect(increment).toMatchObject({
      format_version: 3,
      seq: 86,
      base_seq: 80,
      base_sha256: base.sha256,
      chain_seq: 80,
      counts: { project: 2, invoice: 0, pos_order: 2, tombstones: 1, pos_facts: 1, pos_voids: 1 },
    });
    const bytes = await dataOf(branch, 86);
    expect(bytes.byteLength).toBe(increment.byte_size);
    expect(await sha256Hex(bytes)).toBe(increment.sha256);
    const parsed = await lines(bytes);
    expect(parsed[0]).toEqual({ kind: "header", format_version: 3, branch_id: branch, seq: 86, base_seq: 80 });
    const entities = parsed.flatMap((l) => (l.kind === "entity" ? [l.entity] : []));
    expect(entities.map((e) => e.entity_id).sort()).toEqual([projects[0]!, projects[1]!, sales[0]!, newProject, newSale].map((e) => e.entity_id).sort());
    expect(entities.find((e) => e.entity_id === projects[0]!.entity_id)).toMatchObject({ version: 3, data: { notes: "second" } });
    expect(entities.find((e) => e.entity_id === projects[1]!.entity_id)).toMatchObject({ deleted: true });
    expect(parsed.flatMap((l) => (l.kind === "pos_order" ? [l.pos.entity_id] : []))).toEqual([newSale.entity_id]);
    expect(parsed.flatMap((l) => (l.kind === "pos_void" ? [l.entity_id] : []))).toEqual([sales[0]!.entity_id]);
    expect(parsed.at(-1)).toEqual({ kind: "end", entities: 5, pos_orders: 1, pos_voids: 1 });

    // Old readers are only ever handed the base; the chain is one request.
    expect(await (await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/snapshots/latest`, { headers: await auth(branch) })).json()).toEqual(base);
    expect(await chainOf(branch)).toEqual([base, increment]);

    // Nothing committed since: the export answers the newest snapshot and writes nothing.
    const listedBefore = (await env.SNAPSHOTS.list({ prefix: `branches/${branch}/snapshots/` })).objects.map((o) => o.key);
    expect(await exportNow(branch)).toEqual(increment);
    expect((await env.SNAPSHOTS.list({ prefix: `branches/${branch}/snapshots/` })).objects.map((o) => o.key)).toEqual(listedBefore);
    const audit = (await (await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/audit?limit=100`, { headers: await auth(branch) })).json()) as { entries: Array<{ kind: string; message: string }> };
    expect(audit.entries.filter((e) => e.kind === "snapshot_export").map((e) => e.message)).toContainEqual(expect.stringMatching(/^snapshot at seq 86 \(request\): increment after seq 80, /));
    client.close();
  });

  it(`starts a new base after ${MAX_CHAIN_INCREMENTS} increments, and retention deletes only whole chains`, async () => {
    const branch = `snap-chain-${Date.now().toString(36)}`;
    const f = makeEventFactory(35);
    const client = await connect(branch, A, "manager");
    for (let batch = 0; batch < 2; batch++) {
      client.send(push(Array.from({ length: 200 }, (_, i) => f.sale(A, undefined, `A-${batch}-${i}`, 100 + i))));
      await client.next("verdicts", { skip: true });
    }
    const oneMore = async () => {
      client.send(push([f.sale(A)]));
      await client.next("verdicts", { skip: true });
      return exportNow(branch);
    };
    const keys = async () => (await env.SNAPSHOTS.list({ prefix: `branches/${branch}/snapshots/` })).objects.map((o) => o.key.split("/").at(-1)!);

    const base1 = await exportNow(branch);
    const chain1 = [base1];
    for (let i = 0; i < MAX_CHAIN_INCREMENTS; i++) chain1.push(await oneMore());
    chain1.slice(1).forEach((m, i) => expect(m).toMatchObject({ base_seq: chain1[i]!.seq, base_sha256: chain1[i]!.sha256, chain_seq: base1.seq }));
    expect(await chainOf(branch)).toEqual(chain1);

    const base2 = await oneMore();
    expect(base2.base_seq).toBeUndefined();
    expect(await chainOf(branch)).toEqual([base2]);
    // Two chains are kept: nothing deleted yet.
    expect(await keys()).toHaveLength(2 * (MAX_CHAIN_INCREMENTS + 2));

    const chain2 = [base2];
    for (let i = 0; i < MAX_CHAIN_INCREMENTS; i++) chain2.push(await oneMore());
    const base3 = await oneMore();
    expect(base3.base_seq).toBeUndefined();
    // The first chain went whole; the second is whole still, and so is the third (its base).
    const kept = await keys();
    expect(kept.map((k) => Number(k.split(".")[0])).every((seq) => seq >= base2.seq)).toBe(true);
    expect(kept.filter((k) => k.endsWith(".manifest.json")).map((k) => Number(k.split(".")[0]))).toEqual([base2.seq, base3.seq]);
    expect(kept.filter((k) => k.endsWith(".increment.json")).map((k) => Number(k.split(".")[0]))).toEqual(chain2.slice(1).map((m) => m.seq));
    expect(kept.filter((k) => k.endsWith(".ndjson.gz"))).toHaveLength(MAX_CHAIN_INCREMENTS + 2);
    const old = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/snapshots/${chain1[3]!.seq}/data`, { headers: await auth(branch) });
    expect(old.status).toBe(404);
    client.close();
  }, 60_000);
});
