/**
 * Deltas on the way down (protocol v9, issue 18): a commit's entity as the fields that changed since
 * the version before it, and the hash that proves a device rebuilt it exactly.
 *
 * The server makes a delta when it commits an update (entityDelta, durable/core/commit.ts) and keeps
 * its text beside the commit's log row; live frames and pull pages carry it to v9 devices instead of
 * the entity when it is smaller. A device applies it to the version it holds (applyDelta), checks the
 * result's shape with the Entity schema and its hash against `sha256`, and on any mismatch pulls
 * that change again whole (`pull.full`). Both sides hash the same canonical text, so neither depends
 * on the other's key order.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { applySelectionChanges, type Entity, type MediaSelection, selectionChanges } from "../domain/entities/index.js";
import type { EntityDelta } from "./messages.js";

/**
 * JSON with every object's keys in code-unit order and no whitespace: the same text for the same
 * value however it was built. Keys whose value is undefined are left out, as JSON.stringify does.
 *
 * Native JSON.stringify does the work, its replacer handing it each object with sorted keys (a copy
 * only where they are not sorted already): about 2.5× faster than building the text here. An object
 * keyed by array indexes ("10", "9") cannot be rebuilt in code-unit order (JavaScript puts such keys
 * first, in numeric order), so a value with one is written by the slower canonicalText; no entity has one.
 */
export function canonicalJson(value: unknown): string {
  indexKeys = false;
  const text = JSON.stringify(value, sortedKeys) ?? "null";
  return indexKeys ? canonicalText(value) : text;
}

let indexKeys = false;
const INDEX_KEY = /^(0|[1-9][0-9]*)$/;

function sortedKeys(this: unknown, _key: string, v: unknown): unknown {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
  const keys = Object.keys(v);
  let sorted = true;
  for (let i = 0; i < keys.length; i++) {
    if (INDEX_KEY.test(keys[i]!)) indexKeys = true;
    if (i > 0 && keys[i - 1]! > keys[i]!) sorted = false;
  }
  if (sorted) return v;
  keys.sort();
  // No prototype: on a plain object, assigning an own "__proto__" key (JSON.parse makes them) would
  // set the prototype instead and drop the key from the text (found by the fast-check test below).
  const out = Object.create(null) as Record<string, unknown>;
  for (const key of keys) out[key] = (v as Record<string, unknown>)[key];
  return out;
}

/** canonicalJson built by hand: every case, slower. Exported for the test that holds the two equal. */
export function canonicalText(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) out += (i > 0 ? "," : "") + canonicalText(value[i] === undefined ? null : value[i]);
    return out + "]";
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = "{";
  let first = true;
  for (const key of keys) {
    const v = record[key];
    if (v === undefined) continue;
    out += (first ? "" : ",") + JSON.stringify(key) + ":" + canonicalText(v);
    first = false;
  }
  return out + "}";
}

/** SHA-256 of an entity's canonical JSON, lowercase hex: what a delta's `sha256` says. Synchronous, so a commit can make it. */
export function entityHash(entity: Entity): string {
  return bytesToHex(sha256(utf8ToBytes(canonicalJson(entity))));
}

/** Top-level fields a delta never touches: they say which entity it is, and its version is the delta's own. */
const FIXED = new Set(["entity_type", "entity_id", "version", "deleted", "data"]);

const same = (a: unknown, b: unknown) => a === b || (typeof a === "object" && typeof b === "object" && a !== null && b !== null && canonicalJson(a) === canonicalJson(b));

/**
 * The delta that turns `base` into `next`, or null when only the whole entity says it: a create (no
 * base), a delete (a tombstone), a change of type or id. `next.version` need not be base's + 1, but
 * it is for every commit (a version counts commits).
 */
export function entityDelta(base: Entity | null, next: Entity): EntityDelta | null {
  if (base === null || base.deleted || next.deleted || base.entity_type !== next.entity_type || base.entity_id !== next.entity_id) return null;
  if (next.version <= base.version) return null;
  // Keys in the schema's order (EntityDelta), the hash last: the text is what JSON.stringify of the parsed delta gives.
  const delta: EntityDelta = { base_version: base.version, version: next.version } as EntityDelta;
  const b = base as unknown as Record<string, unknown>;
  const n = next as unknown as Record<string, unknown>;
  const set: Record<string, unknown> = {};
  const unset: string[] = [];
  for (const key of Object.keys(n)) if (!FIXED.has(key) && n[key] !== undefined && !same(b[key], n[key])) set[key] = n[key];
  for (const key of Object.keys(b)) if (!FIXED.has(key) && b[key] !== undefined && n[key] === undefined) unset.push(key);
  if (Object.keys(set).length > 0) delta.set = set;
  if (unset.length > 0) delta.unset = unset;

  let selection: EntityDelta["media_selection"];
  const bd = base.data as unknown as Record<string, unknown>;
  const nd = next.data as unknown as Record<string, unknown>;
  const data: Record<string, unknown> = {};
  const dataUnset: string[] = [];
  for (const key of Object.keys(nd)) {
    if (nd[key] === undefined || same(bd[key], nd[key])) continue;
    if (key === "media_selection" && next.entity_type === "project" && base.entity_type === "project") {
      const changes = selectionChanges(base.data.media_selection, next.data.media_selection);
      if (changes !== null) {
        selection = changes;
        continue;
      }
    }
    data[key] = nd[key];
  }
  for (const key of Object.keys(bd)) if (bd[key] !== undefined && nd[key] === undefined) dataUnset.push(key);
  if (Object.keys(data).length > 0) delta.data = data;
  if (dataUnset.length > 0) delta.data_unset = dataUnset;
  if (selection !== undefined) delta.media_selection = selection;
  delta.sha256 = entityHash(next);
  return delta;
}

/**
 * `delta` applied to `base`: a value to check with the Entity schema and entityHash, or why it cannot
 * be applied (the base is not the delta's, or its selection change does not fit). Never throws;
 * `base` is not modified.
 */
export function applyDelta(base: Entity, delta: EntityDelta): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (base.version !== delta.base_version) return { ok: false, reason: `the delta is against version ${delta.base_version}; this device holds version ${base.version}` };
  if (base.deleted) return { ok: false, reason: "the version this device holds is a tombstone" };
  for (const key of [...Object.keys(delta.set ?? {}), ...(delta.unset ?? [])]) {
    if (FIXED.has(key) || key === "__proto__") return { ok: false, reason: `a delta may not set or unset "${key}"` };
  }
  for (const key of [...Object.keys(delta.data ?? {}), ...(delta.data_unset ?? [])]) {
    if (key === "__proto__") return { ok: false, reason: `a delta may not set or unset "${key}"` };
  }
  const out: Record<string, unknown> = { ...(base as unknown as Record<string, unknown>), ...(delta.set ?? {}) };
  for (const key of delta.unset ?? []) delete out[key];
  const data: Record<string, unknown> = { ...(base.data as unknown as Record<string, unknown>), ...(delta.data ?? {}) };
  for (const key of delta.data_unset ?? []) delete data[key];
  if (delta.media_selection !== undefined) {
    const selection = data.media_selection as MediaSelection | undefined;
    if (base.entity_type !== "project" || selection === undefined || typeof selection !== "object" || !Array.isArray(selection.items)) {
      return { ok: false, reason: "a media selection change for an entity without a media selection" };
    }
    const applied = applySelectionChanges(selection, delta.media_selection);
    if (!applied.ok) return { ok: false, reason: `media selection: ${applied.message}` };
    data.media_selection = applied.value;
  }
  out.data = data;
  out.version = delta.version;
  return { ok: true, value: out };
}
