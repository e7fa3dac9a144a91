/**
 * Local rejection of a queued event: the server's verdict said no, or the row cannot even be read
 * back (quarantine). Either way the row is kept (the queue is append-only: only its status moves),
 * the conflict inbox gets an entry in plain words with both sides, and every later local event built
 * on it is rejected too, since it can never apply (I2, I7). A POS sale is never erased: its entry is
 * flagged for a manager (I6).
 *
 * The caller refreshes the entity's view afterwards (dependents are events on the same entity).
 */
import type { Entity } from "../../domain/index.js";
import type { LastChange } from "../../protocol/index.js";
import { audit, log, nowIso, type QueueRow, STAMP_BATCH, type StoreContext, UNREADABLE } from "./context.js";

/**
 * What else the inbox keeps beside the two sides: who made the server's version, when and why (the
 * verdict's `last_change`, protocol v5), and the base the change was built on before server truth
 * replaced it (so a deleted project keeps its name and fields in the inbox).
 */
export interface KnownSides {
  lastChange: LastChange | null;
  base: Entity | null;
}
const NOTHING_KNOWN: KnownSides = { lastChange: null, base: null };

/**
 * Marks `row` rejected with `code` and opens its conflict; then its open dependents, with
 * `depends_on_rejected` and `dependentsServerEntity`. Returns the ids of every row it rejected.
 * A row that already has a verdict is left alone (a verdict is final).
 */
export function rejectRow(
  ctx: StoreContext,
  row: QueueRow,
  code: string,
  message: string,
  serverEntity: Entity | null,
  dependentsServerEntity: Entity | null = serverEntity,
  known: KnownSides = NOTHING_KNOWN,
): string[] {
  const changed = ctx
    .stmt(`UPDATE sync_queue SET sync_status = 'rejected', reject_code = ?, reject_message = ?, decided_at = ?, ${STAMP_BATCH} WHERE id = ? AND sync_status = 'pending'`)
    .run(code, message, nowIso(ctx), row.id);
  if (changed.changes === 0) return [];
  const needsManager = row.entity_type === "pos_order" && row.operation === "create" ? 1 : 0;
  ctx
    .stmt(
      `INSERT OR IGNORE INTO conflicts (event_id, entity_type, entity_id, operation, code, message, local_payload, server_entity, needs_manager, created_at, last_change, base_entity)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      row.id,
      row.entity_type,
      row.entity_id,
      row.operation,
      code,
      message,
      localPayloadJson(row),
      serverEntity ? JSON.stringify(serverEntity) : null,
      needsManager,
      nowIso(ctx),
      known.lastChange ? JSON.stringify(known.lastChange) : null,
      known.base ? JSON.stringify(known.base) : null,
    );
  log(ctx, code === UNREADABLE ? "quarantined" : "rejected", `${code}: ${message}`, row);
  audit(ctx, "conflict_shown", `${row.entity_type} ${row.entity_id}: ${code}: ${message}`);
  const rejected = [row.id];
  const dependents = ctx.stmt("SELECT * FROM sync_queue WHERE depends_on = ? AND sync_status = 'pending' ORDER BY position").all(row.id) as QueueRow[];
  for (const dependent of dependents) {
    rejected.push(...rejectRow(ctx, dependent, "depends_on_rejected", "This change built on an earlier change that was rejected", dependentsServerEntity, dependentsServerEntity, known));
  }
  return rejected;
}

/**
 * Quarantines a queue row that cannot be read back (`why`, from `readQueued`): it is never sent and
 * never deleted; it goes to the conflict inbox instead, and every other row keeps flowing.
 * `lastServerEntity` is the entity's base as last confirmed (shown beside it in the inbox). `sent`: the
 * row is in a batch sent before (an unanswered batch going out again).
 */
export function quarantine(ctx: StoreContext, row: QueueRow, why: string, lastServerEntity: Entity | null, sent: boolean): string[] {
  // A row already sent once may have been committed (its verdict lost): then the change stream
  // brings the server's result, and the inbox entry says why this device could not send it again.
  const message =
    sent
      ? `This change could not be read, so it was not sent again (the server may have it from before): ${why}`
      : `This change could not be read, so it was not sent: ${why}`;
  return rejectRow(ctx, row, UNREADABLE, message, lastServerEntity, lastServerEntity, { lastChange: null, base: lastServerEntity });
}

/**
 * The conflict's copy of the local change: the stored payload when it is JSON; otherwise the raw text
 * as a JSON string, so the inbox can always show what was there and nothing is lost.
 */
function localPayloadJson(row: QueueRow): string {
  try {
    JSON.parse(row.payload_json);
    return row.payload_json;
  } catch {
    return JSON.stringify(row.payload_json);
  }
}
