/**
 * The base (server truth) and the view (base ⊕ this device's open events).
 *
 * The view of an entity is recomputed from scratch whenever its base or its open events change:
 * base, then each pending/sent event in local order through the same `applyEvent` the server uses.
 * An open event that no longer applies (its entity was deleted remotely) is left out of the view and
 * will be rejected by the server; nothing is merged.
 */
import { applyEvent, type Entity } from "../../schema/index.js";
import { type QueueRow, nowIso, type StoreContext, typedEventOf } from "./context.js";

/** POS orders not yet confirmed carry this instead of an official receipt number. */
export const RECEIPT_PENDING = 0;

export function readBase(ctx: StoreContext, entityId: string): Entity | null {
  const row = ctx.stmt("SELECT body FROM base_entities WHERE entity_id = ?").get(entityId) as { body: string } | undefined;
  return row ? (JSON.parse(row.body) as Entity) : null;
}

/** Server truth moves forward only: an older version never replaces a newer one. */
export function writeBase(ctx: StoreContext, entity: Entity): boolean {
  const result = ctx
    .stmt(
      `INSERT INTO base_entities (entity_id, entity_type, version, deleted, body) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (entity_id) DO UPDATE SET version = excluded.version, deleted = excluded.deleted, body = excluded.body
       WHERE excluded.version > base_entities.version`,
    )
    .run(entity.entity_id, entity.entity_type, entity.version, entity.deleted ? 1 : 0, JSON.stringify(entity));
  return result.changes > 0;
}

export function openEvents(ctx: StoreContext, entityId: string): QueueRow[] {
  return ctx
    .stmt("SELECT * FROM sync_queue WHERE entity_id = ? AND sync_status IN ('pending', 'sent') ORDER BY position")
    .all(entityId) as QueueRow[];
}

/**
 * Base ⊕ open events, as the device would see it; null when there is nothing to show. `base` and
 * `open` may be passed when the caller has just read or written them.
 */
export function computeView(ctx: StoreContext, entityId: string, base: Entity | null = readBase(ctx, entityId), open: QueueRow[] = openEvents(ctx, entityId)): Entity | null {
  if (open.length === 0) return base;
  const { device_id, user_id } = ctx.config();
  let current = base;
  for (const row of open) {
    const next = applyEvent(current, typedEventOf(ctx, row), {
      version: (current?.version ?? 0) + 1,
      seq: 0,
      device_id,
      user_id,
      official_receipt_no: RECEIPT_PENDING,
    });
    if (next.ok) current = next.value;
  }
  return current;
}

/** The searchable title of an entity in the view (lower case). */
export function viewTitle(entity: Entity): string {
  switch (entity.entity_type) {
    case "project":
      return (entity.data ? `${entity.data.title} ${entity.data.client.name}` : "").toLowerCase();
    case "invoice":
      return `${entity.data.reference ?? ""} ${entity.data.client_name}`.toLowerCase();
    case "pos_order":
      return `${entity.data.local_receipt_no} ${entity.official_receipt_no || ""}`.toLowerCase();
  }
}

/**
 * Rebuilds the view row of one entity. Call inside the transaction that changed its inputs;
 * `base` is the entity's base when the caller has just written it (saves reading it back).
 */
export function refreshView(ctx: StoreContext, entityId: string, base?: Entity): void {
  const open = openEvents(ctx, entityId);
  const entity = computeView(ctx, entityId, base ?? readBase(ctx, entityId), open);
  const hasOpen = open.length > 0;
  if (entity === null) {
    // A POS sale the server refused is never erased: it stays visible, flagged for a manager.
    const refused = ctx
      .stmt(
        `SELECT * FROM sync_queue WHERE entity_id = ? AND entity_type = 'pos_order' AND operation = 'create'
         AND sync_status = 'rejected' ORDER BY position LIMIT 1`,
      )
      .get(entityId) as QueueRow | undefined;
    if (refused) {
      const { device_id, user_id } = ctx.config();
      const shown = applyEvent(null, typedEventOf(ctx, refused), {
        version: 1,
        seq: 0,
        device_id,
        user_id,
        official_receipt_no: RECEIPT_PENDING,
      });
      if (shown.ok) return upsertView(ctx, shown.value, "rejected");
    }
    ctx.stmt("DELETE FROM view_entities WHERE entity_id = ?").run(entityId);
    return;
  }
  upsertView(ctx, entity, hasOpen ? "pending" : "synced");
}

function upsertView(ctx: StoreContext, entity: Entity, status: "synced" | "pending" | "rejected"): void {
  ctx
    .stmt(
      `INSERT INTO view_entities (entity_id, entity_type, deleted, status, title, body, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (entity_id) DO UPDATE SET deleted = excluded.deleted, status = excluded.status, title = excluded.title,
         body = excluded.body, updated_at = excluded.updated_at`,
    )
    .run(entity.entity_id, entity.entity_type, entity.deleted ? 1 : 0, status, viewTitle(entity), JSON.stringify(entity), nowIso(ctx));
}
