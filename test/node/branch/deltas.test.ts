/**
 * Deltas on the way down (protocol v9) in the branch: which commits keep a delta, who is sent one
 * (live and pulled), and that every delta rebuilds exactly the entity the log holds.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Entity } from "../../../domain/index.js";
import { type Change, Changes, DeltaChange, isWholeChange, Live, PROTOCOL_VERSION, type ServerMessage, type WireChange } from "../../../protocol/index.js";
import { applyDelta, entityDelta, entityHash } from "../../../protocol/delta.js";
import { MAX_DELTA_CHARS } from "../../../durable/core/commit.js";
import { readEntity, readEntityVersion } from "../../../durable/core/entity-store.js";
import { DEVICES } from "../../support/branch.js";
import { makeEventFactory } from "../../support/events.js";
import { makeRoom, type MemoryPeer } from "../../support/memory-room.js";

const { A, B, C } = DEVICES;
let r: ReturnType<typeof makeRoom>;
let f: ReturnType<typeof makeEventFactory>;
beforeEach(() => {
  r = makeRoom();
  f = makeEventFactory(18);
});
afterEach(() => r.close());

const hello = (device: string, extra: Record<string, unknown> = {}, protocol_version: number = PROTOCOL_VERSION) => ({
  type: "hello",
  protocol_version,
  device_id: device,
  cursor: 0,
  app: "test/1",
  install_id: `0193a000-0000-7000-8000-${device.slice(-12)}`,
  clock_ms: r.core.nowMs(),
  ...extra,
});
async function open(device: string, extra: Record<string, unknown> = {}, version?: number): Promise<MemoryPeer> {
  const peer = r.connect(device, "owner");
  await peer.deliver(hello(device, extra, version));
  expect((await peer.received()).map((m) => m.type)).toEqual(["welcome"]);
  return peer;
}
const of = async <T extends ServerMessage["type"]>(peer: MemoryPeer, type: T) => (await peer.received()).filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);

/** A project, then three edits of it by A: a title, a package, a note on one photo. */
async function editedProject(a: MemoryPeer) {
  const create = f.createProject(A);
  const edits = [
    f.updateProject(A, create.entity_id, { title: "Perera reception" }, { base: 1 }),
    f.updateProject(A, create.entity_id, { package: null }, { base: 2 }),
    f.updateProject(A, create.entity_id, { media_selection: { upsert: [{ sha256: "0".repeat(63) + "1", file_name: "IMG_0001.CR3", size_bytes: 31_457_280, note: "retouch" }], remove: [] } }, { base: 3 }),
  ];
  await a.deliver({ type: "push", batch_id: f.nextId(), events: [create, ...edits] });
  return { id: create.entity_id };
}

describe("deltas kept with the log", () => {
  it("an update keeps a delta that rebuilds its version from the one before; a create and a delete keep none", async () => {
    const a = await open(A);
    const { id } = await editedProject(a);
    await a.deliver({ type: "push", batch_id: f.nextId(), events: [f.deleteProject(A, id, { base: 4 })] });
    const rows = r.sql.all<{ seq: number; operation: string; version: number; delta: string | null }>("SELECT seq, operation, version, delta FROM changes ORDER BY seq");
    expect(rows.map((row) => [row.operation, row.delta === null])).toEqual([["create", true], ["update", false], ["update", false], ["update", false], ["delete", true]]);
    for (const row of rows.filter((x) => x.delta !== null)) {
      const before = readEntityVersion(r.sql, id, row.version - 1)!;
      const after = readEntityVersion(r.sql, id, row.version)!;
      const applied = applyDelta(before, JSON.parse(row.delta!));
      expect(applied.ok && Entity.parse(applied.value)).toEqual(after);
      expect(JSON.parse(row.delta!).sha256).toBe(entityHash(after));
      expect(row.delta!.length).toBeLessThan(JSON.stringify(after).length);
    }
  });

  it("a delta longer than MAX_DELTA_CHARS is not kept (the batch's log rows are one SQLite value, 2 MB in a Durable Object): the change goes whole", async () => {
    const a = await open(A);
    const photo = (n: number) => ({ sha256: n.toString(16).padStart(64, "0"), file_name: `IMG_${n}.CR3`, size_bytes: n, note: null });
    const create = f.createProject(A);
    const big = { ...create, payload: { ...(create.payload as object), media_selection: { items: Array.from({ length: 2_500 }, (_, i) => photo(i + 1)) } } };
    // Every photo replaced but the first: no change set says it shorter than the new selection itself.
    const replaced = f.updateProject(A, create.entity_id, { media_selection: { items: [photo(1), ...Array.from({ length: 2_499 }, (_, i) => photo(10_000 + i))] } }, { base: 1 });
    await a.deliver({ type: "push", batch_id: f.nextId(), events: [big] });
    await a.deliver({ type: "push", batch_id: f.nextId(), events: [replaced] });
    const row = r.sql.one<{ delta: string | null; version: number }>("SELECT delta, version FROM changes WHERE seq = 2")!;
    expect(row.version).toBe(2);
    expect(row.delta).toBeNull();
    const delta = entityDelta(readEntityVersion(r.sql, create.entity_id, 1), readEntityVersion(r.sql, create.entity_id, 2)!)!;
    expect(JSON.stringify(delta).length).toBeGreaterThan(MAX_DELTA_CHARS);
    expect(JSON.stringify(delta).length).toBeLessThan(JSON.stringify(readEntityVersion(r.sql, create.entity_id, 2)).length);
  });
});

describe("who is sent deltas", () => {
  it("live: a device whose hello said deltas gets another's edits as deltas; one that did not, and a v8 device, get them whole", async () => {
    const a = await open(A, { deltas: true });
    const b = await open(B, { deltas: true });
    const c = await open(C);
    const old = r.connect("01936f3c-0000-7000-8000-0000000000d4", "owner");
    await old.deliver(hello("01936f3c-0000-7000-8000-0000000000d4", { deltas: true }, 8));
    await old.received();
    await editedProject(a);
    const toB = (await of(b, "live")).flatMap((m) => m.changes);
    expect(toB.map((ch) => (isWholeChange(ch) ? "whole" : "delta"))).toEqual(["whole", "delta", "delta", "delta"]);
    for (const m of await of(b, "live")) expect(Live.safeParse(m).success).toBe(true);
    // Its own commits come back to the pusher whole; a connection that asked nothing, and v8, get everything whole.
    for (const peer of [a, c, old]) expect((await of(peer, "live")).flatMap((m) => m.changes).every(isWholeChange)).toBe(true);
    const delta = toB[3] as DeltaChange;
    expect(DeltaChange.safeParse(delta).success).toBe(true);
    expect(delta.delta).toMatchObject({ base_version: 3, version: 4, media_selection: { upsert: [{ note: "retouch" }], remove: [] } });
    expect(delta.delta.data).toBeUndefined();
  });

  it("pull: deltas for a device that asked, except its own commits and when it asks `full`; the text is the message's own serialization", async () => {
    const a = await open(A, { deltas: true });
    await editedProject(a);
    await a.received();
    const b = await open(B, { deltas: true });
    const pull = async (peer: MemoryPeer, full?: boolean) => {
      await peer.deliver({ type: "pull", request_id: crypto.randomUUID(), since: 0, limit: 100, ...(full === undefined ? {} : { full }) });
      const [page] = await of(peer, "changes");
      expect(Changes.safeParse(page).success).toBe(true);
      return page!.changes.map((ch: WireChange) => (isWholeChange(ch) ? "whole" : "delta"));
    };
    expect(await pull(b)).toEqual(["whole", "delta", "delta", "delta"]);
    expect(await pull(b, true)).toEqual(["whole", "whole", "whole", "whole"]);
    expect(await pull(a)).toEqual(["whole", "whole", "whole", "whole"]);
    // Whole or delta, each rebuilds to the same entity.
    await b.deliver({ type: "pull", request_id: crypto.randomUUID(), since: 0, limit: 100 });
    const [page] = await of(b, "changes");
    let held: Entity | null = null;
    for (const ch of page!.changes) {
      if (isWholeChange(ch)) held = (ch as Change).entity;
      else {
        const applied = applyDelta(held!, ch.delta);
        held = Entity.parse(applied.ok ? applied.value : null);
        expect(entityHash(held)).toBe(ch.delta.sha256);
      }
    }
    expect(held).toEqual(readEntity(r.sql, page!.changes[0]!.entity_id));
  });
});
