/**
 * Entities as stored by the branch: every version's full JSON, immutable, in `entity_versions` (split
 * into parts; see migrations.ts), and the commit that made it in `changes`.
 *
 * An entity's current version is its last change's: the newest row of `changes_by_entity` for it.
 * Compaction keeps each entity's last change (compaction.ts), so it is always there. Until layout 13
 * an `entities` row pointed at it; every commit upserted that row, a few percent of the server's CPU
 * per pushed event (docs/benchmarks.md, issue 16), to say what the log already says.
 */
import type { Entity, EntityType } from "../../domain/index.js";
import { assert } from "../../lib/result.js";
import type { SqlStore } from "./sql.js";

/**
 * Characters per stored part. A Durable Object SQLite row holds at most 2 MB; a UTF-16 code unit
 * is at most 3 UTF-8 bytes, so 512 Ki characters stay under 1.6 MB.
 */
export const ENTITY_PART_CHARS = 512 * 1024;

export interface EntityHead {
  entity_id: string;
  entity_type: EntityType;
  version: number;
  deleted: number;
}

/**
 * The current version of the entity whose id is the SQL expression `entityId`: its last change's, a
 * subquery `changes_by_entity` (entity_id, seq, version) answers in one probe.
 */
const headVersionOf = (entityId: string) => `(SELECT h.version FROM changes h WHERE h.entity_id = ${entityId} ORDER BY h.seq DESC LIMIT 1)`;

/**
 * An entity's current version, its type, and whether it is a tombstone. Only a project's delete makes
 * one (domain/apply.ts), and a deleted entity refuses every later change (`entity_deleted`), so an
 * entity is deleted exactly when its last change is a delete.
 */
export function entityHead(sql: SqlStore, entityId: string): EntityHead | undefined {
  return sql.one<EntityHead>(
    "SELECT entity_id, entity_type, version, operation = 'delete' AS deleted FROM changes WHERE entity_id = ? ORDER BY seq DESC LIMIT 1",
    entityId,
  );
}

/** One immutable version. Our own storage holds only validated entities, so it is not re-validated. */
export function readEntityVersion(sql: SqlStore, entityId: string, version: number): Entity | null {
  const text = readEntityVersionText(sql, entityId, version);
  return text === null ? null : (JSON.parse(text) as Entity);
}

/** One immutable version as stored: JSON.stringify of the entity (push-storage.ts `commit`), never parsed here. */
export function readEntityVersionText(sql: SqlStore, entityId: string, version: number): string | null {
  return joined(sql.all<{ body: string }>("SELECT body FROM entity_versions WHERE entity_id = ? AND version = ? ORDER BY part", entityId, version));
}

/** The text of stored parts, in order; null when there are none. */
const joined = (parts: ReadonlyArray<{ body: string }>): string | null =>
  parts.length === 0 ? null : parts.length === 1 ? parts[0]!.body : parts.map((p) => p.body).join("");

/** The current version of an entity (its tombstone if deleted), or null: one statement. */
export function readEntity(sql: SqlStore, entityId: string): Entity | null {
  const parts = sql.all<{ body: string }>(`SELECT body FROM entity_versions WHERE entity_id = ? AND version = ${headVersionOf("?")} ORDER BY part`, entityId, entityId);
  const text = joined(parts);
  return text === null ? null : (JSON.parse(text) as Entity);
}

/**
 * The current version of each of `entityIds` whose text is at most `maxChars` (one statement): a
 * missing id has no entity (null); an entity whose text is longer is left out (read it with readEntity).
 */
export function currentEntities(sql: SqlStore, entityIds: readonly string[], maxChars: number): Map<string, Entity | null> {
  assert(maxChars < ENTITY_PART_CHARS - 1, "a text of more than one part is never read as part 0 alone");
  const rows = sql.all<{ entity_id: string; body: string | null }>(
    // Part 0 alone is the whole text when it is this short: a text split into parts fills part 0.
    `SELECT v.entity_id, CASE WHEN length(v.body) <= ? THEN v.body END AS body
       FROM json_each(?) j JOIN entity_versions v ON v.entity_id = j.value AND v.part = 0
        AND v.version = ${headVersionOf("j.value")}`,
    maxChars,
    JSON.stringify(entityIds),
  );
  const found = new Map<string, Entity | null>(entityIds.map((id) => [id, null]));
  for (const row of rows) {
    if (row.body === null) found.delete(row.entity_id);
    else found.set(row.entity_id, JSON.parse(row.body) as Entity);
  }
  return found;
}

/** A stored version's parts: `text` split every ENTITY_PART_CHARS characters, never inside a surrogate pair. */
function entityParts(text: string): string[] {
  const parts: string[] = [];
  let at = 0;
  do {
    let end = Math.min(text.length, at + ENTITY_PART_CHARS);
    // Never split a surrogate pair across parts: each part must be valid UTF-16 to store as TEXT.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    parts.push(text.slice(at, end));
    at = end;
  } while (at < text.length);
  return parts;
}

/** Stores one version's text in parts, one statement each (a text too long to go in one JSON value with others). */
export function storeVersionText(sql: SqlStore, entityId: string, version: number, text: string): void {
  entityParts(text).forEach((body, part) => sql.run("INSERT INTO entity_versions (entity_id, version, part, body) VALUES (?, ?, ?, ?)", entityId, version, part, body));
}

/** A row of `entity_versions`, as storeVersions writes it. */
export type VersionRow = [entity_id: string, version: number, part: number, body: string];

/**
 * Stores new versions: one statement for any number of rows. Their JSON must fit one SQLite value
 * (2 MB in a Durable Object): the caller bounds it. Call inside a transaction, with their changes.
 */
export function storeVersions(sql: SqlStore, versions: readonly VersionRow[]): void {
  if (versions.length === 0) return;
  sql.run("INSERT INTO entity_versions (entity_id, version, part, body) SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?)", JSON.stringify(versions));
}
