/**
 * Server messages as an older client reads them. Older messages are strict objects, so an older
 * client refuses a field it does not know: every field added since its version is left out. The
 * welcome and the error have their own rules (durable/core/room.ts: welcomeFor, errorFor); this is
 * for the messages that carry verdicts and entities.
 *
 *   v5: a rejected verdict's `last_change`; an invoice's `official_invoice_no` (on the entity) and a
 *       confirmed verdict's `official_invoice_no`.
 *   v7: the reject code `entity_locked` (an older client's code enum refuses it): it is sent as
 *       `operation_not_allowed`, the code an older client already shows as "not allowed now", with
 *       the same words and no detail (its detail's shape is the operation's, which a verdict does
 *       not carry); in a v6 watcher's `observed`, a rejection summary's code likewise.
 */
import { unreachable } from "../lib/result.js";
import type { Entity } from "../domain/entities/index.js";
import { type Change, isWholeChange, type ServerMessage, type Verdict } from "./messages.js";

/** The first version whose entities and verdicts carry invoice numbers, and rejections their `last_change`. */
export const INVOICE_NUMBERS_SINCE = 5;

/**
 * Whether a client of `version` is sent changes (`live`, `changes`) as they are: a sender may then
 * build a frame's text itself, from stored JSON, instead of serializing the message.
 */
export const sentAsIs = (version: number): boolean => version >= INVOICE_NUMBERS_SINCE;

/** The first version that knows the reject code `entity_locked` (leases). */
export const LEASES_SINCE = 7;

/**
 * The first version sent changes as deltas (`delta` in place of `entity`, protocol/delta.ts) and
 * whose `pull` may say `full`. Older clients are sent every change whole, as before.
 */
export const DELTAS_SINCE = 9;

/**
 * The first version told that the branch's log was compacted (`welcome.compacted_through`, the
 * `history_compacted` error) and that bootstraps again when its cursor is below it. An older client
 * whose cursor is below the point is closed with `protocol_too_old` instead (it must be updated; it
 * keeps its queue): docs/protocol/compaction.md.
 */
export const COMPACTION_SINCE = 9;

/** The first version that reports its business days (`pos_days`) and is told of day reports (`day_report`). */
export const DAY_REPORTS_SINCE = 10;

/**
 * The first version whose hello may say `echo: false`: that connection is not sent its own pushes'
 * commits in `live` (their verdicts stand for them). An older client is sent them, as before.
 */
export const ECHO_OPTIONAL_SINCE = 11;

/** `message` in the shape a client of `version` reads; the same object when nothing differs. */
export function serverMessageFor(version: number, message: ServerMessage): ServerMessage {
  if (version >= LEASES_SINCE) return message;
  if (message.type === "verdicts") {
    const verdicts = message.verdicts.map((v) => verdictBeforeV7(sentAsIs(version) ? v : verdictBeforeV5(v)));
    return { ...message, verdicts };
  }
  // A v6 dashboard (a tab opened before the server moved to v7) lists rejections by code, in its own enum.
  if (message.type === "observed" && message.rejections.some((r) => r.code === "entity_locked")) {
    return { ...message, rejections: message.rejections.map((r) => (r.code === "entity_locked" ? { ...r, code: "operation_not_allowed" } : r)) };
  }
  if (sentAsIs(version)) return message;
  switch (message.type) {
    case "changes":
    case "live":
      // A delta is only ever sent to a v9 connection that asked for deltas: an older one gets whole changes.
      return { ...message, changes: message.changes.map((c) => (isWholeChange(c) ? changeBeforeV5(c) : c)) };
    case "welcome":
    case "poke":
    case "chunk":
    case "upload_state":
    case "pong":
    case "error":
    // v6's dashboard feed: only a connection that sent `watch` (v6) is sent these.
    case "watching":
    case "observed":
    // v7's leases: only a v7 connection is sent these.
    case "lease_result":
    case "leases":
    // v10's day reports: only a v10 connection is sent these.
    case "day_report":
      return message;
    default:
      return unreachable(message, "server message");
  }
}

/** A verdict an older client can read: `entity_locked` (v7) as `operation_not_allowed`, same words, no detail. */
function verdictBeforeV7(verdict: Verdict): Verdict {
  if (verdict.status !== "rejected" || verdict.code !== "entity_locked") return verdict;
  return { ...verdict, code: "operation_not_allowed", detail: null };
}

function verdictBeforeV5(verdict: Verdict): Verdict {
  if (verdict.status === "rejected") {
    const { last_change: _v5, ...v4 } = verdict;
    return (v4.server_entity ? { ...v4, server_entity: entityBeforeV5(v4.server_entity) } : v4) as Verdict;
  }
  const { official_invoice_no: _v5, ...v4 } = verdict;
  return v4 as Verdict;
}

const changeBeforeV5 = (change: Change): Change => ({ ...change, entity: entityBeforeV5(change.entity) });

/** An entity without v5's invoice number. */
export function entityBeforeV5(entity: Entity): Entity {
  if (entity.entity_type !== "invoice" || entity.official_invoice_no === undefined) return entity;
  const { official_invoice_no: _v5, ...v4 } = entity;
  return v4;
}
