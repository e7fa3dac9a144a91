/**
 * Push: one ordered admit → persist → publish operation per batch.
 *
 * Every event of a batch is decided in order inside ONE storage transaction, so a batch is
 * all-or-nothing with respect to crashes, and no other commit can interleave with it. Each event
 * gets its own verdict (I2); a rejection is a value and never aborts the rest of the batch.
 *
 * Per event, in this order (docs/protocol.md §"Server processing order"):
 *   stored verdict? → size → envelope → device → operation defined → payload → permission →
 *   dependency → existence → version → entity rules and references → commit.
 */
import {
  applyEvent,
  stateRejection,
  canWrite,
  changedFields,
  type Change,
  type ConfirmedVerdict,
  type DeviceId,
  type Entity,
  type EventRejection,
  MAX_EVENT_BYTES,
  parseEventBody,
  type RejectCode,
  type RejectDetail,
  type RejectedVerdict,
  rejectMessage,
  type Role,
  SyncEvent,
  type TypedEvent,
  type UserId,
  utf8ByteLength,
  type Verdict,
  issueDetail,
  businessDay,
} from "../../schema/index.js";
import { assert } from "../../schema/result.js";
import { recordAudit } from "./audit.js";
import { entityHead, readEntity, readEntityVersion, writeEntity } from "./entity-store.js";
import { headSeq } from "./log.js";
import type { SqlStore } from "./sql.js";

/** Who is pushing, from the verified device token. */
export interface Actor {
  device_id: DeviceId;
  user_id: UserId;
  role: Role;
}

export interface PushContext {
  sql: SqlStore;
  /** Server clock, ms since epoch. Used for `committed_at` and audit times only, never for order. */
  nowMs: number;
  actor: Actor;
  /** The branch's time zone: a POS order's business day is the day of its `rung_at` there (I13). */
  timeZone: string;
}

export interface PushOutcome {
  verdicts: Verdict[];
  /** What was committed, in seq order: published to live connections after the transaction. */
  changes: Change[];
}

interface VerdictRow {
  event_id: string;
  device_id: string;
  entity_id: string;
  status: "confirmed" | "rejected";
  seq: number | null;
  version: number | null;
  official_receipt_no: number | null;
  code: RejectCode | null;
  message: string | null;
  detail: string | null;
  server_version: number | null;
}

/** The stored verdict of an event, rebuilt exactly as first given (versions are immutable). */
export function storedVerdict(sql: SqlStore, eventId: string): Verdict | null {
  const row = sql.one<VerdictRow>("SELECT * FROM verdicts WHERE event_id = ?", eventId);
  return row ? verdictFromRow(sql, row) : null;
}

function verdictFromRow(sql: SqlStore, row: VerdictRow): Verdict {
  if (row.status === "confirmed") {
    return {
      event_id: row.event_id,
      status: "confirmed",
      seq: row.seq!,
      entity_id: row.entity_id,
      version: row.version!,
      official_receipt_no: row.official_receipt_no,
    } as ConfirmedVerdict;
  }
  return {
    event_id: row.event_id,
    status: "rejected",
    code: row.code!,
    message: row.message!,
    detail: row.detail === null ? null : (JSON.parse(row.detail) as RejectDetail),
    // Rows stored before protocol v3 kept a version for every rejection: the rule applies on the way out too.
    server_entity: row.server_version === null || !REJECTIONS_WITH_ENTITY.has(row.code!) ? null : readEntityVersion(sql, row.entity_id, row.server_version),
  } as RejectedVerdict;
}

/**
 * Every event gets its verdict whatever it contains (I2, I12). A batch is decided in one transaction.
 * If deciding an event throws (a bug, or an input no rule foresaw), the whole transaction rolls back
 * and the batch is decided again with that event judged `invalid_payload` up front, stored like any
 * rejection: the rest of the batch is decided as usual and the device is never stuck behind it. An
 * event whose rejection cannot even be stored gets an answer that is not stored. Each retry judges
 * one more event, so a batch is tried at most twice its length; the common path pays nothing (a
 * savepoint per event cost ~9% of the push path).
 */
export function pushBatch(ctx: PushContext, rawEvents: ReadonlyArray<{ id: string } & Record<string, unknown>>): PushOutcome {
  const poisoned = new Map<number, Poisoned>();
  for (;;) {
    try {
      return ctx.sql.transaction(() => decideBatch(ctx, rawEvents, poisoned));
    } catch (error) {
      if (!(error instanceof PoisonEvent)) throw error;
      const before = poisoned.get(error.index);
      assert(before?.recordable !== false, "a transient rejection cannot throw");
      poisoned.set(error.index, { detail: before?.detail ?? error.detail, recordable: before === undefined });
    }
  }
}

interface Poisoned {
  detail: RejectDetail;
  /** false after storing its rejection threw too: answered, not stored. */
  recordable: boolean;
}

class PoisonEvent extends Error {
  constructor(
    readonly index: number,
    readonly detail: RejectDetail,
  ) {
    super(`event ${index} could not be decided`);
  }
}

function decideBatch(ctx: PushContext, rawEvents: ReadonlyArray<{ id: string } & Record<string, unknown>>, poisoned: ReadonlyMap<number, Poisoned>): PushOutcome {
  const verdicts: Verdict[] = [];
  const changes: Change[] = [];
  // One copy of each entity version per push (I12): ten rejected edits of one 5 MB project carry
  // the project once, in the first of them; the device applies verdicts in order and keeps it.
  const sent = new Set<string>();
  rawEvents.forEach((raw, index) => {
    const poison = poisoned.get(index);
    let decided: { verdict: Verdict; change?: Change };
    try {
      decided = poison === undefined ? decide(ctx, raw) : poison.recordable ? rejectAndRecord(ctx, raw, null, "invalid_payload", poison.detail) : { verdict: transientReject(raw, "invalid_payload", poison.detail, ctx.actor.role) };
    } catch (error) {
      throw new PoisonEvent(index, { field: null, expected: null, received: `the server could not process this change (${String(error).slice(0, 300)})` });
    }
    verdicts.push(onceEach(decided.verdict, sent));
    if (decided.change) changes.push(decided.change);
  });
  return { verdicts, changes };
}

function onceEach(verdict: Verdict, sent: Set<string>): Verdict {
  if (verdict.status !== "rejected" || verdict.server_entity === null) return verdict;
  const key = `${verdict.server_entity.entity_id}@${verdict.server_entity.version}`;
  if (!sent.has(key)) {
    sent.add(key);
    return verdict;
  }
  return { ...verdict, server_entity: null };
}

/**
 * The rejections whose device needs the server's entity to put its copy back to server truth (I7):
 * the entity moved on, was deleted or voided, or already existed. Every other rejection (permission,
 * shape, size, POS rules, references) leaves the device's base as it was: it carries no entity, so a
 * small hostile push cannot make the server send megabytes back (I12).
 */
export const REJECTIONS_WITH_ENTITY: ReadonlySet<RejectCode> = new Set([
  "entity_exists",
  "entity_deleted",
  "entity_voided",
  "version_conflict",
  "depends_on_rejected",
  "already_voided",
]);

function decide(ctx: PushContext, raw: { id: string } & Record<string, unknown>): { verdict: Verdict; change?: Change } {
  const { sql, actor } = ctx;
  const previous = sql.one<VerdictRow>("SELECT * FROM verdicts WHERE event_id = ?", raw.id);
  if (previous) {
    // Exactly-once (I3): the same event id always gets the same verdict and commits nothing more.
    // An id first used by another device is not that device's to replay.
    if (previous.device_id !== actor.device_id) {
      return { verdict: transientReject(raw, "device_mismatch", { field: "id", expected: null, received: "event id belongs to another device" }, actor.role) };
    }
    return { verdict: verdictFromRow(sql, previous) };
  }

  const bytes = utf8ByteLength(JSON.stringify(raw));
  if (bytes > MAX_EVENT_BYTES) {
    return rejectAndRecord(ctx, raw, null, "payload_too_large", { field: null, expected: MAX_EVENT_BYTES, received: bytes });
  }
  const envelope = SyncEvent.safeParse(raw);
  if (!envelope.success) return rejectAndRecord(ctx, raw, null, "invalid_payload", issueDetail(envelope.error));
  const event = envelope.data;
  if (event.device_id !== actor.device_id) {
    return rejectAndRecord(ctx, event, null, "device_mismatch", { field: "device_id", expected: actor.device_id, received: event.device_id });
  }
  const body = parseEventBody(event);
  if (!body.ok) return rejectAndRecord(ctx, event, null, body.error.code, body.error.detail);
  const typed = body.value;

  const current = readEntity(sql, typed.entity_id);

  // Dependency (I7), before permission: a chain of local edits applies only on top of its own
  // predecessor, and a device rejects the dependents of a rejected event itself, at once, as
  // depends_on_rejected (they can never apply). The server must give them that same verdict whatever
  // else it would say about them (a role lowered meanwhile, say), or device and server would hold
  // different verdicts for one event (found by the simulation, seeds 247 and 1882).
  let expectedVersion = typed.base_version;
  if (typed.depends_on !== null) {
    const dep = sql.one<VerdictRow>("SELECT * FROM verdicts WHERE event_id = ?", typed.depends_on);
    if (!dep) return rejectAndRecord(ctx, typed, current, "depends_on_unknown", { field: "depends_on", expected: null, received: typed.depends_on });
    if (dep.entity_id !== typed.entity_id) {
      return rejectAndRecord(ctx, typed, current, "invalid_payload", {
        field: "depends_on",
        expected: typed.entity_id,
        received: `an event on ${dep.entity_id}`,
      });
    }
    if (dep.status === "rejected") {
      return rejectAndRecord(ctx, typed, current, "depends_on_rejected", { field: "depends_on", expected: "confirmed", received: dep.code });
    }
    expectedVersion = dep.version;
  }

  if (!canWrite(actor.role, typed.entity_type, typed.operation)) {
    return rejectAndRecord(ctx, typed, current, "permission_denied", { field: "role", expected: null, received: actor.role });
  }

  // State before version: an edit of a deleted project is "deleted remotely", not a conflict.
  const refused = stateRejection(current, typed);
  if (refused) return rejectAndRecord(ctx, typed, current, refused.code, refused.detail);
  if (typed.operation !== "create" && expectedVersion !== current!.version) {
    return rejectAndRecord(ctx, typed, current, "version_conflict", {
      field: "base_version",
      // What the server expected the base to be (its current version), and what the event brought.
      expected: current!.version,
      received: expectedVersion,
    });
  }

  const reference = checkReferences(sql, typed);
  if (reference) return rejectAndRecord(ctx, typed, current, reference.code, reference.detail);

  const seq = headSeq(sql) + 1;
  const officialReceiptNo =
    typed.entity_type === "pos_order" && typed.operation === "create"
      ? (sql.one<{ n: number | null }>("SELECT MAX(official_receipt_no) AS n FROM pos_orders")?.n ?? 0) + 1
      : null;
  const next = applyEvent(current, typed, {
    version: (current?.version ?? 0) + 1,
    seq,
    device_id: actor.device_id,
    user_id: actor.user_id,
    official_receipt_no: officialReceiptNo,
  });
  if (!next.ok) return rejectAndRecord(ctx, typed, current, next.error.code, next.error.detail);
  // A patch can grow an entity past what one event may carry; every stored entity stays within
  // MAX_EVENT_BYTES so that any change or verdict fits a chunked transfer (MAX_ASSEMBLED_MESSAGE_BYTES).
  const text = JSON.stringify(next.value);
  const entityBytes = utf8ByteLength(text);
  if (entityBytes > MAX_EVENT_BYTES) {
    return rejectAndRecord(ctx, typed, current, "payload_too_large", { field: "entity", expected: MAX_EVENT_BYTES, received: entityBytes });
  }

  return commit(ctx, typed, next.value, seq, text);
}

/** References to other entities: a correction's original order, an invoice's project. */
function checkReferences(sql: SqlStore, event: TypedEvent): EventRejection | null {
  if (event.entity_type === "pos_order" && event.operation === "create" && event.payload.kind === "correction") {
    const originalId = event.payload.corrects_order_id!;
    const original = readEntity(sql, originalId);
    if (original === null || original.entity_type !== "pos_order") {
      return { code: "reference_not_found", detail: { field: "corrects_order_id", expected: null, received: originalId } };
    }
    if (original.void !== null) {
      return { code: "reference_invalid", detail: { field: "corrects_order_id", expected: null, received: "that order was voided" } };
    }
    if (original.data.currency !== event.payload.currency) {
      return { code: "reference_invalid", detail: { field: "currency", expected: original.data.currency, received: event.payload.currency } };
    }
  }
  if (event.entity_type === "invoice" && (event.operation === "create" || event.operation === "update")) {
    const projectId = event.payload.project_id;
    if (projectId !== undefined && projectId !== null) {
      const head = entityHead(sql, projectId);
      if (!head || head.entity_type !== "project") {
        return { code: "reference_not_found", detail: { field: "project_id", expected: null, received: projectId } };
      }
      if (head.deleted) {
        return { code: "reference_invalid", detail: { field: "project_id", expected: null, received: "that project was deleted" } };
      }
    }
  }
  return null;
}

function commit(ctx: PushContext, event: TypedEvent, entity: Entity, seq: number, text: string): { verdict: Verdict; change: Change } {
  const { sql, actor } = ctx;
  const at = new Date(ctx.nowMs).toISOString();
  const fields = changedFields(event);
  writeEntity(sql, entity, seq, text);
  sql.run(
    `INSERT INTO changes (seq, event_id, device_id, user_id, entity_type, entity_id, operation, changed_fields, version, committed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    seq,
    event.id,
    actor.device_id,
    actor.user_id,
    event.entity_type,
    event.entity_id,
    event.operation,
    JSON.stringify(fields),
    entity.version,
    at,
  );
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
      if (order.kind === "correction") {
        recordAudit(sql, at, {
          ...auditActor(actor, event),
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
      recordAudit(sql, at, { ...auditActor(actor, event), kind: "void", message: `POS order voided: ${event.payload.reason}` });
    }
  } else if (event.operation === "void") {
    recordAudit(sql, at, { ...auditActor(actor, event), kind: "void", message: `invoice voided: ${event.payload.reason}` });
  } else if (event.operation === "delete") {
    recordAudit(sql, at, { ...auditActor(actor, event), kind: "delete", message: `project deleted: ${event.payload.reason}` });
  }
  const verdict: ConfirmedVerdict = {
    event_id: event.id,
    status: "confirmed",
    seq,
    entity_id: event.entity_id,
    version: entity.version,
    official_receipt_no: receipt,
  };
  sql.run(
    `INSERT INTO verdicts (event_id, device_id, entity_id, status, seq, version, official_receipt_no, decided_at)
     VALUES (?, ?, ?, 'confirmed', ?, ?, ?, ?)`,
    event.id,
    actor.device_id,
    event.entity_id,
    seq,
    entity.version,
    receipt,
    at,
  );
  const change: Change = {
    seq,
    event_id: event.id,
    device_id: actor.device_id,
    user_id: actor.user_id,
    entity_type: event.entity_type,
    entity_id: event.entity_id,
    operation: event.operation,
    changed_fields: fields,
    entity,
    committed_at: at,
  } as Change;
  return { verdict, change };
}

const auditActor = (actor: Actor, event: { id: string; entity_type?: unknown; entity_id?: unknown }) => ({
  device_id: actor.device_id,
  user_id: actor.user_id,
  role: actor.role,
  event_id: event.id,
  entity_type: typeof event.entity_type === "string" ? event.entity_type : null,
  entity_id: typeof event.entity_id === "string" ? event.entity_id : null,
});

/** A rejection that is decided for good: stored (I3), audited (I10), returned. */
function rejectAndRecord(
  ctx: PushContext,
  event: { id: string } & Record<string, unknown>,
  current: Entity | null,
  code: RejectCode,
  detail: RejectDetail | null,
): { verdict: Verdict } {
  const { sql, actor } = ctx;
  const at = new Date(ctx.nowMs).toISOString();
  // Only the rejections that put the device back to server truth carry the entity (protocol v3).
  if (!REJECTIONS_WITH_ENTITY.has(code)) current = null;
  else if (current === null && typeof event.entity_id === "string" && event.entity_id.length <= 36) {
    current = readEntity(sql, event.entity_id);
  }
  const verdict = buildRejection(event, current, code, detail, actor.role);
  const entityId = typeof event.entity_id === "string" ? event.entity_id : "";
  sql.run(
    `INSERT INTO verdicts (event_id, device_id, entity_id, status, code, message, detail, server_version, decided_at)
     VALUES (?, ?, ?, 'rejected', ?, ?, ?, ?, ?)`,
    event.id,
    actor.device_id,
    current?.entity_id ?? entityId,
    code,
    verdict.message,
    detail === null ? null : JSON.stringify(detail),
    current?.version ?? null,
    at,
  );
  recordAudit(sql, at, {
    ...auditActor(actor, event),
    kind: code === "permission_denied" ? "permission_denied" : "rejection",
    code,
    message: verdict.message,
  });
  return { verdict };
}

/** A rejection that is not stored, because the event id is not this device's to decide. */
function transientReject(event: { id: string } & Record<string, unknown>, code: RejectCode, detail: RejectDetail, role: string): RejectedVerdict {
  return buildRejection(event, null, code, detail, role);
}

function buildRejection(
  event: { id: string } & Record<string, unknown>,
  current: Entity | null,
  code: RejectCode,
  detail: RejectDetail | null,
  role: string,
): RejectedVerdict {
  const entityType = event.entity_type === "invoice" || event.entity_type === "pos_order" ? event.entity_type : "project";
  const operation =
    event.operation === "update" || event.operation === "void" || event.operation === "delete" ? event.operation : "create";
  return {
    event_id: event.id,
    status: "rejected",
    code,
    message: rejectMessage(code, { entity_type: entityType, operation, role, detail }),
    detail,
    server_entity: current,
  } as RejectedVerdict;
}
