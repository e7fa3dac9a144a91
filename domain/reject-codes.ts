/**
 * One vocabulary of reject codes (per-event verdicts) and close codes (fatal, per connection).
 * Codes are stable machine identifiers; messages are for people and may be reworded.
 */
import { z } from "zod";
import { ENTITY_LABEL, ENTITY_NOUN, type EntityType } from "./entities/index.js";
import type { Operation } from "./operations.js";
import { InvariantError, unreachable } from "../lib/result.js";
import type { Role } from "./permissions.js";
import { LEASE_GROUPS, type LeaseGroup } from "./lease-groups.js";

export const RejectCode = z.enum([
  "invalid_payload",
  "payload_too_large",
  "device_mismatch",
  "permission_denied",
  "operation_not_allowed",
  "append_only",
  "entity_exists",
  "entity_not_found",
  "entity_deleted",
  "entity_voided",
  "version_conflict",
  "depends_on_rejected",
  "depends_on_unknown",
  "already_voided",
  "reference_not_found",
  "reference_invalid",
  /** Since protocol v7: another device holds the lease on a field group this event touches (domain/leases.ts). */
  "entity_locked",
]);
export type RejectCode = z.infer<typeof RejectCode>;

/**
 * What the server expected and what it received, where that is a single value (STYLE.md §3): the
 * wire shape of every code's detail. `received` is a value the event brought (an id, a number, a
 * code), never words: words for people belong in the message. `RejectDetailOf` narrows it per code.
 */
export const RejectDetail = z.strictObject({
  field: z.string().max(200).nullable(),
  expected: z.union([z.string().max(500), z.int(), z.null()]),
  received: z.union([z.string().max(500), z.int(), z.null()]),
});
export type RejectDetail = z.infer<typeof RejectDetail>;

/** A value as a detail can carry it: a string of at most 500 characters or a safe integer. */
export type DetailValue = string | number;

/**
 * Each code's detail, as the server and the desktop build it (docs/protocol/domain.md, "Reject
 * codes"). `null`: the code carries no detail. Every entry fits the wire's `RejectDetail`
 * (checked below), so narrowing here never changes the wire.
 */
export interface RejectDetails {
  /** `field`: the path of the first problem (null: the whole event or payload); the value found there, if a single value. */
  invalid_payload: { field: string | null; expected: DetailValue | null; received: DetailValue | null };
  /** `field`: null for the event as sent, `entity` for the entity it would make. Sizes in bytes. */
  payload_too_large: { field: null | "entity"; expected: number; received: number };
  /** `device_id`: the authenticated device and the one the event names; `id`: an event id first used by another device. */
  device_mismatch: { field: "device_id"; expected: string; received: string } | { field: "id"; expected: null; received: string };
  permission_denied: { field: "role"; expected: null; received: Role };
  operation_not_allowed: { field: "operation"; expected: null; received: Operation };
  append_only: { field: "operation"; expected: null; received: Operation };
  entity_exists: null;
  entity_not_found: null;
  entity_deleted: null;
  entity_voided: null;
  /** The server's current version, and the version the event was based on (its own, or its dependency's). */
  version_conflict: { field: "base_version"; expected: number; received: number };
  /** `received`: the code the dependency was rejected with. */
  depends_on_rejected: { field: "depends_on"; expected: "confirmed"; received: RejectCode };
  /** `received`: the event id the server has no verdict for. */
  depends_on_unknown: { field: "depends_on"; expected: null; received: string };
  already_voided: null;
  /** `received`: the id that names nothing of the right type. */
  reference_not_found: { field: "project_id" | "corrects_order_id"; expected: null; received: string };
  /**
   * `corrects_order_id`: the id of an order that was voided; `project_id`: the id of a deleted
   * project; `currency`: the original order's currency, and the correction's.
   */
  reference_invalid:
    | { field: "corrects_order_id" | "project_id"; expected: null; received: string }
    | { field: "currency"; expected: string; received: string };
  /** `field`: the guarded group (domain/leases.ts); `expected`: the device holding its lease; `received`: the device that sent the event. */
  entity_locked: { field: LeaseGroup; expected: string; received: string };
}
/** Every code has an entry, and every entry fits the wire: a compile error here means the map drifted. */
type FitsTheWire<T extends { [C in RejectCode]: RejectDetail | null }> = T;
export type RejectDetailOf<C extends RejectCode> = FitsTheWire<RejectDetails>[C];

/** What a message names: the entity type and operation of the event it is about. */
export interface RejectSubject {
  entity_type: EntityType;
  operation: Operation;
}

/**
 * The codes whose message names no entity type or operation: they take no subject. Among them are
 * the codes an event can get before its envelope is read (durable/core/decide.ts UnreadRejectCode).
 */
export const SUBJECTLESS_REJECT_CODES = [
  "invalid_payload",
  "payload_too_large",
  "device_mismatch",
  "append_only",
  "depends_on_rejected",
  "depends_on_unknown",
] as const satisfies readonly RejectCode[];
export type SubjectlessRejectCode = (typeof SUBJECTLESS_REJECT_CODES)[number];

type SubjectPart<C extends RejectCode> = C extends SubjectlessRejectCode ? { entity_type?: never; operation?: never } : RejectSubject;
/** invalid_payload alone says in words what is wrong (a schema's own message): never in `received`. */
type ReasonPart<C extends RejectCode> = C extends "invalid_payload" ? { reason: string | null } : { reason?: never };

/**
 * One rejection with everything its message and detail are built from, one shape per code: the
 * code, its typed detail, the subject where the message names one, and invalid_payload's reason.
 */
export type RejectFacts<C extends RejectCode = RejectCode> = {
  [K in C]: { code: K; detail: RejectDetailOf<K> } & SubjectPart<K> & ReasonPart<K>;
}[C];

/** What `rejectMessage` takes besides the code: the facts; a code without detail may omit it. */
export type RejectContext<C extends RejectCode> = {
  [K in C]: (RejectDetailOf<K> extends null ? { detail?: null } : { detail: RejectDetailOf<K> }) & SubjectPart<K> & ReasonPart<K>;
}[C];

/** `C` itself when it is one code, else never: a call must name one code so its detail can be checked. */
type OneCode<C extends RejectCode> = { [K in RejectCode]: [C] extends [K] ? K : never }[RejectCode];

/** What the third argument of `reject` is for code C: its subject, invalid_payload's reason, or nothing. */
type About<C extends RejectCode> = C extends "invalid_payload"
  ? [why: { reason: string | null }]
  : C extends SubjectlessRejectCode
    ? []
    : [subject: RejectSubject];

/**
 * The one way to make a rejection, on the server (durable/core/decide.ts) and on the desktop
 * (desktop/store/writes.ts): the detail and the subject are checked against the code.
 */
export function reject<C extends RejectCode>(code: C & OneCode<C>, detail: RejectDetailOf<C>, ...about: About<C>): RejectFacts<C> {
  const [extra] = about as [RejectSubject | { reason: string | null } | undefined];
  const facts =
    extra === undefined ? { code, detail } : "reason" in extra ? { code, detail, reason: extra.reason } : { code, detail, entity_type: extra.entity_type, operation: extra.operation };
  // The signature ties code, detail and subject together; the object is built from exactly those.
  return facts as unknown as RejectFacts<C>;
}

/**
 * The human message for a reject code. The server sends it in the verdict; clients show it as is.
 * docs/protocol/domain.md ("Codes and message texts") lists the exact text of every code.
 */
export function rejectMessage<C extends RejectCode>(code: C, ctx: RejectContext<OneCode<C>>): string {
  // The signature ties the context to one code; the facts are that code with that context.
  return messageOf({ ...ctx, code, detail: ctx.detail ?? null } as unknown as RejectFacts);
}

/** The message of a rejection, from its facts alone. */
export function messageOf(facts: RejectFacts): string {
  switch (facts.code) {
    case "invalid_payload": {
      const { detail: d, reason } = facts;
      const where = d.field === null ? "" : `: ${d.field}`;
      const what = reason !== null ? `: ${reason}` : d.expected !== null ? `: expected ${d.expected}, received ${d.received ?? "nothing"}` : "";
      return `The change was not valid${where}${what}`;
    }
    case "payload_too_large":
      return `The change is too large (${facts.detail.received} bytes; the limit is ${facts.detail.expected} bytes)`;
    case "device_mismatch":
      return "The change was signed by a different device than the one that sent it";
    case "permission_denied":
      return `Your role (${facts.detail.received}) may not ${facts.operation} ${ENTITY_NOUN[facts.entity_type].withArticle}`;
    case "operation_not_allowed":
      return `${ENTITY_LABEL[facts.entity_type]}s cannot be ${pastTense(facts.operation)}`;
    case "append_only":
      return "POS orders cannot be changed or deleted; record a correction or a void instead";
    case "entity_exists":
      return `${ENTITY_LABEL[facts.entity_type]} already exists on the server`;
    case "entity_not_found":
      return `${ENTITY_LABEL[facts.entity_type]} does not exist on the server`;
    case "entity_deleted":
      return `${ENTITY_LABEL[facts.entity_type]} was deleted remotely`;
    case "entity_voided":
      return `${ENTITY_LABEL[facts.entity_type]} was voided remotely`;
    case "version_conflict":
      return `${ENTITY_LABEL[facts.entity_type]} was changed remotely (your change was based on version ${facts.detail.received}; the server has version ${facts.detail.expected})`;
    case "depends_on_rejected":
      return "This change built on an earlier change that was rejected";
    case "depends_on_unknown":
      return "This change built on an earlier change the server never received";
    case "already_voided":
      return `${ENTITY_LABEL[facts.entity_type]} was already voided`;
    case "reference_not_found":
      return `The ${facts.detail.field} this ${ENTITY_NOUN[facts.entity_type].bare} refers to does not exist`;
    case "reference_invalid": {
      const refers = (field: string) => `The ${field} this ${ENTITY_NOUN[facts.entity_type].bare} refers to cannot be used`;
      const d = facts.detail;
      switch (d.field) {
        case "corrects_order_id":
          return `${refers(d.field)}: that order was voided`;
        case "project_id":
          return `${refers(d.field)}: that project was deleted`;
        case "currency":
          return `${refers("corrects_order_id")}: that order is in ${d.expected}, this correction in ${d.received}`;
        default:
          return unreachable(d, "reference_invalid detail");
      }
    }
    case "entity_locked":
      return `${ENTITY_LABEL[facts.entity_type]} ${LEASE_GROUPS[facts.detail.field].label} are being edited on device ${facts.detail.expected}, which holds the lease on them: your change was not applied`;
    default:
      return unreachable(facts, "reject code");
  }
}

/** A rejection as the wire and the desktop's UI carry it: its code, its message, and its typed detail. */
export type WireRejection<C extends RejectCode = RejectCode> = {
  [K in C]: { code: K; message: string; detail: RejectDetailOf<K> };
}[C];

export function wireRejection(facts: RejectFacts): WireRejection {
  // Code and detail come from the same facts: they belong together as the facts' type says.
  return { code: facts.code, message: messageOf(facts), detail: facts.detail } as WireRejection;
}

// ───────────────────── invalid_payload from a schema's answer ─────────────────────

/**
 * invalid_payload from a zod error: the path of its first issue, the value found there in `sent`
 * (what the schema was given) if it is one a detail can carry, and the issue's own words as the reason.
 */
export function invalidPayload(error: z.ZodError, sent: unknown): RejectFacts<"invalid_payload"> {
  const issue = error.issues[0];
  const path = issue?.path ?? [];
  const field = path.length > 0 ? path.map(String).join(".").slice(0, 200) : null;
  return reject("invalid_payload", { field, expected: null, received: detailValue(valueAt(sent, path)) }, { reason: (issue?.message ?? "invalid").slice(0, 500) });
}

/**
 * The typed facts of a rejection from domain/events.ts (`parseEventBody`) or domain/apply.ts
 * (`stateRejection`, `applyEvent`), whose detail is the loose wire shape and whose invalid_payload
 * puts a schema's words in `received`: the words become the reason and `received` the value that was
 * sent at that field (envelope fields from the event, any other path from its payload; a path only
 * the merged entity has gives null). Those modules produce only the codes handled here; any other is a bug.
 */
export function fromEventRejection(
  rejection: { code: RejectCode; detail: RejectDetail | null },
  event: RejectSubject & { payload: unknown; base_version: number | null; depends_on: string | null },
): RejectFacts {
  const subject: RejectSubject = { entity_type: event.entity_type, operation: event.operation };
  const d = rejection.detail;
  switch (rejection.code) {
    case "invalid_payload": {
      if (d === null) return reject("invalid_payload", { field: null, expected: null, received: null }, { reason: null });
      // Values on both sides (entity_type: the stored type and the event's): kept as they are.
      if (d.expected !== null) return reject("invalid_payload", { field: d.field, expected: d.expected, received: d.received }, { reason: null });
      const reason = typeof d.received === "string" ? d.received : null;
      // The envelope fields a payload rule names (parseEventBody: base_version); other paths are the payload's.
      const envelope = { entity_type: event.entity_type, operation: event.operation, base_version: event.base_version, depends_on: event.depends_on };
      const sent = d.field !== null && Object.hasOwn(envelope, d.field) ? valueAt(envelope, [d.field]) : valueAt(event.payload, d.field === null ? [] : d.field.split("."));
      return reject("invalid_payload", { field: d.field, expected: null, received: reason === null ? d.received : detailValue(sent) }, { reason });
    }
    case "append_only":
      return reject("append_only", { field: "operation", expected: null, received: event.operation });
    case "operation_not_allowed":
      return reject("operation_not_allowed", { field: "operation", expected: null, received: event.operation }, subject);
    case "entity_exists":
      return reject("entity_exists", null, subject);
    case "entity_not_found":
      return reject("entity_not_found", null, subject);
    case "entity_deleted":
      return reject("entity_deleted", null, subject);
    case "entity_voided":
      return reject("entity_voided", null, subject);
    case "already_voided":
      return reject("already_voided", null, subject);
    case "payload_too_large":
    case "device_mismatch":
    case "permission_denied":
    case "version_conflict":
    case "depends_on_rejected":
    case "depends_on_unknown":
    case "reference_not_found":
    case "reference_invalid":
    case "entity_locked":
      throw new InvariantError(`domain rules never reject with ${rejection.code}`);
    default:
      return unreachable(rejection.code, "reject code");
  }
}

/** The value at `path` in `value`, own properties only (a hostile `__proto__` key is just a key). */
function valueAt(value: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let at = value;
  for (const key of path) {
    if (at === null || typeof at !== "object" || typeof key === "symbol" || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string | number, unknown>)[key];
  }
  return at;
}

/** A value as a detail can carry it, or null (objects, arrays, booleans, fractions, long strings). */
function detailValue(value: unknown): DetailValue | null {
  if (typeof value === "string") return value.length <= 500 ? value : null;
  // -0 is sent back as 0: JSON has no -0, and a stored verdict must replay exactly as first given (I3).
  if (typeof value === "number") return Number.isSafeInteger(value) ? value + 0 : null;
  return null;
}

function pastTense(op: Operation): string {
  switch (op) {
    case "create":
      return "created";
    case "update":
      return "updated";
    case "void":
      return "voided";
    case "delete":
      return "deleted";
    default:
      return unreachable(op, "operation");
  }
}
