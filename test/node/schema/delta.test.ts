/**
 * Deltas on the way down (protocol v9, protocol/delta.ts): a delta made of two versions rebuilds
 * the later one field for field from the earlier one, and its hash proves it; a delta applied to
 * any other version, or tampered with, is refused, never thrown.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Entity, type MediaItem, type ProjectData } from "../../../domain/index.js";
import { EntityDelta } from "../../../protocol/index.js";
import { applyDelta, canonicalJson, canonicalText, entityDelta, entityHash } from "../../../protocol/delta.js";
import * as ex from "../../fixtures/examples.js";

const sha = (n: number) => n.toString(16).padStart(64, "0");
const item = (n: number, note: string | null = null): MediaItem => ({ sha256: sha(n) as MediaItem["sha256"], file_name: `IMG_${n}.CR3`, size_bytes: n, note });
const project = (version: number, data: ProjectData) => Entity.parse({ entity_type: "project", entity_id: ex.ids.project, version, deleted: false, data });

/** A project and an edit of it as a user could make it: any of its fields, and its selection photo by photo. */
const projectEdit = fc
  .record({
    title: fc.option(fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() === s && s.length > 0 && !/[\u0000-\u001f\u007f]/.test(s)), { nil: undefined }),
    notes: fc.option(fc.string({ maxLength: 200 }).filter((s) => !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(s)), { nil: undefined }),
    status: fc.option(fc.constantFrom("inquiry", "booked", "shooting", "editing", "delivered", "archived" as const), { nil: undefined }),
    location: fc.option(fc.constantFrom(null, "Kandy", "Galle"), { nil: undefined }),
    package: fc.option(fc.constantFrom(null, { name: "Silver", price: { amount_minor: 100, currency: "LKR" } }), { nil: undefined }),
    photos: fc.uniqueArray(fc.integer({ min: 1, max: 3_000 }), { maxLength: 40 }),
    keep: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
    added: fc.uniqueArray(fc.integer({ min: 3_001, max: 4_000 }), { maxLength: 5 }),
    note: fc.option(fc.constantFrom("retouch", "B&W"), { nil: null }),
  })
  .map((e) => {
    const base = project(3, { ...ex.project, media_selection: { items: e.photos.map((n) => item(n)) } });
    const items = [...e.photos.flatMap((n, i) => (e.keep[i] ? [item(n, i === 0 ? e.note : null)] : [])), ...e.added.map((n) => item(n))];
    const data = { ...ex.project, media_selection: { items } } as ProjectData;
    for (const key of ["title", "notes", "status", "location", "package"] as const) if (e[key] !== undefined) (data as Record<string, unknown>)[key] = e[key];
    return { base, next: project(4, data) };
  });

describe("entity deltas", () => {
  it("rebuild the next version from the base field for field, and its hash says so", () => {
    fc.assert(
      fc.property(projectEdit, ({ base, next }) => {
        const delta = entityDelta(base, next)!;
        expect(EntityDelta.safeParse(JSON.parse(JSON.stringify(delta))).success).toBe(true);
        const applied = applyDelta(base, JSON.parse(JSON.stringify(delta)) as EntityDelta);
        expect(applied.ok).toBe(true);
        const rebuilt = Entity.parse(applied.ok ? applied.value : null);
        expect(rebuilt).toEqual(next);
        expect(entityHash(rebuilt)).toBe(delta.sha256);
        // Only what changed travels: an unchanged field is never in the delta.
        for (const key of Object.keys(delta.data ?? {})) expect(canonicalJson((base.data as Record<string, unknown>)[key])).not.toBe(canonicalJson((next.data as Record<string, unknown>)[key]));
      }),
      { numRuns: 300 },
    );
  });

  it("carry top-level fields: a void, an invoice number", () => {
    const sale = ex.entities.sale as Extract<Entity, { entity_type: "pos_order" }>;
    const live = { ...sale, version: 1, void: null };
    const voided = entityDelta(live, sale)!;
    expect(voided).toMatchObject({ base_version: 1, version: 2, set: { void: sale.void } });
    expect(voided.data).toBeUndefined();
    const invoice = ex.entities.invoice as Extract<Entity, { entity_type: "invoice" }>;
    const issued = { ...invoice, version: 2, official_invoice_no: 7 };
    const numbered = entityDelta(invoice, issued)!;
    expect(numbered.set).toEqual({ official_invoice_no: 7 });
    const back = applyDelta(invoice, numbered);
    expect(back.ok && Entity.parse(back.value)).toEqual(issued);
  });

  it("one photo annotated in a selection of 20,000 is a delta of a few hundred bytes, not the selection", () => {
    const items = Array.from({ length: 20_000 }, (_, n) => item(n + 1));
    const base = project(5, { ...ex.project, media_selection: { items } });
    const next = project(6, { ...ex.project, media_selection: { items: items.map((i, n) => (n === 12_345 ? { ...i, note: "retouch" } : i)) } });
    const delta = JSON.stringify(entityDelta(base, next));
    const whole = JSON.stringify(next);
    expect(delta.length).toBeLessThan(400);
    expect(whole.length / delta.length).toBeGreaterThan(100);
  });

  it("the hash is of canonical JSON: the same entity built in any key order hashes the same", () => {
    const entity = ex.entities.project!;
    const reordered = JSON.parse(canonicalJson(entity)) as Entity;
    expect(Object.keys(reordered)).not.toEqual(Object.keys(entity));
    expect(entityHash(reordered)).toBe(entityHash(entity));
    expect(canonicalJson({ b: 1, a: [{ d: null, c: "x" }], u: undefined })).toBe('{"a":[{"c":"x","d":null}],"b":1}');
  });

  it("canonical JSON by the native serializer is the text built by hand, for any JSON value (keys like array indexes too)", () => {
    expect(canonicalJson({ 10: "a", 9: "b", x: 1 })).toBe('{"10":"a","9":"b","x":1}');
    // An own "__proto__" key (JSON.parse makes one) is a key like any other: it was dropped (seed -337679787).
    const proto = JSON.parse('{"__proto__":null,"":0}') as unknown;
    expect(canonicalJson(proto)).toBe('{"":0,"__proto__":null}');
    expect(canonicalJson(proto)).toBe(canonicalText(proto));
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(canonicalText(value));
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 500 },
    );
  });

  it("none for a create, a delete or a change of entity, and none against a later version", () => {
    const p = ex.entities.project!;
    expect(entityDelta(null, p)).toBeNull();
    expect(entityDelta(p, ex.entities.tombstone!)).toBeNull();
    expect(entityDelta(p, { ...p, entity_id: ex.ids.sale } as Entity)).toBeNull();
    expect(entityDelta({ ...p, version: 9 }, p)).toBeNull();
  });

  it("applied to another version, to a tombstone, or naming fields it may not touch: refused in words", () => {
    const base = project(3, ex.project);
    const next = project(4, { ...ex.project, title: "Perera reception" });
    const delta = entityDelta(base, next)!;
    expect(applyDelta({ ...base, version: 2 }, delta)).toEqual({ ok: false, reason: "the delta is against version 3; this device holds version 2" });
    expect(applyDelta({ ...ex.entities.tombstone!, version: 3 }, delta)).toMatchObject({ ok: false });
    expect(applyDelta(base, { ...delta, set: { entity_id: ex.ids.sale } })).toEqual({ ok: false, reason: 'a delta may not set or unset "entity_id"' });
    expect(applyDelta(base, { ...delta, media_selection: { upsert: [], remove: [sha(99) as MediaItem["sha256"]] } })).toEqual({ ok: false, reason: "media selection: this photo is not in the selection" });
    // Tampered: it applies, but the result is not the server's.
    const tampered = applyDelta(base, { ...delta, data: { title: "Someone else" } });
    expect(tampered.ok && entityHash(Entity.parse(tampered.value))).not.toBe(delta.sha256);
  });
});
