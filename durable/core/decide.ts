/**
 * The decision on one pushed event: commit it, reject it, or replay the verdict it already has.
 * Reads storage, writes nothing: commit.ts carries a decision out, push.ts orders the batch.
 *
 * Per event, in this order (docs/protocol.md §"Server processing order"):
 *   stored verdict? → size → envelope → device → operation defined → payload → dependency →
 *   permission → existence → version → entity rules and references → commit.
 */
import { applyEvent, canWrite, type Entity, type EventRejection, issueDetail, parseEventBody, type RejectCode, type RejectDetail, rejectMessage, type Role, stateRejection, SyncEvent, type TypedEvent } from "../../domain/index.js";
import { MAX_EVENT_BYTES, type PushFrame, type RejectedVerdict, utf8ByteLength, type Verdict } from "../../protocol/index.js";
import { unreachable } from "../../lib/result.js";
import type { Actor } from "./actor.js";
import { entityHead, readEntity } from "./entity-store.js";
import { headSeq } from "./log.js";
import { nextOfficialReceiptNo } from "./commit.js";
import type { SqlStore } from "./sql.js";
import { verdictFromRecord, verdictRecord } from "./verdicts.js";

/** An event as a push frame carries it: a valid event id, everything else still unread. */
export type PushedEvent = PushFrame["events"][number];

/** The codes an event can get before its envelope is read: none of them depends on what it is about. */
export type UnreadRejectCode = Extract<RejectCode, "invalid_payload" | "payload_too_large" | "device_mismatch">;

/**
 * Why an event is rejected, and about what. An event whose envelope was read carries its entity type
 * and operation (they word the message); one that could not be read carries only what it was sent
 * as, and a code whose message needs neither.
 */
export type Rejection =
  | { about: "event"; event: SyncEvent; code: RejectCode; detail: RejectDetail | null; current: Entity | null }
  | { about: "unread"; event: PushedEvent; code: UnreadRejectCode; detail: RejectDetail | null };

export type Decision =
  /** Exactly-once (I3): the event was decided before; its verdict is given again, nothing is written. */
  | { kind: "replay"; verdict: Verdict }
  | { kind: "commit"; event: TypedEvent; entity: Entity; seq: number; text: string }
  /** `stored`: decided for good (stored, audited); otherwise only answered (the id is not this device's). */
  | { kind: "reject"; rejection: Rejection; stored: boolean };

const reject = (event: SyncEvent, current: Entity | null, code: RejectCode, detail: RejectDetail | null): Decision => ({
  kind: "reject",
  rejection: { about: "event", event, code, detail, current },
  stored: true,
});
const rejectUnread = (event: PushedEvent, code: UnreadRejectCode, detail: RejectDetail | null, stored = true): Decision => ({
  kind: "reject",
  rejection: { about: "unread", event, code, detail },
  stored,
});

export function decide(sql: SqlStore, actor: Actor, raw: PushedEvent): Decision {
  const previous = verdictRecord(sql, raw.id);
  if (previous) {
    // Exactly-once (I3): the same event id always gets the same verdict and commits nothing more.
    // An id first used by another device is not that device's to replay.
    if (previous.device_id !== actor.device_id) {
      return rejectUnread(raw, "device_mismatch", { field: "id", expected: null, received: "event id belongs to another device" }, false);
    }
    return { kind: "replay", verdict: verdictFromRecord(sql, previous) };
  }

  const bytes = utf8ByteLength(JSON.stringify(raw));
  if (bytes > MAX_EVENT_BYTES) {
    return rejectUnread(raw, "payload_too_large", { field: null, expected: MAX_EVENT_BYTES, received: bytes });
  }
  const envelope = SyncEvent.safeParse(raw);
  if (!envelope.success) return rejectUnread(raw, "invalid_payload", issueDetail(envelope.error));
  const event = envelope.data;
  if (event.device_id !== actor.device_id) {
    return reject(event, null, "device_mismatch", { field: "device_id", expected: actor.device_id, received: event.device_id });
  }
  const body = parseEventBody(event);
  if (!body.ok) return reject(event, null, body.error.code, body.error.detail);
  const typed = body.value;

  const current = readEntity(sql, typed.entity_id);

  // Dependency (I7), before permission: a chain of local edits applies only on top of its own
  // predecessor, and a device rejects the dependents of a rejected event itself, at once, as
  // depends_on_rejected (they can never apply). The server must give them that same verdict whatever
  // else it would say about them (a role lowered meanwhile, say), or device and server would hold
  // different verdicts for one event (found by the simulation, seeds 247 and 1882).
  let expectedVersion = typed.base_version;
  if (typed.depends_on !== null) {
    const dep = verdictRecord(sql, typed.depends_on);
    if (!dep) return reject(typed, current, "depends_on_unknown", { field: "depends_on", expected: null, received: typed.depends_on });
    if (dep.entity_id !== typed.entity_id) {
      return reject(typed, current, "invalid_payload", { field: "depends_on", expected: typed.entity_id, received: `an event on ${dep.entity_id}` });
    }
    switch (dep.status) {
      case "rejected":
        return reject(typed, current, "depends_on_rejected", { field: "depends_on", expected: "confirmed", received: dep.code });
      case "confirmed":
        expectedVersion = dep.version;
        break;
      default:
        return unreachable(dep, "dependency verdict");
    }
  }

  if (!canWrite(actor.role, typed.entity_type, typed.operation)) {
    return reject(typed, current, "permission_denied", { field: "role", expected: null, received: actor.role });
  }

  // State before version: an edit of a deleted project is "deleted remotely", not a conflict.
  const refused = stateRejection(current, typed);
  if (refused) return reject(typed, current, refused.code, refused.detail);
  if (typed.operation !== "create" && expectedVersion !== current!.version) {
    return reject(typed, current, "version_conflict", {
      field: "base_version",
      // What the server expected the base to be (its current version), and what the event brought.
      expected: current!.version,
      received: expectedVersion,
    });
  }

  const reference = checkReferences(sql, typed);
  if (reference) return reject(typed, current, reference.code, reference.detail);

  const seq = headSeq(sql) + 1;
  const next = applyEvent(current, typed, {
    version: (current?.version ?? 0) + 1,
    seq,
    device_id: actor.device_id,
    user_id: actor.user_id,
    official_receipt_no: typed.entity_type === "pos_order" && typed.operation === "create" ? nextOfficialReceiptNo(sql) : null,
  });
  if (!next.ok) return reject(typed, current, next.error.code, next.error.detail);
  // A patch can grow an entity past what one event may carry; every stored entity stays within
  // MAX_EVENT_BYTES so that any change or verdict fits a chunked transfer (MAX_ASSEMBLED_MESSAGE_BYTES).
  const text = JSON.stringify(next.value);
  const entityBytes = utf8ByteLength(text);
  if (entityBytes > MAX_EVENT_BYTES) {
    return reject(typed, current, "payload_too_large", { field: "entity", expected: MAX_EVENT_BYTES, received: entityBytes });
  }
  return { kind: "commit", event: typed, entity: next.value, seq, text };
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

/**
 * The wire verdict of a rejection, worded for the event it is about and the role that sent it.
 * `serverEntity` is the entity the device needs back, if any (commit.ts decides, REJECTIONS_WITH_ENTITY).
 */
export function rejectedVerdict(rejection: Rejection, role: Role, serverEntity: Entity | null): RejectedVerdict {
  return {
    event_id: rejection.event.id,
    status: "rejected",
    code: rejection.code,
    message: rejectionMessage(rejection, role),
    detail: rejection.detail,
    server_entity: serverEntity,
  };
}

function rejectionMessage(rejection: Rejection, role: Role): string {
  switch (rejection.about) {
    case "event":
      return rejectMessage(rejection.code, { entity_type: rejection.event.entity_type, operation: rejection.event.operation, role, detail: rejection.detail });
    case "unread":
      // The messages of UnreadRejectCode name no entity type, operation or role (domain/reject-codes.ts;
      // test/node/branch/decide.test.ts checks they are the same for every one). schema's
      // RejectContext requires a subject for every code, so one is passed that the text never uses.
      return rejectMessage(rejection.code, { ...UNUSED_SUBJECT, detail: rejection.detail });
    default:
      return unreachable(rejection, "rejection");
  }
}

/** Passed for codes whose message names no subject: see rejectionMessage. Not a guess about the event. */
export const UNUSED_SUBJECT = { entity_type: "project", operation: "create" } as const;
