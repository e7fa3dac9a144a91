/**
 * Server messages as an older client reads them. Older messages are strict objects, so an older
 * client refuses a field it does not know: every field added since its version is left out. The
 * welcome and the error have their own rules (durable/core/room.ts: welcomeFor, errorFor); this is
 * for the messages that carry verdicts and entities.
 *
 *   v5: a rejected verdict's `last_change`; an invoice's `official_invoice_no` (on the entity) and a
 *       confirmed verdict's `official_invoice_no`.
 */
import { unreachable } from "../lib/result.js";
import type { Entity } from "../domain/entities/index.js";
import type { Change, ServerMessage, Verdict } from "./messages.js";

/** The first version whose entities and verdicts carry invoice numbers, and rejections their `last_change`. */
export const INVOICE_NUMBERS_SINCE = 5;

/**
 * Whether a client of `version` is sent every message as it is (serverMessageFor changes nothing): a
 * sender may then build a frame's text itself, from stored JSON, instead of serializing the message.
 */
export const sentAsIs = (version: number): boolean => version >= INVOICE_NUMBERS_SINCE;

/** `message` in the shape a client of `version` reads; the same object when nothing differs. */
export function serverMessageFor(version: number, message: ServerMessage): ServerMessage {
  if (sentAsIs(version)) return message;
  switch (message.type) {
    case "verdicts":
      return { ...message, verdicts: message.verdicts.map(verdictBeforeV5) };
    case "changes":
    case "live":
      return { ...message, changes: message.changes.map(changeBeforeV5) };
    case "welcome":
    case "poke":
    case "chunk":
    case "upload_state":
    case "pong":
    case "error":
    // v6's dashboard feed: only a connection that sent `watch` (v6) is sent these.
    case "watching":
    case "observed":
      return message;
    default:
      return unreachable(message, "server message");
  }
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
