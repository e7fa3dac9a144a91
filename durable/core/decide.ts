/**
 * The decision on one pushed event: commit it, reject it, or replay the verdict it already has.
 * Reads storage, writes nothing: commit.ts carries a decision out, push.ts orders the batch.
 *
 * Per event, in this order (docs/protocol.md §"Server processing order"):
 *   stored verdict? → size → envelope → device → operation defined → payload → dependency →
 *   permission → existence → lease (v7) → version → entity rules and references → commit.
 */
import { applyEvent, canWrite, type Entity, fromEventRejection, type LeaseKey, touchedLeases, invalidPayload, messageOf, parseEventBody, decodeEnvelope, reject, type RejectFacts, type RejectSubject, stateRejection, type SubjectlessRejectCode, type SyncEvent, type TypedEvent } from "../../domain/index.js";
import { type Lease, MAX_EVENT_BYTES, type PushFrame, type RejectedVerdict, utf8ByteLength, type Verdict } from "../../protocol/index.js";
import { assert, unreachable } from "../../lib/result.js";
import type { Actor } from "./actor.js";
import { entityHead, readEntity } from "./entity-store.js";
import type { SqlStore } from "./sql.js";
import type { PushStorage } from "./push-storage.js";
import { verdictFromRecord } from "./verdicts.js";

/** An event as a push frame carries it: a valid event id, everything else still unread. */
export type PushedEvent = PushFrame["events"][number];

/**
 * The codes an event can get before its envelope is read: none of them depends on what it is about,
 * so none takes a subject (domain/reject-codes.ts SUBJECTLESS_REJECT_CODES).
 */
export type UnreadRejectCode = Extract<SubjectlessRejectCode, "invalid_payload" | "payload_too_large" | "device_mismatch">;

/**
 * Why an event is rejected, and about what. An event whose envelope was read carries any code (its
 * facts name the entity type and operation where the message does); one that could not be read
 * carries only what it was sent as, and a code whose message names no subject.
 */
/** The official receipt number the next POS sale or correction gets (gapless per branch): one more than the
 * highest in `pos_orders`, which only commit.ts writes, in the same transaction as the commit. */
export function nextOfficialReceiptNo(sql: SqlStore): number {
  return (sql.one<{ n: number | null }>("SELECT MAX(official_receipt_no) AS n FROM pos_orders")?.n ?? 0) + 1;
}

/**
 * The official number the next invoice to be issued gets (gap-free per branch, in commit order): one
 * more than the highest in `invoice_numbers`, which only commit.ts writes, in the commit's transaction.
 */
export function nextOfficialInvoiceNo(sql: SqlStore): number {
  return (sql.one<{ n: number | null }>("SELECT MAX(official_invoice_no) AS n FROM invoice_numbers")?.n ?? 0) + 1;
}

export type Rejection =
  /**
   * `current`: the entity as the server holds it, when deciding read it; `serverVersion`: its version
   * (null: there is none), recorded with every rejection (a replay and the dashboard read it). A
   * refusal made before the entity is read (a dependency's, a permission's) knows the version alone.
   */
  | { about: "event"; event: SyncEvent; facts: RejectFacts; current: Entity | null; serverVersion: number | null }
  | { about: "unread"; event: PushedEvent; facts: RejectFacts<UnreadRejectCode> };

export type Decision =
  /** Exactly-once (I3): the event was decided before; its verdict is given again, nothing is written. */
  | { kind: "replay"; verdict: Verdict }
  | { kind: "commit"; event: TypedEvent; entity: Entity; seq: number; text: string; /** The version it was made of (null for a create). */ base: Entity | null }
  /** `stored`: decided for good (stored, audited); otherwise only answered (the id is not this device's). */
  | { kind: "reject"; rejection: Rejection; stored: boolean };

const refuseKnowing = (event: SyncEvent, current: Entity | null, serverVersion: number | null, facts: RejectFacts): Decision => ({
  kind: "reject",
  rejection: { about: "event", event, facts, current, serverVersion },
  stored: true,
});
const refuse = (event: SyncEvent, current: Entity | null, facts: RejectFacts): Decision => refuseKnowing(event, current, current?.version ?? null, facts);
/** A refusal made before the entity is read: only its version is known (see `decide`). */
const refuseAt = (event: SyncEvent, serverVersion: number | null, facts: RejectFacts): Decision => refuseKnowing(event, null, serverVersion, facts);
const refuseUnread = (event: PushedEvent, facts: RejectFacts<UnreadRejectCode>, stored = true): Decision => ({
  kind: "reject",
  rejection: { about: "unread", event, facts },
  stored,
});

/**
 * How much larger an event can get when the JSON text it was read from is parsed and serialized
 * again: whitespace goes and escapes only shrink or stay, but a number grows to its shortest
 * round-trip form, at most from `1e20` (4 bytes) to 21 digits. So 6 times the text's bytes bound
 * every event in it (test/node/branch/decide.test.ts checks it on arbitrary JSON).
 */
export const JSON_REWRITE_GROWTH = 6;

/**
 * The most bytes an event read from a text of at most `textBytes` can take once serialized. An event
 * of a frame (FRAME_LIMIT_BYTES) can never exceed MAX_EVENT_BYTES, so only the events of a chunked
 * upload are measured one by one.
 */
export const eventBytesAtMost = (textBytes: number): number => textBytes * JSON_REWRITE_GROWTH;

/** What deciding one event of a batch needs besides the event. */
export interface DecideContext {
  /** The push's store (push-storage.ts `sql`). */
  sql: SqlStore;
  /** Answers the reads every event makes (its verdict, its dependency's, its entity) for the batch. */
  storage: Pick<PushStorage, "verdictRecord" | "entity" | "headVersion">;
  actor: Actor;
  /** The seq a commit of this event takes: the push reads the head once per batch and counts its commits. */
  seq: number;
  /**
   * The most bytes any event of the batch can take once serialized (eventBytesAtMost). At most
   * MAX_EVENT_BYTES, no event can be too large and none is serialized to be measured.
   */
  eventBytesAtMost: number;
  /** The lease in force on a guarded group now (core/leases.ts), or null; asked only for the groups an event touches. */
  leaseOn(key: LeaseKey): Lease | null;
}

export function decide(ctx: DecideContext, raw: PushedEvent): Decision {
  const { sql, storage, actor } = ctx;
  const previous = storage.verdictRecord(raw.id);
  if (previous) {
    // Exactly-once (I3): the same event id always gets the same verdict and commits nothing more.
    // An id first used by another device is not that device's to replay.
    if (previous.device_id !== actor.device_id) {
      return refuseUnread(raw, reject("device_mismatch", { field: "id", expected: null, received: raw.id }), false);
    }
    return { kind: "replay", verdict: verdictFromRecord(sql, previous) };
  }

  if (ctx.eventBytesAtMost > MAX_EVENT_BYTES) {
    const bytes = utf8ByteLength(JSON.stringify(raw));
    if (bytes > MAX_EVENT_BYTES) {
      return refuseUnread(raw, reject("payload_too_large", { field: null, expected: MAX_EVENT_BYTES, received: bytes }));
    }
  }
  const envelope = decodeEnvelope(raw);
  if (!envelope.success) return refuseUnread(raw, invalidPayload(envelope.error, raw));
  const event = envelope.data;
  if (event.device_id !== actor.device_id) {
    return refuse(event, null, reject("device_mismatch", { field: "device_id", expected: actor.device_id, received: event.device_id }));
  }
  const body = parseEventBody(event);
  if (!body.ok) return refuse(event, null, fromEventRejection(body.error, event));
  const typed = body.value;
  const subject: RejectSubject = { entity_type: typed.entity_type, operation: typed.operation };

  // The entity's text is read only once the event may write: a refusal before that records the
  // server's version alone (one index probe). A device without the right to edit a project of
  // megabytes (20,000 photos) otherwise made the branch read and parse it for every event it pushed
  // (workload 8, bench/attack.ts: workerd at 592 MB, an honest push's p99 13× its idle p99).
  const serverVersion = () => storage.headVersion(typed.entity_id);

  // Dependency (I7), before permission: a chain of local edits applies only on top of its own
  // predecessor, and a device rejects the dependents of a rejected event itself, at once, as
  // depends_on_rejected (they can never apply). The server must give them that same verdict whatever
  // else it would say about them (a role lowered meanwhile, say), or device and server would hold
  // different verdicts for one event (found by the simulation, seeds 247 and 1882).
  let expectedVersion = typed.base_version;
  if (typed.depends_on !== null) {
    const dep = storage.verdictRecord(typed.depends_on);
    if (!dep) return refuseAt(typed, serverVersion(), reject("depends_on_unknown", { field: "depends_on", expected: null, received: typed.depends_on }));
    if (dep.entity_id !== typed.entity_id) {
      // expected/received: the entity this event is about, and the one its dependency was about.
      return refuseAt(
        typed,
        serverVersion(),
        reject("invalid_payload", { field: "depends_on", expected: typed.entity_id, received: dep.entity_id }, { reason: "it builds on a change to another entity" }),
      );
    }
    switch (dep.status) {
      case "rejected":
        return refuseAt(typed, serverVersion(), reject("depends_on_rejected", { field: "depends_on", expected: "confirmed", received: dep.code }));
      case "confirmed":
        expectedVersion = dep.version;
        break;
      default:
        return unreachable(dep, "dependency verdict");
    }
  }

  if (!canWrite(actor.role, typed.entity_type, typed.operation)) {
    return refuseAt(typed, serverVersion(), reject("permission_denied", { field: "role", expected: null, received: actor.role }, subject));
  }

  const current = storage.entity(typed.entity_id);

  // State before version: an edit of a deleted project is "deleted remotely", not a conflict.
  const refused = stateRejection(current, typed);
  if (refused) return refuse(typed, current, fromEventRejection(refused, typed));
  // A lease another device holds on a group this event touches (v7): the holder is doing that work
  // now, so this change is refused whatever its version; the holder's own changes go through.
  for (const key of touchedLeases(typed)) {
    const lease = ctx.leaseOn(key);
    if (lease !== null && lease.device_id !== actor.device_id) {
      return refuse(typed, current, reject("entity_locked", { field: key.group, expected: lease.device_id, received: actor.device_id }, subject));
    }
  }
  if (typed.operation !== "create") {
    // parseEventBody let through a non-create only with a base version or a dependency, and a
    // dependency that is not confirmed returned above: the event was based on some version.
    assert(expectedVersion !== null && current !== null, "a non-create has a base version and a live entity here");
    if (expectedVersion !== current.version) {
      // What the server expected the base to be (its current version), and what the event brought.
      return refuse(typed, current, reject("version_conflict", { field: "base_version", expected: current.version, received: expectedVersion }, subject));
    }
  }

  const reference = checkReferences(sql, typed, subject);
  if (reference) return refuse(typed, current, reference);

  const seq = ctx.seq;
  const next = applyEvent(current, typed, {
    version: (current?.version ?? 0) + 1,
    seq,
    device_id: actor.device_id,
    user_id: actor.user_id,
    official_receipt_no: typed.entity_type === "pos_order" && typed.operation === "create" ? nextOfficialReceiptNo(sql) : null,
    // Used only if this commit first makes the invoice issued or paid (domain/apply.ts).
    official_invoice_no: typed.entity_type === "invoice" ? nextOfficialInvoiceNo(sql) : null,
  });
  if (!next.ok) return refuse(typed, current, fromEventRejection(next.error, typed));
  // A patch can grow an entity past what one event may carry; every stored entity stays within
  // MAX_EVENT_BYTES so that any change or verdict fits a chunked transfer (MAX_ASSEMBLED_MESSAGE_BYTES).
  const text = JSON.stringify(next.value);
  const entityBytes = utf8ByteLength(text);
  if (entityBytes > MAX_EVENT_BYTES) {
    return refuse(typed, current, reject("payload_too_large", { field: "entity", expected: MAX_EVENT_BYTES, received: entityBytes }));
  }
  return { kind: "commit", event: typed, entity: next.value, seq, text, base: current };
}

/**
 * References to other entities: a correction's original order, an invoice's project. `received` is
 * the id the event names (or, for a currency mismatch, its currency); why it cannot be used is
 * the message's (domain/reject-codes.ts).
 */
function checkReferences(sql: SqlStore, event: TypedEvent, subject: RejectSubject): RejectFacts<"reference_not_found" | "reference_invalid"> | null {
  if (event.entity_type === "pos_order" && event.operation === "create" && event.payload.kind === "correction") {
    const originalId = event.payload.corrects_order_id!;
    const original = readEntity(sql, originalId);
    if (original === null || original.entity_type !== "pos_order") {
      return reject("reference_not_found", { field: "corrects_order_id", expected: null, received: originalId }, subject);
    }
    if (original.void !== null) {
      return reject("reference_invalid", { field: "corrects_order_id", expected: null, received: originalId }, subject);
    }
    if (original.data.currency !== event.payload.currency) {
      return reject("reference_invalid", { field: "currency", expected: original.data.currency, received: event.payload.currency }, subject);
    }
  }
  if (event.entity_type === "invoice" && (event.operation === "create" || event.operation === "update")) {
    const projectId = event.payload.project_id;
    if (projectId !== undefined && projectId !== null) {
      const head = entityHead(sql, projectId);
      if (!head || head.entity_type !== "project") {
        return reject("reference_not_found", { field: "project_id", expected: null, received: projectId }, subject);
      }
      if (head.deleted) {
        return reject("reference_invalid", { field: "project_id", expected: null, received: projectId }, subject);
      }
    }
  }
  return null;
}

/**
 * The wire verdict of a rejection: its code, the message its facts word, and its typed detail.
 * `serverEntity` is the entity the device needs back, if any (commit.ts decides, REJECTIONS_WITH_ENTITY).
 */
export function rejectedVerdict(rejection: Rejection, serverEntity: Entity | null): RejectedVerdict {
  const { facts } = rejection;
  return {
    event_id: rejection.event.id,
    status: "rejected",
    code: facts.code,
    message: messageOf(facts),
    detail: facts.detail,
    server_entity: serverEntity,
  };
}
