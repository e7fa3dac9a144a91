/**
 * One vocabulary of reject codes (per-event verdicts) and close codes (fatal, per connection).
 * Codes are stable machine identifiers; messages are for people and may be reworded.
 */
import { z } from "zod";
import { ENTITY_LABEL, ENTITY_NOUN, type EntityType } from "./entities/index.js";
import type { Operation } from "./operations.js";
import { unreachable } from "./result.js";

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

/**
 * WebSocket close codes for fatal errors (4000-4999 are for applications, RFC 6455 §7.4.2).
 * The close reason is always the code's name, so it fits the 123-byte reason limit and never leaks
 * details; the preceding `error` message carries the human explanation.
 */
export const CLOSE_CODES = {
  /** Token missing, malformed, badly signed, or expired. Do not retry without a new token. */
  unauthorized: 4001,
  /** Valid token, but not for this branch, or `hello` names another device than the token. */
  forbidden: 4003,
  /** The client's protocol version is older than the server's minimum. Update the app. */
  protocol_too_old: 4010,
  /** The client's protocol version is newer than the server's. Retry later (server upgrade pending). */
  protocol_too_new: 4011,
  /** The first message was not `hello`, or `hello` was sent twice. */
  handshake_required: 4012,
  /** Too many malformed frames in a row: the peer is broken. */
  protocol_violation: 4013,
  /** The same device connected again; this older connection is closed. */
  replaced: 4014,
  /** The token expired during the session. Reconnect with a fresh token. */
  token_expired: 4015,
  /** A manager revoked this device. Its tokens are refused for good; the install needs a new device. */
  device_revoked: 4016,
  /**
   * The connection did not keep up: it was sent more than the server buffers for one connection
   * without a frame from it. Reconnect and pull from the cursor.
   */
  slow_consumer: 4017,
  /** Another install already uses this device id (a copied token or database). Needs a token for a new device. */
  install_conflict: 4018,
  /** This install opened a newer connection; this older one is closed. Not an error for the install. */
  superseded: 4019,
} as const;
export type CloseReason = keyof typeof CLOSE_CODES;
export const CloseReason = z.enum(Object.keys(CLOSE_CODES) as [CloseReason, ...CloseReason[]]);

/**
 * What a client does after a close, per reason (docs/protocol.md §10.2, "retry?"); the desktop's
 * sync machine has one state per outcome (machines/sync-machine.ts):
 *  - `authFailed`: stop until the user brings a new token (for a new device, after
 *    `device_revoked` and `install_conflict`: a new token for the same device will not help);
 *  - `updateRequired`: stop; the app must be updated;
 *  - `replaced`: stop; reconnecting would close the device's newer connection, which would
 *    reconnect in turn;
 *  - `backoff`: reconnect with backoff. A close that is not a protocol close (1000, 1006, 1011, a
 *    failed connect…) is `backoff` too.
 */
export type CloseOutcome = "authFailed" | "updateRequired" | "replaced" | "backoff";

/** The one table of close outcomes: `closeOutcome` and TERMINAL_CLOSE_REASONS are read from it. */
export const CLOSE_OUTCOMES = {
  unauthorized: "authFailed",
  forbidden: "authFailed",
  protocol_too_old: "updateRequired",
  protocol_too_new: "backoff", // the server is mid-upgrade: retry later
  handshake_required: "backoff", // a client bug: retrying costs little and may succeed
  protocol_violation: "backoff",
  replaced: "replaced",
  token_expired: "authFailed",
  device_revoked: "authFailed",
  slow_consumer: "backoff", // reconnect and pull from the cursor
  install_conflict: "authFailed",
  superseded: "backoff", // this install has a newer connection; a stray older one just goes away
} as const satisfies Record<CloseReason, CloseOutcome>;

/**
 * Close reasons after which reconnecting with the same credentials and app is pointless (or, for
 * `replaced`, harmful: it would close the device's newer connection, which would reconnect in turn).
 */
export const TERMINAL_CLOSE_REASONS: ReadonlySet<CloseReason> = new Set(
  (Object.keys(CLOSE_OUTCOMES) as CloseReason[]).filter((reason) => CLOSE_OUTCOMES[reason] !== "backoff"),
);

export function closeReasonOf(code: number): CloseReason | null {
  for (const [reason, value] of Object.entries(CLOSE_CODES)) {
    if (value === code) return reason as CloseReason;
  }
  return null;
}
