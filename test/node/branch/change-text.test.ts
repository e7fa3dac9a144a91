/**
 * Frames of changes are built from the log's stored JSON text (durable/core/log.ts changeJson), not
 * by serializing entities again: the text must be exactly what serializing the wire message would
 * give, for every kind of commit, for text outside ASCII, and for an entity stored in several parts.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Changes, MAX_PULL_PAGE_CHANGES, type WholeChanges } from "../../../protocol/index.js";
import { type SyncEvent } from "../../../domain/index.js";
import { ENTITY_PART_CHARS, readEntityVersion } from "../../../durable/core/entity-store.js";
import { readPage } from "../../../durable/core/pull.js";
import * as ex from "../../fixtures/examples.js";
import { actor, DEVICES, makeCore } from "../../support/branch.js";
import { makeEventFactory } from "../../support/events.js";

const { A, B } = DEVICES;
let t: ReturnType<typeof makeCore>;
let f: ReturnType<typeof makeEventFactory>;
beforeEach(() => {
  t = makeCore();
  f = makeEventFactory(16);
});
afterEach(() => t.close());

/** Every kind of commit: creates, an update with changed fields, a delete, POS sale and void, an issued invoice, text outside ASCII, an entity of several stored parts. */
function everyKind(): SyncEvent[] {
  const project = f.createProject(A, undefined, "Shoot «Kandy» 📷 \u2028 \"quoted\" \\ back");
  const sale = f.sale(A);
  const items = Array.from({ length: 4_000 }, (_, i) => ({ sha256: i.toString(16).padStart(64, "0"), file_name: `IMG_${i}.jpg`, size_bytes: i, note: " නිවාඩු".repeat(20) }));
  const big = f.event(A, "project", f.nextId(), "create", { ...ex.project, media_selection: { items } });
  return [
    project,
    f.updateProject(A, project.entity_id, { notes: "ünïcödé\ttab", location: null }, { dep: project.id }),
    sale,
    f.voidOrder(A, sale.entity_id, { base: 1 }),
    f.event(A, "invoice", f.nextId(), "create", { ...ex.invoice, project_id: project.entity_id }),
    f.deleteProject(A, project.entity_id, { base: 2 }),
    big,
  ];
}

describe("changes as text", () => {
  it("a pushed change's text is the change serialized, byte for byte", () => {
    const outcome = t.core.push(actor(A), everyKind());
    expect(outcome.verdicts.every((v) => v.status === "confirmed")).toBe(true);
    expect(outcome.changes).toHaveLength(7);
    for (const { change, json } of outcome.changes) expect(json).toBe(JSON.stringify(change));
    expect(outcome.changes.at(-1)!.json.length).toBeGreaterThan(ENTITY_PART_CHARS); // stored in parts
  });

  it("a pulled page's text is a valid changes message, serialized as its parse would be, each entity as stored", () => {
    t.core.push(actor(A), everyKind());
    t.core.push(actor(B), [f.createProject(B)]);
    for (const [since, limit] of [[0, MAX_PULL_PAGE_CHANGES], [0, 1], [2, 3], [7, 5], [8, 5]] as const) {
      const text = t.core.pullText(since, limit, "0193a000-0000-7000-8000-000000000001");
      const parsed = JSON.parse(text) as WholeChanges;
      expect(JSON.stringify(parsed)).toBe(text);
      expect(Changes.safeParse(parsed).success).toBe(true);
      expect(JSON.stringify(t.core.pull(since, limit, "0193a000-0000-7000-8000-000000000001"))).toBe(text);
      for (const change of parsed.changes) {
        expect(Object.keys(change)).toEqual(["seq", "event_id", "device_id", "user_id", "entity_type", "entity_id", "operation", "changed_fields", "entity", "committed_at"]);
        expect(JSON.stringify(change.entity)).toBe(JSON.stringify(readEntityVersion(t.sql, change.entity_id, change.entity.version)));
      }
    }
  });

  it("an entity too long to come with its log row (16 Ki characters, one stored part) is read on its own, the same text", () => {
    const items = Array.from({ length: 300 }, (_, i) => ({ sha256: i.toString(16).padStart(64, "0"), file_name: `IMG_${i}.jpg`, size_bytes: i, note: null }));
    const events = [f.createProject(A), f.event(A, "project", f.nextId(), "create", { ...ex.project, media_selection: { items } }), f.createProject(A)];
    const pushed = t.core.push(actor(A), events).changes;
    expect(pushed[1]!.json.length).toBeGreaterThan(16 * 1024);
    expect(pushed[1]!.json.length).toBeLessThan(ENTITY_PART_CHARS);
    expect(readPage(t.sql, 0, 10).changes).toEqual(pushed.map((c) => c.json));
  });

  it("pages by the bytes of the changes' text, at least one change a page", () => {
    t.core.push(actor(A), everyKind());
    const sizes = readPage(t.sql, 0, 100, Number.MAX_SAFE_INTEGER).changes.map((c) => c.length);
    const target = sizes[0]! + sizes[1]!;
    expect(readPage(t.sql, 0, 100, target)).toMatchObject({ cursor: 2, more: true });
    expect(readPage(t.sql, 6, 100, 1)).toMatchObject({ cursor: 7, more: false }); // the large one alone
  });
});
