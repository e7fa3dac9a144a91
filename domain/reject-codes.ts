/**
 * One vocabulary of reject codes (per-event verdicts) and close codes (fatal, per connection).
 * Codes are stable machine identifiers; messages are for people and may be reworded.
 */
import { z } from "zod";
import { ENTITY_LABEL, ENTITY_NOUN, type EntityType } from "./entities/index.js";
import type { Operation } from "./operations.js";
import { unreachable } from "../lib/result.js";

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
]);
export type RejectCode = z.infer<typeof RejectCode>;

/** What the server expected and what it received, where that is a single value (STYLE.md §3). */
export const RejectDetail = z.strictObject({
  field: z.string().max(200).nullable(),
  expected: z.union([z.string().max(500), z.int(), z.null()]),
  received: z.union([z.string().max(500), z.int(), z.null()]),
});
export type RejectDetail = z.infer<typeof RejectDetail>;

export interface RejectContext {
  entity_type: EntityType;
  operation: Operation;
  /** The role of the device that sent the event (permission_denied). */
  role?: string;
  detail?: RejectDetail | null;
}

/**
 * The human message for a reject code. The server sends it in the verdict; clients show it as is.
 * `docs/protocol.md` lists the exact text of every code.
 */
export function rejectMessage(code: RejectCode, ctx: RejectContext): string {
  const entity = ENTITY_LABEL[ctx.entity_type];
  const noun = ENTITY_NOUN[ctx.entity_type];
  const d = ctx.detail ?? null;
  switch (code) {
    case "invalid_payload":
      return d?.field ? `The change was not valid: ${d.field}: ${d.received ?? "invalid"}` : "The change was not valid";
    case "payload_too_large":
      return `The change is too large (${d?.received ?? "?"} bytes; the limit is ${d?.expected ?? "?"} bytes)`;
    case "device_mismatch":
      return "The change was signed by a different device than the one that sent it";
    case "permission_denied":
      return `Your role (${ctx.role ?? "unknown"}) may not ${ctx.operation} ${noun.withArticle}`;
    case "operation_not_allowed":
      return `${entity}s cannot be ${pastTense(ctx.operation)}`;
    case "append_only":
      return "POS orders cannot be changed or deleted; record a correction or a void instead";
    case "entity_exists":
      return `${entity} already exists on the server`;
    case "entity_not_found":
      return `${entity} does not exist on the server`;
    case "entity_deleted":
      return `${entity} was deleted remotely`;
    case "entity_voided":
      return `${entity} was voided remotely`;
    case "version_conflict":
      return `${entity} was changed remotely (your change was based on version ${d?.received ?? "?"}; the server has version ${d?.expected ?? "?"})`;
    case "depends_on_rejected":
      return "This change built on an earlier change that was rejected";
    case "depends_on_unknown":
      return "This change built on an earlier change the server never received";
    case "already_voided":
      return `${entity} was already voided`;
    case "reference_not_found":
      return `The ${d?.field ?? "record"} this ${noun.bare} refers to does not exist`;
    case "reference_invalid":
      return `The ${d?.field ?? "record"} this ${noun.bare} refers to cannot be used: ${d?.received ?? "invalid"}`;
    default:
      return unreachable(code, "reject code");
  }
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
