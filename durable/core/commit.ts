/**
 * Carrying a decision out, inside the push's transaction: a commit writes the entity version, the
 * log row, the POS facts and the confirmation; a rejection decided for good is stored (I3), kept for
 * the dashboard (rejections.ts) and audited (I10). This module owns the POS tables (`pos_orders`, `pos_voids`).
 */
import { businessDay, changedFields, type Entity, type TypedEvent } from "../../domain/index.js";
import { type Change, type ConfirmedVerdict, type RejectedVerdict } from "../../protocol/index.js";
import type { Actor } from "./actor.js";
import { recordAudit } from "./audit.js";
import { type Rejection, rejectedVerdict } from "./decide.js";
import { readEntity } from "./entity-store.js";
import { lastChangeOf, REASON_AUDIT_PREFIX } from "./last-change.js";
import { changeJson, deltaChangeJson, type LoggedChange } from "./log.js";
import { entityDelta } from "../../protocol/delta.js";
import type { PushStorage } from "./push-storage.js";
import { ledgerAddOrder, ledgerAddVoid } from "./ledger-days.js";
import { recordRejectionRow } from "./rejections.js";
import type { SqlStore } from "./sql.js";
import { recordRejected, REJECTIONS_WITH_ENTITY } from "./verdicts.js";

/**
 * The longest delta kept with a log row. Every log row of a batch is written in one statement whose
 * JSON a Durable Object caps at 2 MB (push-storage.ts counts deltas against the batch's budget); a
 * longer delta saves little against an entity that large, which is then sent whole.
 */
export const MAX_DELTA_CHARS = 128 * 1024;

export interface CommitContext {
  sql: SqlStore;
  actor: Actor;
  /** Server clock, ms since epoch. Used for `committed_at` and audit times only, never for order. */
  nowMs: number;
  /** The branch's time zone: a POS order's business day is the day of its `rung_at` there (I13). */
  timeZone: string;
}

/**
 * `text` is the entity as JSON (JSON.stringify(entity)): stored as it is, and spliced into the
 * change's text. The entity version and the log row go through the push's storage
 * (written with the batch's other commits); everything else through `ctx.sql`, which is its `sql`.
 * `base` is the version the commit was made of (null for a create): the delta v9 devices are sent
 * (protocol/delta.ts) is made against it and kept with the log row when it is smaller than `text`.
 */
export function commitEvent(ctx: CommitContext, storage: PushStorage, event: TypedEvent, entity: Entity, seq: number, text: string, base: Entity | null = null): { verdict: ConfirmedVerdict; logged: LoggedChange } {
  const { sql, actor } = ctx;
  const at = new Date(ctx.nowMs).toISOString();
  const change = {
    seq,
    event_id: event.id,
    device_id: actor.device_id,
    user_id: actor.user_id,
    entity_type: event.entity_type,
    entity_id: event.entity_id,
    operation: event.operation,
    changed_fields: changedFields(event),
    entity,
    committed_at: at,
  } satisfies Change;
  const fieldsJson = JSON.stringify(change.changed_fields);
  const delta = event.operation === "create" ? null : entityDelta(base, entity);
  const deltaText = delta === null ? null : JSON.stringify(delta);
  // Kept when it says less than the entity, and is short enough to wait in one SQLite value with the
  // batch's other log rows (push-storage.ts): a delta that replaces most of a huge selection is sent whole.
  const kept = deltaText !== null && deltaText.length < text.length && deltaText.length <= MAX_DELTA_CHARS ? deltaText : null;
  storage.commit(change, text, fieldsJson, kept);
  const logged: LoggedChange = { change, json: changeJson(change, fieldsJson, text), deltaJson: kept === null ? null : deltaChangeJson(change, fieldsJson, kept) };
  let receipt: number | null = null;
  if (entity.entity_type === "pos_order" && event.entity_type === "pos_order") {
    if (event.operation === "create") {
      const order = event.payload;
      receipt = entity.official_receipt_no;
      sql.run(
        `INSERT INTO pos_orders (entity_id, official_receipt_no, kind, corrects_order_id, local_receipt_no, device_id,
           user_id, currency, total_minor, business_day, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        entity.entity_id,
        receipt,
        order.kind,
        order.corrects_order_id,
        order.local_receipt_no,
        actor.device_id,
        actor.user_id,
        order.currency,
        order.total_minor,
        // The branch's calendar day at the instant the sale was rung, whatever the till's zone (I13).
        businessDay(order.rung_at, ctx.timeZone),
        seq,
      );
      ledgerAddOrder(sql, { day: businessDay(order.rung_at, ctx.timeZone), device_id: actor.device_id, currency: order.currency, kind: order.kind, total_minor: order.total_minor });
      if (order.kind === "correction") {
        recordAudit(sql, at, {
          ...auditSubject(actor, event),
          kind: "correction",
          message: `correction ${order.local_receipt_no} of ${order.corrects_order_id}: ${order.total_minor} ${order.currency} (${order.reason})`,
        });
      }
    } else {
      sql.run(
        "INSERT INTO pos_voids (entity_id, reason, device_id, user_id, seq) VALUES (?, ?, ?, ?, ?)",
        entity.entity_id,
        event.payload.reason,
        actor.device_id,
        actor.user_id,
        seq,
      );
      ledgerAddVoid(sql, entity.entity_id);
      recordAudit(sql, at, { ...auditSubject(actor, event), kind: "void", message: `${REASON_AUDIT_PREFIX.pos_void}${event.payload.reason}` });
    }
  } else if (event.operation === "void") {
    recordAudit(sql, at, { ...auditSubject(actor, event), kind: "void", message: `${REASON_AUDIT_PREFIX.invoice_void}${event.payload.reason}` });
  } else if (event.operation === "delete") {
    recordAudit(sql, at, { ...auditSubject(actor, event), kind: "delete", message: `${REASON_AUDIT_PREFIX.project_delete}${event.payload.reason}` });
  }
  let invoiceNo: number | null = null;
  if (entity.entity_type === "invoice" && entity.official_invoice_no !== undefined && !invoiceNumbered(sql, entity.entity_id)) {
    // This commit issued it: the number is taken for good (gap-free, in commit order), and the verdict says so.
    invoiceNo = entity.official_invoice_no;
    sql.run("INSERT INTO invoice_numbers (official_invoice_no, entity_id, seq) VALUES (?, ?, ?)", invoiceNo, entity.entity_id, seq);
  }
  const verdict: ConfirmedVerdict = {
    event_id: event.id,
    status: "confirmed",
    seq,
    entity_id: event.entity_id,
    version: entity.version,
    official_receipt_no: receipt,
    official_invoice_no: invoiceNo,
  };
  // Nothing more is stored for the verdict: the change row and the POS and invoice rows above are it (verdicts.ts).
  return { verdict, logged };
}

const invoiceNumbered = (sql: SqlStore, entityId: string) => sql.one("SELECT 1 AS n FROM invoice_numbers WHERE entity_id = ?", entityId) !== undefined;

/** A rejection decided for good: stored (I3), kept for the dashboard, audited (I10), returned. */
export function recordRejection(ctx: CommitContext, rejection: Rejection): RejectedVerdict {
  const { sql, actor } = ctx;
  const at = new Date(ctx.nowMs).toISOString();
  const serverEntity = entityToSendBack(sql, rejection);
  const named = typeof rejection.event.entity_id === "string" ? rejection.event.entity_id : "";
  // The server's version is kept for every rejection of an entity that exists, sent back or not, so
  // a replay says the same (verdicts.ts). Who made it (protocol v5's last_change) travels with the
  // entity it explains and under the same rule (REJECTIONS_WITH_ENTITY): a refusal that sends no
  // entity (permission_denied above all) sends no last_change either, so a hostile push gets no more back.
  const serverVersion = serverEntity?.version ?? (rejection.about === "event" ? rejection.serverVersion : null);
  const entityId = serverEntity?.entity_id ?? named;
  const verdict: RejectedVerdict = {
    ...rejectedVerdict(rejection, serverEntity),
    last_change: serverEntity === null ? null : lastChangeOf(sql, entityId, serverEntity.version),
  };
  recordRejected(sql, verdict, actor.device_id, entityId, serverVersion, at);
  recordRejectionRow(sql, at, actor, rejection, verdict.message);
  recordAudit(sql, at, {
    ...auditSubject(actor, rejection.event),
    kind: rejection.facts.code === "permission_denied" ? "permission_denied" : "rejection",
    code: rejection.facts.code,
    message: verdict.message,
  });
  return verdict;
}

/** A rejection that is not stored (the event id is not this device's to decide): only answered. */
export function answerRejection(rejection: Rejection): RejectedVerdict {
  return { ...rejectedVerdict(rejection, null), last_change: null };
}

/** Only the rejections that put the device back to server truth carry the entity (protocol v3). */
function entityToSendBack(sql: SqlStore, rejection: Rejection): Entity | null {
  if (rejection.about === "unread" || !REJECTIONS_WITH_ENTITY.has(rejection.facts.code)) return null;
  return rejection.current ?? readEntity(sql, rejection.event.entity_id);
}

/** Who did it and to what, for the audit: what the event said, even when it could not be read as an event. */
const auditSubject = (actor: Actor, event: { id: string; entity_type?: unknown; entity_id?: unknown }) => ({
  device_id: actor.device_id,
  user_id: actor.user_id,
  role: actor.role,
  event_id: event.id,
  entity_type: typeof event.entity_type === "string" ? event.entity_type : null,
  entity_id: typeof event.entity_id === "string" ? event.entity_id : null,
});
