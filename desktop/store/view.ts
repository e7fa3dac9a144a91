/**
 * The base (server truth) and the view (base ⊕ this device's open events).
 *
 * The view of an entity is recomputed from scratch whenever its base or its open events change:
 * base, then each pending/sent event in local order through the same `applyEvent` the server uses.
 * An open event that no longer applies (its entity was deleted remotely) is left out of the view and
 * will be rejected by the server; nothing is merged. An open event that cannot even be read back
 * (damaged, or no longer valid) is left out of the view too, and quarantined by `refreshView`.
 */
import { applyEvent, type Entity, type TypedEvent } from "../../domain/index.js";
import { inSentBatch, nowIso, type QueueRow, readQueued, type StoreContext } from "./context.js";
import { quarantine } from "./reject.js";

/** POS orders not yet confirmed carry this instead of an official receipt number. */
export const RECEIPT_PENDING = 0;

export function readBase(ctx: StoreContext, entityId: string): Entity | null {
  const row = ctx.stmt("SELECT body FROM base_entities WHERE entity_id = ?").get(entityId) as { body: string } | undefined;
  return row ? (JSON.parse(row.body) as Entity) : null;
}

/** Server truth moves forward only: an older version never replaces a newer one. */
export function writeBase(ctx: StoreContext, entity: Entity): boolean {
  return writeBaseText(ctx, entity, JSON.stringify(entity));
}

/** `writeBase` with the entity's JSON text already made (`body` is `JSON.stringify(entity)`). */
export function writeBaseText(ctx: StoreContext, entity: Entity, body: string): boolean {
  const result = ctx
    .stmt(
      `INSERT INTO base_entities (entity_id, entity_type, version, deleted, body) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (entity_id) DO UPDATE SET version = excluded.version, deleted = excluded.deleted, body = excluded.body
       WHERE excluded.version > base_entities.version`,
    )
    .run(entity.entity_id, entity.entity_type, entity.version, entity.deleted ? 1 : 0, body);
  return result.changes > 0;
}

export function openEvents(ctx: StoreContext, entityId: string): QueueRow[] {
  return ctx
    .stmt("SELECT * FROM sync_queue WHERE entity_id = ? AND sync_status = 'pending' ORDER BY position")
    .all(entityId) as QueueRow[];
}

/** The open events of an entity, read back; the rows that cannot be read, with why. */
function readOpen(ctx: StoreContext, open: readonly QueueRow[]): { readable: TypedEvent[]; unreadable: Array<{ row: QueueRow; why: string }> } {
  const readable: TypedEvent[] = [];
  const unreadable: Array<{ row: QueueRow; why: string }> = [];
  for (const row of open) {
    const read = readQueued(ctx, row);
    if (read.ok) readable.push(read.value.typed);
    else unreadable.push({ row, why: read.error });
  }
  return { readable, unreadable };
}

/** Base, then each event through the same `applyEvent` as the server; an event that does not apply is left out. */
function fold(ctx: StoreContext, base: Entity | null, events: readonly TypedEvent[]): Entity | null {
  if (events.length === 0) return base;
  const { device_id, user_id } = ctx.config();
  let current = base;
  for (const event of events) {
    const next = applyEvent(current, event, {
      version: (current?.version ?? 0) + 1,
      seq: 0,
      device_id,
      user_id,
      official_receipt_no: RECEIPT_PENDING,
      // Not numbered until the server confirms the issue (an invoice that has a number keeps it).
      official_invoice_no: null,
    });
    if (next.ok) current = next.value;
  }
  return current;
}

/**
 * Base ⊕ open events, as the device would see it; null when there is nothing to show. `base` and
 * `open` may be passed when the caller has just read or written them. Reads only: an unreadable open
 * event is left out here and quarantined by the next `refreshView` of the entity.
 */
export function computeView(ctx: StoreContext, entityId: string, base: Entity | null = readBase(ctx, entityId), open: QueueRow[] = openEvents(ctx, entityId)): Entity | null {
  return fold(ctx, base, readOpen(ctx, open).readable);
}

/**
 * What a new local write builds on: the entity's base, its open events and its view. An open event
 * that cannot be read is quarantined first, so a new event never depends on one (it would be
 * rejected with it).
 */
export function viewForWrite(ctx: StoreContext, entityId: string): { base: Entity | null; open: QueueRow[]; view: Entity | null } {
  const base = readBase(ctx, entityId);
  let open = openEvents(ctx, entityId);
  let { readable, unreadable } = readOpen(ctx, open);
  if (unreadable.length > 0) {
    ctx.db.transaction(() => refreshView(ctx, entityId, base ?? undefined))();
    open = openEvents(ctx, entityId);
    ({ readable } = readOpen(ctx, open));
  }
  return { base, open, view: fold(ctx, base, readable) };
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
  let open = openEvents(ctx, entityId);
  let { readable, unreadable } = readOpen(ctx, open);
  if (unreadable.length > 0) {
    // Quarantine what cannot be read (and so reject what was built on it), then look again.
    const last = base ?? readBase(ctx, entityId);
    for (const { row, why } of unreadable) quarantine(ctx, row, why, last, inSentBatch(ctx, row.position));
    open = openEvents(ctx, entityId);
    ({ readable, unreadable } = readOpen(ctx, open));
  }
  const entity = fold(ctx, base ?? readBase(ctx, entityId), readable);
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
      const read = readQueued(ctx, refused);
      if (!read.ok) {
        // It cannot be read back any more: keep showing it as it was last seen, flagged (never erased).
        ctx.stmt("UPDATE view_entities SET status = 'rejected', updated_at = ? WHERE entity_id = ?").run(nowIso(ctx), entityId);
        return;
      }
      const shown = fold(ctx, null, [read.value.typed]);
      if (shown) return upsertView(ctx, shown, "rejected");
    }
    ctx.stmt("DELETE FROM view_entities WHERE entity_id = ?").run(entityId);
    return;
  }
  upsertView(ctx, entity, hasOpen ? "pending" : "synced");
}

/** Rebuilds the views of entities with open local events or a refused POS sale. Call inside a transaction. */
export function refreshOpenViews(ctx: StoreContext): void {
  const ids = ctx
    .stmt(
      `SELECT DISTINCT entity_id FROM sync_queue WHERE sync_status = 'pending'
         OR (entity_type = 'pos_order' AND operation = 'create' AND sync_status = 'rejected')`,
    )
    .all() as Array<{ entity_id: string }>;
  for (const { entity_id } of ids) refreshView(ctx, entity_id);
}

export function upsertView(ctx: StoreContext, entity: Entity, status: "synced" | "pending" | "rejected"): void {
  upsertViewText(ctx, entity, status, JSON.stringify(entity));
}

/** `upsertView` with the entity's JSON text already made (`body` is `JSON.stringify(entity)`). */
export function upsertViewText(ctx: StoreContext, entity: Entity, status: "synced" | "pending" | "rejected", body: string): void {
  ctx
    .stmt(
      `INSERT INTO view_entities (entity_id, entity_type, deleted, status, title, body, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (entity_id) DO UPDATE SET deleted = excluded.deleted, status = excluded.status, title = excluded.title,
         body = excluded.body, updated_at = excluded.updated_at`,
    )
    .run(entity.entity_id, entity.entity_type, entity.deleted ? 1 : 0, status, viewTitle(entity), body, nowIso(ctx));
}
