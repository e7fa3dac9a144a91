/**
 * A media selection changed item by item (protocol v8, issue 18, domain/entities/project.ts): the
 * change set a device computes (`selectionChanges`) makes exactly the selection the user left, on
 * the selection it was computed from; the server applies it the same way (domain/apply.ts); a bad
 * one is refused in words, never thrown.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyEvent, applySelectionChanges, type MediaItem, MediaSelectionChanges, type MediaSelection, parseEventBody, type ProjectEntity, selectionChanges, SyncEvent } from "../../../domain/index.js";
import * as ex from "../../fixtures/examples.js";

const sha = (n: number) => n.toString(16).padStart(64, "0");
const item = (n: number, note: string | null = null): MediaItem => ({ sha256: sha(n) as MediaItem["sha256"], file_name: `IMG_${n}.CR3`, size_bytes: n, note });

/** A selection of distinct photos, and a selection the user could make of it by picking, unpicking and annotating. */
const edit = fc
  .uniqueArray(fc.integer({ min: 1, max: 5_000 }), { minLength: 0, maxLength: 60 })
  .chain((numbers) =>
    fc.record({
      from: fc.constant(numbers),
      keep: fc.array(fc.boolean(), { minLength: numbers.length, maxLength: numbers.length }),
      note: fc.array(fc.option(fc.constantFrom("retouch", "B&W", "crop"), { nil: null }), { minLength: numbers.length, maxLength: numbers.length }),
      added: fc.uniqueArray(fc.integer({ min: 5_001, max: 9_000 }), { maxLength: 10 }),
    }),
  )
  .map(({ from, keep, note, added }) => ({
    from: { items: from.map((n) => item(n)) } as MediaSelection,
    to: { items: [...from.flatMap((n, i) => (keep[i] ? [item(n, note[i] ?? null)] : [])), ...added.map((n) => item(n))] } as MediaSelection,
  }));

describe("media selection change sets", () => {
  it("a change set, when one is chosen, is valid and makes exactly the selection the user left", () => {
    fc.assert(
      fc.property(edit, ({ from, to }) => {
        const changes = selectionChanges(from, to);
        if (changes === null) return;
        expect(MediaSelectionChanges.safeParse(changes).success).toBe(true);
        expect(applySelectionChanges(from, changes)).toEqual({ ok: true, value: to });
        expect(changes.upsert.length + changes.remove.length).toBeLessThan(to.items.length);
      }),
      { numRuns: 300 },
    );
  });

  it("one photo's note changed in a selection of 20,000: one item instead of 20,000, over 100x fewer bytes", () => {
    const from: MediaSelection = { items: Array.from({ length: 20_000 }, (_, n) => item(n + 1)) };
    const to: MediaSelection = { items: from.items.map((i, n) => (n === 12_345 ? { ...i, note: "retouch" } : i)) };
    const changes = selectionChanges(from, to)!;
    expect(changes).toEqual({ upsert: [to.items[12_345]], remove: [] });
    const whole = JSON.stringify({ media_selection: to }).length;
    const small = JSON.stringify({ media_selection: changes }).length;
    expect(whole / small).toBeGreaterThan(100);
  });

  it("the whole selection is sent when a change set would not say it: reordered, unchanged, or mostly new", () => {
    const from: MediaSelection = { items: [item(1), item(2), item(3), item(4)] };
    expect(selectionChanges(from, { items: [item(2), item(1), item(3), item(4)] })).toBeNull();
    expect(selectionChanges(from, from)).toBeNull();
    expect(selectionChanges(from, { items: [item(7), item(8), item(9)] })).toBeNull();
    expect(selectionChanges(from, { items: [item(1), item(2), item(3)] })).toEqual({ upsert: [], remove: [sha(4)] });
  });

  it("the server applies a change set to its version, and refuses a bad one as invalid_payload in words", () => {
    const project = { entity_type: "project", entity_id: ex.ids.project, version: 3, deleted: false, data: { ...ex.project, media_selection: { items: [item(1), item(2)] } } } as ProjectEntity;
    const update = (media_selection: unknown) => {
      const envelope = SyncEvent.parse({ ...ex.event, entity_type: "project", entity_id: ex.ids.project, operation: "update", payload: { media_selection }, base_version: 3, depends_on: null });
      return parseEventBody(envelope);
    };
    const commit = { version: 4, seq: 9, device_id: ex.ids.deviceA, user_id: "u", official_receipt_no: null, official_invoice_no: null } as never;
    const good = update({ upsert: [item(2, "retouch"), item(3)], remove: [sha(1)] });
    expect(good.ok).toBe(true);
    const applied = applyEvent(project, good.ok ? good.value : (null as never), commit);
    expect(applied.ok && applied.value.entity_type === "project" && applied.value.data?.media_selection).toEqual({ items: [item(2, "retouch"), item(3)] });
    // Removing a photo that is not selected: built on another selection.
    const missing = update({ upsert: [], remove: [sha(9)] });
    const refused = applyEvent(project, missing.ok ? missing.value : (null as never), commit);
    expect(refused).toMatchObject({ ok: false, error: { code: "invalid_payload", detail: { field: "media_selection.remove.0", received: "this photo is not in the selection" } } });
    // The shape itself: empty, twice, both ways.
    for (const bad of [{ upsert: [], remove: [] }, { upsert: [item(3), item(3)], remove: [] }, { upsert: [item(3)], remove: [sha(3)] }, { upsert: [], remove: [sha(1), sha(1)] }]) {
      expect(update(bad).ok, JSON.stringify(bad).slice(0, 80)).toBe(false);
    }
  });
});
