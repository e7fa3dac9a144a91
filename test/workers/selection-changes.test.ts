/**
 * A project update whose media selection is a change set (protocol v8), pushed to the real branch
 * Durable Object: the branch applies it to its version; a device that asked for deltas (v9) gets the
 * commit as one, the others the whole entity; a change set built on another selection is refused as
 * invalid_payload in words.
 */
import { describe, expect, it } from "vitest";
import { type Change, splitIntoChunks } from "../../protocol/index.js";
import type { TransferId } from "../../domain/index.js";
import { makeEventFactory } from "../support/events.js";
import { connect, newId, pullAll, whole } from "./support.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const B = "01936f3c-0000-7000-8000-0000000000b2";
const C = "01936f3c-0000-7000-8000-0000000000c3";
const sha = (n: number) => n.toString(16).padStart(64, "0");
const photo = (n: number, note: string | null = null) => ({ sha256: sha(n), file_name: `IMG_${n}.CR3`, size_bytes: n, note });

describe("media selection change sets in the Durable Object", () => {
  it("applies one item to a 1,000-photo selection; the other device is sent the whole project; a removal of a photo not selected is refused", async () => {
    const branch = `selection-${Date.now().toString(36)}`;
    const f = makeEventFactory(41);
    const a = await connect(branch, A, "owner");
    const b = await connect(branch, B, "staff");
    const items = Array.from({ length: 1_000 }, (_, i) => photo(i + 1));
    const base = f.createProject(A);
    const create = { ...base, payload: { ...(base.payload as object), media_selection: { items } } };
    const push = async (events: unknown[]) => {
      a.send({ type: "push", batch_id: newId(), events });
      return (await a.next("verdicts", { skip: true })).verdicts;
    };
    expect(await push([create])).toMatchObject([{ status: "confirmed", version: 1 }]);
    const edit = f.updateProject(A, create.entity_id, { media_selection: { upsert: [photo(500, "retouch"), photo(1_001)], remove: [sha(2)] } }, { base: 1 });
    expect(JSON.stringify(edit).length).toBeLessThan(1_000);
    expect(await push([edit])).toMatchObject([{ status: "confirmed", version: 2 }]);
    const wanted = [...items.filter((p) => p.sha256 !== sha(2)).map((p) => (p.sha256 === sha(500) ? photo(500, "retouch") : p)), photo(1_001)];
    // B, live and not asking for deltas, gets the commit with the whole entity.
    let change: Change | undefined;
    while (!change) change = (await b.next("live", { skip: true })).changes.map(whole).find((c) => c.event_id === edit.id);
    expect(change).toMatchObject({ changed_fields: ["media_selection"], entity: { version: 2, data: { media_selection: { items: wanted } } } });
    const { changes } = await pullAll(b);
    expect(changes.at(-1)).toMatchObject({ event_id: edit.id, entity: { data: { media_selection: { items: wanted } } } });
    // Built on another selection: photo 2 is gone already.
    const stale = f.updateProject(A, create.entity_id, { media_selection: { upsert: [], remove: [sha(2)] } }, { base: 2 });
    expect(await push([stale])).toMatchObject([
      { status: "rejected", code: "invalid_payload", detail: { field: "media_selection.remove.0", expected: null, received: sha(2) }, message: "The change was not valid: media_selection.remove.0: this photo is not in the selection" },
    ]);
    a.close();
    b.close();
  });

  it("sends one photo annotated among 20,000 as a delta of a few hundred bytes to a device that asked for deltas (v9), live and pulled; one that did not is poked", async () => {
    const branch = `selection-delta-${Date.now().toString(36)}`;
    const f = makeEventFactory(42);
    const a = await connect(branch, A, "owner");
    const items = Array.from({ length: 20_000 }, (_, i) => photo(i + 1));
    const base = f.createProject(A);
    const create = { ...base, payload: { ...(base.payload as object), media_selection: { items } } };
    const text = JSON.stringify({ type: "push", batch_id: newId(), events: [create] });
    for (const chunk of await splitIntoChunks(text, newId() as TransferId)) a.send(chunk);
    expect((await a.next("verdicts", { skip: true })).verdicts).toMatchObject([{ status: "confirmed", version: 1 }]);
    const b = await connect(branch, B, "staff", 1, { deltas: true });
    const c = await connect(branch, C, "staff", 1);
    const edit = f.updateProject(A, create.entity_id, { media_selection: { upsert: [photo(12_345, "retouch")], remove: [] } }, { base: 1 });
    a.send({ type: "push", batch_id: newId(), events: [edit] });
    expect((await a.next("verdicts", { skip: true })).verdicts).toMatchObject([{ status: "confirmed", version: 2 }]);

    const live = (await b.next("live", { skip: true })).changes[0]!;
    expect(live).toMatchObject({ seq: 2, delta: { base_version: 1, version: 2, media_selection: { upsert: [photo(12_345, "retouch")], remove: [] } } });
    expect(JSON.stringify(live).length).toBeLessThan(1_000);
    // Whole, the change is larger than a frame: the device that asked for no deltas is poked and pulls it.
    expect(await c.next("poke", { skip: true })).toEqual({ type: "poke", head: 2 });
    b.send({ type: "pull", request_id: newId(), since: 1, limit: 10 });
    expect((await b.next("changes", { skip: true })).changes).toEqual([live]);
    b.send({ type: "pull", request_id: newId(), since: 1, limit: 10, full: true });
    const full = whole((await b.next("changes", { skip: true })).changes[0]!);
    expect(JSON.stringify(full).length / JSON.stringify(live).length).toBeGreaterThan(100);
    for (const client of [a, b, c]) client.close();
  });
});
