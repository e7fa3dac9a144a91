/**
 * The ledger's POS facts (`pos_orders`, `pos_voids`), exactly as the server records them, and the one
 * place they are written. Append-only and idempotent (INSERT OR IGNORE, I6): the same fact can arrive
 * twice — a verdict and then the change stream, or a snapshot and then a pull over its seq — and is
 * recorded once.
 */
import { businessDay, type Entity, type EntityId } from "../../domain/index.js";
import { type PosFact } from "../../protocol/index.js";
import { branchTimeZone, type StoreContext } from "./context.js";

/** A void of a POS order, as the ledger keeps it. */
export interface PosVoidFact {
  entity_id: EntityId;
  seq: number;
}

export function recordPosOrder(ctx: StoreContext, f: PosFact): void {
  ctx
    .stmt(
      `INSERT OR IGNORE INTO pos_orders (entity_id, official_receipt_no, kind, corrects_order_id, local_receipt_no, device_id, currency,
         total_minor, business_day, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(f.entity_id, f.official_receipt_no, f.kind, f.corrects_order_id, f.local_receipt_no, f.device_id, f.currency, f.total_minor, f.business_day, f.seq);
}

export function recordPosVoid(ctx: StoreContext, v: PosVoidFact): void {
  ctx.stmt("INSERT OR IGNORE INTO pos_voids (entity_id, seq) VALUES (?, ?)").run(v.entity_id, v.seq);
}

/**
 * Records the fact a committed change makes, if any: a POS order's create (its business day is worked
 * out from `rung_at` in the branch's zone, as the server does, I13) or its void.
 */
export function recordCommittedPos(ctx: StoreContext, entity: Entity, operation: string, deviceId: PosFact["device_id"], seq: number): void {
  if (entity.entity_type !== "pos_order") return;
  if (operation === "create") {
    const o = entity.data;
    recordPosOrder(ctx, {
      entity_id: entity.entity_id,
      official_receipt_no: entity.official_receipt_no,
      kind: o.kind,
      corrects_order_id: o.corrects_order_id,
      local_receipt_no: o.local_receipt_no,
      device_id: deviceId,
      currency: o.currency,
      total_minor: o.total_minor,
      business_day: businessDay(o.rung_at, branchTimeZone(ctx)),
      seq,
    });
  } else if (operation === "void") {
    recordPosVoid(ctx, { entity_id: entity.entity_id, seq });
  }
}
