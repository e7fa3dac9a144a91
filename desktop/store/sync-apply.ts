/**
 * The sync side of the store: what to push next, and applying verdicts and server changes.
 *
 * The queue row is the source of truth across crashes: an event is `pending` until it is put in a
 * batch (`sent`, with its batch id, in the same transaction), and `sent` until a verdict decides it.
 * After a crash, `sent` batches are sent again with the same ids (the server answers with the stored
 * verdicts, I3), and a verdict lost for good is recovered from the change stream, which names the
 * event id of every commit.
 */
import {
  applyEvent,
  businessDay,
  type Change,
  type Entity,
  FRAME_LIMIT_BYTES,
  MAX_BATCH_EVENTS,
  type SyncEvent,
  utf8ByteLength,
  type Verdict,
} from "../../schema/index.js";
import { audit, branchTimeZone, eventOf, log, nowIso, type QueueRow, type StoreContext, typedEventOf } from "./context.js";
import { readBase, refreshView, writeBase } from "./view.js";
import { newId } from "./writes.js";

export interface Batch {
  batch_id: string;
  events: SyncEvent[];
}

/** Room for the push envelope around the events of a batch that should fit one frame. */
const BATCH_ENVELOPE_BYTES = 200;

/**
 * The next batch to push: an unanswered batch first (same id, same events), else up to
 * MAX_BATCH_EVENTS pending events that fit one frame (at least one event, which may need chunks).
 */
export function nextBatch(ctx: StoreContext, maxEvents = MAX_BATCH_EVENTS): Batch | null {
  return ctx.db.transaction((): Batch | null => {
    const unanswered = ctx
      .stmt("SELECT batch_id FROM sync_queue WHERE sync_status = 'sent' ORDER BY position LIMIT 1")
      .get() as { batch_id: string } | undefined;
    if (unanswered) {
      const rows = ctx
        .stmt("SELECT * FROM sync_queue WHERE batch_id = ? AND sync_status = 'sent' ORDER BY position")
        .all(unanswered.batch_id) as QueueRow[];
      return { batch_id: unanswered.batch_id, events: rows.map((r) => eventOf(ctx, r)) };
    }
    const rows = ctx.stmt("SELECT * FROM sync_queue WHERE sync_status = 'pending' ORDER BY position LIMIT ?").all(maxEvents) as QueueRow[];
    if (rows.length === 0) return null;
    const events: SyncEvent[] = [];
    let bytes = BATCH_ENVELOPE_BYTES;
    for (const row of rows) {
      const event = eventOf(ctx, row);
      const size = utf8ByteLength(JSON.stringify(event)) + 1;
      if (events.length > 0 && bytes + size > FRAME_LIMIT_BYTES) break;
      events.push(event);
      bytes += size;
    }
    const batch_id = newId(ctx);
    const at = nowIso(ctx);
    const mark = ctx.stmt("UPDATE sync_queue SET sync_status = 'sent', batch_id = ?, sent_at = ? WHERE id = ?");
    for (const e of events) mark.run(batch_id, at, e.id);
    audit(ctx, "push", `batch ${batch_id}: ${events.length} event(s)`);
    return { batch_id, events };
  })();
}

export interface VerdictSummary {
  confirmed: number;
  rejected: number;
  /** Events of `batchId` still without a verdict. */
  open_in_batch: number;
}

/** Applies verdicts in one transaction. Verdicts for events already decided are ignored. */
export function applyVerdicts(ctx: StoreContext, batchId: string, verdicts: readonly Verdict[]): VerdictSummary {
  return ctx.db.transaction((): VerdictSummary => {
    let confirmed = 0;
    let rejected = 0;
    for (const verdict of verdicts) {
      const row = ctx.stmt("SELECT * FROM sync_queue WHERE id = ?").get(verdict.event_id) as QueueRow | undefined;
      if (!row || row.sync_status === "confirmed" || row.sync_status === "rejected") continue;
      if (verdict.status === "confirmed") {
        confirm(ctx, row, verdict.seq, verdict.version, verdict.official_receipt_no);
        confirmed++;
      } else {
        reject(ctx, row, verdict.code, verdict.message, verdict.server_entity);
        rejected++;
      }
    }
    const open = ctx.stmt("SELECT COUNT(*) AS n FROM sync_queue WHERE batch_id = ? AND sync_status IN ('pending', 'sent')").get(batchId) as { n: number };
    return { confirmed, rejected, open_in_batch: open.n };
  })();
}

function confirm(ctx: StoreContext, row: QueueRow, seq: number, version: number, receipt: number | null): void {
  ctx
    .stmt("UPDATE sync_queue SET sync_status = 'confirmed', seq = ?, version = ?, official_receipt_no = ?, decided_at = ? WHERE id = ?")
    .run(seq, version, receipt, nowIso(ctx), row.id);
  // Fold the event into the base if the base is exactly its predecessor: the server applied the same
  // function to the same entity, so this is the server's result. Otherwise the change stream brings it.
  const base = readBase(ctx, row.entity_id);
  let folded: Entity | undefined;
  if ((base?.version ?? 0) === version - 1) {
    const { device_id, user_id } = ctx.config();
    const next = applyEvent(base, typedEventOf(ctx, row), { version, seq, device_id, user_id, official_receipt_no: receipt });
    if (next.ok && writeBase(ctx, next.value)) {
      recordPosFacts(ctx, next.value, row.operation, device_id, seq);
      folded = next.value;
    }
  }
  refreshView(ctx, row.entity_id, folded);
  log(ctx, "confirmed", `seq ${seq}, version ${version}${receipt ? `, official receipt ${receipt}` : ""}`, row);
}

function reject(ctx: StoreContext, row: QueueRow, code: string, message: string, serverEntity: Entity | null): void {
  ctx
    .stmt("UPDATE sync_queue SET sync_status = 'rejected', reject_code = ?, reject_message = ?, decided_at = ? WHERE id = ?")
    .run(code, message, nowIso(ctx), row.id);
  // Server wins (I7): the entity goes back to server truth.
  if (serverEntity) writeBase(ctx, serverEntity);
  const needsManager = row.entity_type === "pos_order" && row.operation === "create" ? 1 : 0;
  ctx
    .stmt(
      `INSERT OR IGNORE INTO conflicts (event_id, entity_type, entity_id, operation, code, message, local_payload, server_entity, needs_manager, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(row.id, row.entity_type, row.entity_id, row.operation, code, message, row.payload_json, serverEntity ? JSON.stringify(serverEntity) : null, needsManager, nowIso(ctx));
  log(ctx, "rejected", `${code}: ${message}`, row);
  audit(ctx, "conflict_shown", `${row.entity_type} ${row.entity_id}: ${code}: ${message}`);
  // Later local events built on this one can never apply: reject them the same way, now.
  const dependents = ctx
    .stmt("SELECT * FROM sync_queue WHERE depends_on = ? AND sync_status IN ('pending', 'sent')")
    .all(row.id) as QueueRow[];
  for (const dependent of dependents) {
    reject(ctx, dependent, "depends_on_rejected", "This change built on an earlier change that was rejected", serverEntity ?? readBase(ctx, row.entity_id));
  }
  refreshView(ctx, row.entity_id);
}

/** POS facts for the ledger, exactly as the server records them (append-only, idempotent). */
function recordPosFacts(ctx: StoreContext, entity: Entity, operation: string, deviceId: string, seq: number): void {
  if (entity.entity_type !== "pos_order") return;
  if (operation === "create") {
    const o = entity.data;
    ctx
      .stmt(
        `INSERT OR IGNORE INTO pos_orders (entity_id, official_receipt_no, kind, corrects_order_id, local_receipt_no, device_id, currency,
           total_minor, business_day, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(entity.entity_id, entity.official_receipt_no, o.kind, o.corrects_order_id, o.local_receipt_no, deviceId, o.currency, o.total_minor, businessDay(o.rung_at, branchTimeZone(ctx)), seq);
  } else if (operation === "void") {
    ctx.stmt("INSERT OR IGNORE INTO pos_voids (entity_id, seq) VALUES (?, ?)").run(entity.entity_id, seq);
  }
}

export function cursor(ctx: StoreContext): number {
  const row = ctx.stmt("SELECT value FROM sync_state WHERE key = 'cursor'").get() as { value: string } | undefined;
  return row ? Number(row.value) : 0;
}

/**
 * Applies consecutive server changes in one transaction and moves the cursor with them. Stops at
 * the first change that does not continue the cursor (returns how many were applied).
 */
export function applyChanges(ctx: StoreContext, changes: readonly Change[]): { applied: number; cursor: number } {
  return ctx.db.transaction(() => {
    let at = cursor(ctx);
    let applied = 0;
    for (const change of changes) {
      if (change.seq <= at) continue; // already applied (a live change that raced a pull)
      if (change.seq !== at + 1) break;
      const wrote = writeBase(ctx, change.entity);
      recordPosFacts(ctx, change.entity, change.operation, change.device_id, change.seq);
      // Our own event, whose verdict we never saw (lost in a crash or a cut): the commit proves it.
      const own = ctx.stmt("SELECT * FROM sync_queue WHERE id = ? AND sync_status IN ('pending', 'sent')").get(change.event_id) as QueueRow | undefined;
      if (own) {
        ctx
          .stmt("UPDATE sync_queue SET sync_status = 'confirmed', seq = ?, version = ?, official_receipt_no = ?, decided_at = ? WHERE id = ?")
          .run(change.seq, change.entity.version, change.entity.entity_type === "pos_order" && change.operation === "create" ? change.entity.official_receipt_no : null, nowIso(ctx), own.id);
        log(ctx, "confirmed", `seq ${change.seq} (from the change stream)`, own);
      }
      // The view is base ⊕ open events: when neither moved (our own commit, already folded in by its
      // verdict), it is already right.
      if (wrote || own) refreshView(ctx, change.entity_id, wrote ? change.entity : undefined);
      at = change.seq;
      applied++;
    }
    ctx.stmt("INSERT OR REPLACE INTO sync_state (key, value) VALUES ('cursor', ?)").run(String(at));
    return { applied, cursor: at };
  })();
}
