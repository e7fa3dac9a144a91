/**
 * Bootstrap from a snapshot chain (issue 18, snapshot format 3): a base plus its increments, made by
 * the branch core's own snapshot source (real SQLite on both sides) and served by a fake HTTP server,
 * applied by the desktop's real bootstrap. The R2 export and the HTTP routes are tested in workerd
 * (test/workers/snapshots.test.ts); here: the chain's content and its application.
 */
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import type { Entity, SyncEvent } from "../../../domain/index.js";
import { bootstrap } from "../../../desktop/sync/bootstrap.js";
import type { LocalStore } from "../../../desktop/store/local-store.js";
import type { SnapshotCounts } from "../../../durable/core/snapshot-source.js";
import { type SnapshotManifest, snapshotKey } from "../../../protocol/index.js";
import * as ex from "../../fixtures/examples.js";
import { actor, makeCore } from "../../support/branch.js";
import { openStore, syncDirect } from "../../support/desktop.js";
import { makeEventFactory } from "../../support/events.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const N = "01936f3c-0000-7000-8000-0000000000e1";
const BRANCH = "test-branch";
type Core = ReturnType<typeof makeCore>["core"];

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function newDevice(seed: number): Promise<LocalStore> {
  const { store } = await openStore({ branch: BRANCH, device: N, role: "owner", seed });
  dirs.push(path.dirname(store.path));
  return store;
}

interface Stored {
  manifest: SnapshotManifest;
  data: Uint8Array;
}

/** What durable/snapshots/export.ts writes to R2, made in memory: a base, or an increment after `previous`. */
function exportAt(core: Core, chain: Stored[], asBase: boolean): Stored {
  const seq = core.head();
  const previous = chain.at(-1);
  const counts: SnapshotCounts = { project: 0, invoice: 0, pos_order: 0, tombstones: 0, pos_facts: 0, pos_voids: 0 };
  const text = [...core.snapshotLines(seq, counts, asBase || !previous ? null : previous.manifest.seq)].join("");
  const data = gzipSync(text);
  const manifest: SnapshotManifest = {
    format_version: asBase || !previous ? 2 : 3,
    branch_id: BRANCH as SnapshotManifest["branch_id"],
    seq,
    created_at: "2026-11-25T04:00:00.000Z",
    key: snapshotKey(BRANCH, seq, "data"),
    counts,
    byte_size: data.byteLength,
    sha256: createHash("sha256").update(data).digest("hex") as SnapshotManifest["sha256"],
    uncompressed_bytes: Buffer.byteLength(text),
    ...(asBase || !previous ? {} : { base_seq: previous.manifest.seq, base_sha256: previous.manifest.sha256, chain_seq: chain[0]!.manifest.seq }),
  };
  return { manifest, data };
}

/** A server answering `latest?chain=1` with `chain` (as `manifests` says, when given) and each link's data. */
function serving(chain: Stored[], manifests: unknown[] = chain.map((s) => s.manifest), data = (s: Stored) => s.data): typeof fetch {
  return async (input) => {
    const url = new URL(String(input));
    if (url.pathname.endsWith("/latest")) return Response.json(url.searchParams.get("chain") === "1" ? { chain: manifests } : chain[0]!.manifest);
    const seq = Number(/\/snapshots\/(\d+)\/data$/.exec(url.pathname)?.[1]);
    const link = chain.find((s) => s.manifest.seq === seq);
    return link ? new Response(new Uint8Array(data(link))) : Response.json({ error: "not_found" }, { status: 404 });
  };
}

const sorted = (entities: Iterable<Entity>) => [...entities].sort((a, b) => a.entity_id.localeCompare(b.entity_id));

function expectEqualToServer(store: LocalStore, core: Core) {
  expect(store.cursor()).toBe(core.head());
  expect(sorted(store.baseEntities())).toEqual(sorted(core.entities()));
  expect(store.ledger()).toEqual(core.ledger(null));
}

function commit(core: Core, events: SyncEvent[]) {
  for (let i = 0; i < events.length; i += 100) {
    const { verdicts } = core.push(actor(A, "owner"), events.slice(i, i + 100) as never);
    const refused = verdicts.find((v) => v.status !== "confirmed");
    if (refused) throw new Error(`refused: ${JSON.stringify(refused).slice(0, 300)}`);
  }
}

/** A small branch, then a base, then two increments that edit, delete, void, correct and create. */
function branchWithChain() {
  const server = makeCore();
  const f = makeEventFactory(91);
  const projects = Array.from({ length: 30 }, (_, i) => f.createProject(A, undefined, `Shoot ${i}`));
  const sales = Array.from({ length: 30 }, (_, i) => f.sale(A, undefined, `R-${i}`, 1_000 + i));
  const invoice = f.event(A, "invoice", f.nextId(), "create", { ...ex.invoice, project_id: null, reference: "INV-1" });
  commit(server.core, [...projects, ...sales, invoice]);
  const chain = [exportAt(server.core, [], true)];
  commit(server.core, [
    f.updateProject(A, projects[0]!.entity_id, { notes: "one" }, { base: 1 }),
    f.deleteProject(A, projects[1]!.entity_id, { base: 1 }),
    f.voidOrder(A, sales[0]!.entity_id, { base: 1 }),
    f.correction(A, sales[1]!.entity_id, undefined, -100),
    f.createProject(A, undefined, "New after the base"),
  ]);
  chain.push(exportAt(server.core, chain, false));
  commit(server.core, [
    f.updateProject(A, projects[0]!.entity_id, { notes: "two" }, { base: 2 }),
    f.updateProject(A, projects[2]!.entity_id, { title: "Renamed" }, { base: 1 }),
    f.voidOrder(A, sales[2]!.entity_id, { base: 1 }),
    f.sale(A, undefined, "R-new", 777),
  ]);
  chain.push(exportAt(server.core, chain, false));
  return { ...server, f, chain, projects, sales };
}

describe("bootstrap from a snapshot chain", () => {
  it("applies the base then each increment in order: the device equals the server field for field, cursor at the last link", async () => {
    const { core, close, chain, f, projects } = branchWithChain();
    expect(chain.map((s) => s.manifest.counts.project + s.manifest.counts.invoice + s.manifest.counts.pos_order + s.manifest.counts.tombstones)).toEqual([61, 5, 4]);
    const store = await newDevice(5);
    const progress: number[] = [];
    const used = await bootstrap(store, { fetch: serving(chain), onProgress: (p) => progress.push(p.bytes) });
    expect(used).toEqual(chain[2]!.manifest);
    expectEqualToServer(store, core);
    expect(store.base(projects[0]!.entity_id)).toMatchObject({ version: 3, data: { notes: "two" } });
    expect(progress.at(-1)).toBe(chain.reduce((sum, s) => sum + s.manifest.byte_size, 0));
    expect(store.snapshotSeq()).toBe(chain[2]!.manifest.seq);

    // Then it pulls forward from the chain's last seq like any device.
    commit(core, [f.updateProject(A, projects[3]!.entity_id, { notes: "after the chain" }, { base: 1 })]);
    syncDirect(store, core);
    expectEqualToServer(store, core);
    store.close();
    close();
  });

  it("reads a server from before chains (one base manifest, no chain=1)", async () => {
    const { core, close, chain } = branchWithChain();
    const store = await newDevice(6);
    const old: typeof fetch = async (input, init) => {
      const url = new URL(String(input));
      url.search = "";
      return serving([chain[0]!])(url, init);
    };
    await bootstrap(store, { fetch: old });
    expect(store.cursor()).toBe(chain[0]!.manifest.seq);
    syncDirect(store, core);
    expectEqualToServer(store, core);
    store.close();
    close();
  });

  it("refuses a broken chain with a clear message and applies nothing", async () => {
    const { close, chain } = branchWithChain();
    const store = await newDevice(7);
    const [base, first, second] = chain as [Stored, Stored, Stored];
    const nothingApplied = () => {
      expect(store.cursor()).toBe(0);
      expect([...store.baseEntities()]).toEqual([]);
      expect(store.snapshotSeq()).toBeNull();
    };
    const attempts: Array<[typeof fetch, RegExp]> = [
      [serving(chain, [base.manifest, second.manifest]), /the snapshot chain is broken: the increment at seq \d+ follows seq \d+, but the link before it is seq \d+ \(a link is missing\)/],
      [serving(chain, [first.manifest, second.manifest]), /the snapshot chain is broken: it starts with the increment at seq \d+/],
      [serving(chain, [base.manifest, { ...first.manifest, base_sha256: "0".repeat(64) }, second.manifest]), /the snapshot chain is broken: the increment at seq \d+ follows a snapshot with sha256 0{64}, but seq \d+ has sha256 [0-9a-f]{64}/],
      [serving(chain, [base.manifest, first.manifest, { ...second.manifest, chain_seq: 1 }]), /the snapshot chain is broken: the increment at seq \d+ belongs to the chain of seq 1/],
      [serving(chain, [base.manifest, first.manifest, { ...second.manifest, format_version: 4 }]), /the snapshot has format 4, newer than this app understands \(3\): update the app/],
      [serving(chain, undefined, (s) => (s === second ? flipped(s.data) : s.data)), /the snapshot is corrupt: expected sha256 [0-9a-f]{64} for seq \d+/],
    ];
    for (const [doFetch, message] of attempts) {
      await expect(bootstrap(store, { fetch: doFetch })).rejects.toThrow(message);
      nothingApplied();
    }

    // A link whose checksum holds but whose data is another link's (the same increment served twice,
    // its POS facts would be added twice): its header names another seq, refused before the swap.
    const again = { ...second.manifest, seq: second.manifest.seq + 1, base_seq: second.manifest.seq, base_sha256: second.manifest.sha256 };
    const overlapping = serving([base, first, second, { manifest: again, data: second.data }]);
    await expect(bootstrap(store, { fetch: overlapping })).rejects.toThrow(/is not valid: the header does not match the manifest/);
    nothingApplied();

    await bootstrap(store, { fetch: serving(chain) });
    expect(store.cursor()).toBe(second.manifest.seq);
    store.close();
    close();
  });

  it("property: random histories with snapshots at random points: bootstrapping from the newest chain equals the server", async () => {
    type Op = { kind: "project" | "edit" | "delete" | "sale" | "void" | "correction" | "invoice" | "base" | "increment"; pick: number };
    const op = fc.record({
      kind: fc.constantFrom<Op["kind"]>("project", "project", "edit", "edit", "delete", "sale", "sale", "void", "correction", "invoice", "base", "increment", "increment"),
      pick: fc.nat(1_000),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
        run++;
        const { core, close } = makeCore();
        const f = makeEventFactory(1_000 + run);
        const live = new Map<string, number>(); // project id → version
        const open: string[] = []; // sales not voided
        const chain: Stored[] = [];
        for (const o of ops) {
          const projectIds = [...live.keys()];
          switch (o.kind) {
            case "project": {
              const e = f.createProject(A);
              commit(core, [e]);
              live.set(e.entity_id, 1);
              break;
            }
            case "edit":
            case "delete": {
              if (projectIds.length === 0) break;
              const id = projectIds[o.pick % projectIds.length]!;
              const base = live.get(id)!;
              commit(core, [o.kind === "edit" ? f.updateProject(A, id, { notes: `edit ${o.pick}` }, { base }) : f.deleteProject(A, id, { base })]);
              if (o.kind === "edit") live.set(id, base + 1);
              else live.delete(id);
              break;
            }
            case "sale": {
              const e = f.sale(A, undefined, `R-${o.pick}`, 100 + o.pick);
              commit(core, [e]);
              open.push(e.entity_id);
              break;
            }
            case "void":
            case "correction": {
              if (open.length === 0) break;
              const [id] = open.splice(o.pick % open.length, 1) as [string];
              commit(core, [o.kind === "void" ? f.voidOrder(A, id, { base: 1 }) : f.correction(A, id, undefined, -50)]);
              break;
            }
            case "invoice":
              commit(core, [f.event(A, "invoice", f.nextId(), "create", { ...ex.invoice, project_id: null, reference: `INV-${o.pick}` })]);
              break;
            case "base":
            case "increment": {
              if (chain.length > 0 && chain.at(-1)!.manifest.seq === core.head()) break; // nothing new (export.ts answers the last one)
              if (o.kind === "base") chain.length = 0;
              chain.push(exportAt(core, chain, o.kind === "base"));
              break;
            }
          }
        }
        // The newest snapshot is at the head (an export at the end), so the chain is the whole truth.
        if (chain.length === 0 || chain.at(-1)!.manifest.seq !== core.head()) chain.push(exportAt(core, chain, chain.length === 0));
        const store = await newDevice(run);
        try {
          await bootstrap(store, { fetch: serving(chain), linesPerSlice: 7 });
          expectEqualToServer(store, core);
        } finally {
          store.close();
          close();
        }
      }),
      { numRuns: 40, seed: 18 },
    );
  }, 120_000);
});

function flipped(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[Math.floor(copy.length / 2)]! ^= 0x01;
  return copy;
}
