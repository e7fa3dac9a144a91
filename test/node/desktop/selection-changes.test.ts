/**
 * Smart Select of one photo in a 20,000-photo project (protocol v8, issue 18): the till queues a
 * change set of one item, not the selection, and the branch (the real core on SQLite) makes of it
 * exactly the selection the user left; two tills' picks on different photos made on the same
 * version do not merge (server wins: the second is a version conflict), and the inbox words it in
 * photos. The real Durable Object takes the same push in test/workers/selection-changes.test.ts.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { MediaItem, MediaSelection } from "../../../domain/index.js";
import { mineData } from "../../../desktop/store/conflicts.js";
import * as ex from "../../fixtures/examples.js";
import { makeCore } from "../../support/branch.js";
import { expectConverged, openStore, syncDirect } from "../../support/desktop.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const B = "01936f3c-0000-7000-8000-0000000000b2";
const sha = (n: number) => n.toString(16).padStart(64, "0");
const photo = (n: number, note: string | null = null): MediaItem => ({ sha256: sha(n) as MediaItem["sha256"], file_name: `IMG_${n}.CR3`, size_bytes: 20_000_000 + n, note });
const selection = (count: number): MediaSelection => ({ items: Array.from({ length: count }, (_, i) => photo(i + 1)) });

let branch: ReturnType<typeof makeCore> | null = null;
afterEach(() => branch?.close());

describe("Smart Select as a change set", () => {
  it("one photo annotated among 20,000: a queued payload of one item (over 100x smaller), and the branch's selection is the user's", async () => {
    branch = makeCore();
    const { store } = await openStore({ device: A, seed: 1 });
    const created = store.createProject({ ...ex.project, media_selection: selection(20_000) });
    if (!created.ok) throw new Error(created.error.message);
    const id = created.value.event.entity_id;
    syncDirect(store, branch.core);
    const wanted: MediaSelection = { items: selection(20_000).items.map((p, i) => (i === 7_777 ? { ...p, note: "retouch, B&W" } : p)) };
    const written = store.setMediaSelection(id, wanted);
    if (!written.ok) throw new Error(written.error.message);
    const sent = JSON.stringify(written.value.event.payload).length;
    const whole = JSON.stringify({ media_selection: wanted }).length;
    expect(written.value.event.payload).toEqual({ media_selection: { upsert: [wanted.items[7_777]], remove: [] } });
    expect(whole / sent).toBeGreaterThan(100);
    // The till shows the selection at once, and the branch ends with the same one.
    expect(store.get(id)?.entity).toMatchObject({ data: { media_selection: wanted } });
    syncDirect(store, branch.core);
    expect(branch.core.verdictOf(written.value.event.id)).toMatchObject({ status: "confirmed", version: 2 });
    expectConverged(store, [...branch.core.entities()], expect);
    expect(store.get(id)?.entity).toMatchObject({ data: { media_selection: wanted } });
    store.close();
  });

  it("picks on the same version from two tills do not merge: the second is a version conflict, worded in photos", async () => {
    branch = makeCore();
    const a = (await openStore({ device: A, seed: 2 })).store;
    const b = (await openStore({ device: B, seed: 3 })).store;
    const created = a.createProject({ ...ex.project, media_selection: selection(10) });
    if (!created.ok) throw new Error(created.error.message);
    const id = created.value.event.entity_id;
    syncDirect(a, branch.core);
    syncDirect(b, branch.core);
    // A unpicks photo 3; B, from the same version, picks photo 11.
    expect(a.setMediaSelection(id, { items: selection(10).items.filter((p) => p.sha256 !== sha(3)) }).ok).toBe(true);
    expect(b.setMediaSelection(id, { items: [...selection(10).items, photo(11)] }).ok).toBe(true);
    syncDirect(a, branch.core);
    syncDirect(b, branch.core);
    const [conflict] = b.conflicts({ open: true });
    expect(conflict).toMatchObject({ code: "version_conflict" });
    // The inbox shows B's version as a selection (the change set applied to the base B saw): 11 photos.
    expect(mineData(conflict!)?.media_selection).toEqual({ items: [...selection(10).items, photo(11)] });
    // Server wins: B shows the branch's selection, A's, without photo 3 and without photo 11.
    expect(b.get(id)?.entity).toMatchObject({ data: { media_selection: { items: selection(10).items.filter((p) => p.sha256 !== sha(3)) } } });
    // Re-applied, B's pick goes on top of the server's version: both changes are in.
    expect(b.resolveConflict(conflict!.id, "reapply").ok).toBe(true);
    syncDirect(b, branch.core);
    syncDirect(a, branch.core);
    const both = [...selection(10).items.filter((p) => p.sha256 !== sha(3)), photo(11)];
    expect(a.get(id)?.entity).toMatchObject({ data: { media_selection: { items: both } } });
    expectConverged(b, [...branch.core.entities()], expect);
    a.close();
    b.close();
  });
});
