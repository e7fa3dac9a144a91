/**
 * Entities as stored by the branch: an `entities` row pointing at the current version, and every
 * version's full JSON, immutable, in `entity_versions` (split into parts; see migrations.ts).
 */
import type { Entity, EntityType } from "../../domain/index.js";
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

export function entityHead(sql: SqlStore, entityId: string): EntityHead | undefined {
  return sql.one<EntityHead>(
    "SELECT entity_id, entity_type, version, deleted FROM entities WHERE entity_id = ?",
    entityId,
  );
}

/** One immutable version. Our own storage holds only validated entities, so it is not re-validated. */
export function readEntityVersion(sql: SqlStore, entityId: string, version: number): Entity | null {
  const parts = sql.all<{ body: string }>(
    "SELECT body FROM entity_versions WHERE entity_id = ? AND version = ? ORDER BY part",
    entityId,
    version,
  );
  return entityOf(parts);
}

/** An entity from its stored parts, in order; null when there are none. */
const entityOf = (parts: ReadonlyArray<{ body: string }>): Entity | null =>
  parts.length === 0 ? null : (JSON.parse(parts.length === 1 ? parts[0]!.body : parts.map((p) => p.body).join("")) as Entity);

/** The current version of an entity (its tombstone if deleted), or null: one statement. */
export function readEntity(sql: SqlStore, entityId: string): Entity | null {
  const parts = sql.all<{ body: string }>(
    `SELECT v.body FROM entities e JOIN entity_versions v ON v.entity_id = e.entity_id AND v.version = e.version
     WHERE e.entity_id = ? ORDER BY v.part`,
    entityId,
  );
  return entityOf(parts);
}

/** Stores a new version and moves the entity's pointer to it. Call inside a transaction. */
export function writeEntity(sql: SqlStore, entity: Entity, seq: number, text: string = JSON.stringify(entity)): void {
  let at = 0;
  let part = 0;
  do {
    let end = Math.min(text.length, at + ENTITY_PART_CHARS);
    // Never split a surrogate pair across parts: each part must be valid UTF-16 to store as TEXT.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    sql.run(
      "INSERT INTO entity_versions (entity_id, version, part, body) VALUES (?, ?, ?, ?)",
      entity.entity_id,
      entity.version,
      part,
      text.slice(at, end),
    );
    at = end;
    part += 1;
  } while (at < text.length);
  sql.run(
    `INSERT INTO entities (entity_id, entity_type, version, deleted, updated_seq) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (entity_id) DO UPDATE SET version = excluded.version, deleted = excluded.deleted,
       updated_seq = excluded.updated_seq`,
    entity.entity_id,
    entity.entity_type,
    entity.version,
    entity.deleted ? 1 : 0,
    seq,
  );
}
