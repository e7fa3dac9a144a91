/**
 * A project update whose media selection is a change set (protocol v8), pushed to the real branch
 * Durable Object: the branch applies it to its version, every device gets the whole entity as
 * before, and a change set built on another selection is refused as invalid_payload in words.
 */
import { describe, expect, it } from "vitest";
import type { Change } from "../../protocol/index.js";
import { makeEventFactory } from "../support/events.js";
import { connect, newId, pullAll } from "./support.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const B = "01936f3c-0000-7000-8000-0000000000b2";
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
    // B, live, gets the commit with the whole entity (deltas on the way down are not built yet).
    let change: Change | undefined;
    while (!change) change = (await b.next("live", { skip: true })).changes.find((c) => c.event_id === edit.id);
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
});
