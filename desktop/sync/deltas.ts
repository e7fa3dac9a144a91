/**
 * Deltas on the way down (protocol v9): a `live` or `changes` message's changes made whole again
 * before the store applies them, each from the version this device holds.
 *
 * A delta is applied to the entity as this device holds it: the one an earlier change of the same
 * message made, else the store's base (server truth as of the cursor, or as a verdict of this
 * device's own left it). The result is checked with the Entity schema (the decoder's bounds hold for
 * a rebuilt entity as for a sent one) and its hash against the delta's. The first change that
 * cannot be made whole this way (no base, another base version, a mismatch) stops the message: the
 * changes before it are applied, and that change is pulled again with `full` (session.ts).
 */
import { Entity } from "../../domain/entities/index.js";
import { type Change, type EntityDelta, isWholeChange, type WireChange } from "../../protocol/index.js";
import { applyDelta, entityHash } from "../../protocol/delta.js";

export interface Resolved {
  /** The changes made whole, in order: every change before `failed`. */
  changes: Change[];
  /** The first change that could not be made whole, and why (for the log); null when all were. */
  failed: { seq: number; reason: string } | null;
}

/**
 * `changes` made whole. `held(entityId)` is the version this device holds (the store's base).
 * Changes this device already holds (seq at or below `cursor`) are passed over untouched when they
 * are deltas: the store skips them anyway.
 */
export function resolveChanges(changes: readonly WireChange[], cursor: number, held: (entityId: string) => Entity | null): Resolved {
  const out: Change[] = [];
  const made = new Map<string, Entity>();
  for (const change of changes) {
    if (isWholeChange(change)) {
      out.push(change);
      made.set(change.entity_id, change.entity);
      continue;
    }
    if (change.seq <= cursor) continue; // already applied: nothing to rebuild
    const { delta, ...fields } = change;
    const entity = rebuild(made.get(change.entity_id) ?? held(change.entity_id), delta);
    if (!entity.ok) return { changes: out, failed: { seq: change.seq, reason: entity.reason } };
    out.push({ ...fields, entity: entity.value });
    made.set(change.entity_id, entity.value);
  }
  return { changes: out, failed: null };
}

function rebuild(base: Entity | null, delta: EntityDelta): { ok: true; value: Entity } | { ok: false; reason: string } {
  if (base === null) return { ok: false, reason: `this device holds no version of the entity (the delta is against version ${delta.base_version})` };
  // This device's own commit, whose verdict already made its base that version: the hash says whether it is the server's.
  if (base.version === delta.version) {
    return entityHash(base) === delta.sha256 ? { ok: true, value: base } : { ok: false, reason: `version ${delta.version} held here differs from the server's (hash mismatch)` };
  }
  const applied = applyDelta(base, delta);
  if (!applied.ok) return applied;
  const parsed = Entity.safeParse(applied.value);
  if (!parsed.success) return { ok: false, reason: `the entity rebuilt from the delta is not a valid entity: ${parsed.error.issues[0]?.message ?? "invalid"}` };
  if (entityHash(parsed.data) !== delta.sha256) return { ok: false, reason: `the entity rebuilt from the delta against version ${delta.base_version} does not match the server's (hash mismatch)` };
  return { ok: true, value: parsed.data };
}
