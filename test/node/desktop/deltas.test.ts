/**
 * A device makes a message's deltas whole (desktop/sync/deltas.ts) from what it holds: its base, or
 * the version an earlier change of the same message made; the first change it cannot make whole
 * stops the message, with the reason, and nothing after it is returned.
 */
import { describe, expect, it } from "vitest";
import { type Entity } from "../../../domain/index.js";
import { type Change, type DeltaChange, type WireChange } from "../../../protocol/index.js";
import { entityDelta } from "../../../protocol/delta.js";
import { resolveChanges } from "../../../desktop/sync/deltas.js";
import * as ex from "../../fixtures/examples.js";

const v = (version: number, title: string): Entity => ({ ...(ex.entities.project as Extract<Entity, { entity_type: "project" }>), version, data: { ...ex.project, title } }) as Entity;
const fields = (seq: number) => ({
  seq,
  event_id: `01936f3c-4444-7000-8000-${String(seq).padStart(12, "0")}`,
  device_id: ex.ids.deviceB,
  user_id: "ruwan",
  entity_type: "project",
  entity_id: ex.ids.project,
  operation: "update",
  changed_fields: ["title"],
  committed_at: "2026-11-25T04:05:00.000Z",
});
const whole = (seq: number, entity: Entity) => ({ ...fields(seq), entity }) as Change;
const delta = (seq: number, from: Entity, to: Entity) => ({ ...fields(seq), delta: entityDelta(from, to)! }) as DeltaChange;

const v3 = v(3, "Perera wedding");
const v4 = v(4, "Perera reception");
const v5 = v(5, "Perera reception, day 2");
const holding = (entity: Entity | null) => () => entity;

describe("making deltas whole", () => {
  it("applies a delta to the base, and the next to what the first made", () => {
    const out = resolveChanges([delta(10, v3, v4), delta(11, v4, v5)], 9, holding(v3));
    expect(out.failed).toBeNull();
    expect(out.changes.map((c) => c.entity)).toEqual([v4, v5]);
    expect(out.changes[0]).toEqual(whole(10, v4));
  });

  it("takes whole changes as they are, and a delta after one against it", () => {
    const out = resolveChanges([whole(10, v4), delta(11, v4, v5)], 9, holding(null));
    expect(out).toEqual({ changes: [whole(10, v4), whole(11, v5)], failed: null });
  });

  it("its own version, already held (a verdict made it): the held entity, if its hash is the server's", () => {
    expect(resolveChanges([delta(10, v3, v4)], 9, holding(v4))).toEqual({ changes: [whole(10, v4)], failed: null });
    const mine = { ...v4, data: { ...(v4 as Extract<Entity, { entity_type: "project" }>).data, notes: "mine" } } as Entity;
    expect(resolveChanges([delta(10, v3, v4)], 9, holding(mine)).failed).toEqual({ seq: 10, reason: "version 4 held here differs from the server's (hash mismatch)" });
  });

  it("stops at the first it cannot make whole: no base, another version, a hash that does not match", () => {
    const cases: Array<[WireChange[], Entity | null, string]> = [
      [[delta(10, v3, v4)], null, "this device holds no version of the entity (the delta is against version 3)"],
      [[delta(10, v3, v4)], v5, "the delta is against version 3; this device holds version 5"],
      [[{ ...delta(10, v3, v4), delta: { ...entityDelta(v3, v4)!, sha256: "0".repeat(64) } } as DeltaChange], v3, "the entity rebuilt from the delta against version 3 does not match the server's (hash mismatch)"],
      [[{ ...delta(10, v3, v4), delta: { ...entityDelta(v3, v4)!, data: { title: "" } } } as DeltaChange], v3, "the entity rebuilt from the delta is not a valid entity: Too small: expected string to have >=1 characters"],
    ];
    for (const [changes, held, reason] of cases) {
      const out = resolveChanges([...changes, whole(11, v5)], 9, (id) => (id === ex.ids.project ? held : null));
      expect(out).toEqual({ changes: [], failed: { seq: 10, reason } });
    }
    // What came before the one that stops is kept.
    expect(resolveChanges([whole(9, v3), delta(10, v4, v5)], 8, holding(null))).toEqual({ changes: [whole(9, v3)], failed: { seq: 10, reason: "the delta is against version 4; this device holds version 3" } });
  });

  it("passes over a delta this device has already applied (at or below its cursor)", () => {
    expect(resolveChanges([delta(10, v3, v4), whole(11, v5)], 10, holding(null))).toEqual({ changes: [whole(11, v5)], failed: null });
  });
});
