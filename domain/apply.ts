/**
 * What an event does to an entity, as a pure function. The server commits with it; the desktop uses
 * the same function to show pending events on top of its confirmed base (local first), so the
 * optimistic view and the server's commit can never compute different results.
 *
 * Not here, because they need the branch's history or other entities: permission, dependency and
 * version checks, and references to other entities (see durable/core/push.ts).
 */
import type { DeviceId, UserId } from "./ids.js";
import {
  type Entity,
  InvoiceData,
  type InvoiceEntity,
  applySelectionChanges,
  isSelectionChanges,
  type ProjectEntity,
} from "./entities/index.js";
import { type EventRejection, issueDetail, mergedSchemas, type TypedEvent } from "./events.js";
import { err, ok, type Result, unreachable } from "../lib/result.js";

export interface CommitInfo {
  /** The entity's version after this commit. */
  version: number;
  /** The branch sequence number of this commit (POS voids record it). */
  seq: number;
  device_id: DeviceId;
  user_id: UserId;
  /** POS create only: the official receipt number the server assigned. */
  official_receipt_no: number | null;
  /**
   * Invoices: the official number an invoice gets if this commit first makes it issued (or paid);
   * null on a device before the server has numbered it. An invoice that has a number keeps it.
   */
  official_invoice_no: number | null;
}

/** An invoice's official number after a commit: the one it has, else the commit's if it is now issued or paid. */
function invoiceNumber(cur: InvoiceEntity | null, data: InvoiceData, commit: CommitInfo): { official_invoice_no?: number } {
  const kept = cur?.official_invoice_no;
  if (kept !== undefined) return { official_invoice_no: kept };
  const issued = data.status === "issued" || data.status === "paid";
  return issued && commit.official_invoice_no !== null ? { official_invoice_no: commit.official_invoice_no } : {};
}

const reject = (code: EventRejection["code"], detail: EventRejection["detail"] = null) => err({ code, detail });

/**
 * Existence and state rules that hold on every side: a create needs absence; everything else needs
 * a live entity of the same type that is not voided. Checked before the version, so an edit of a
 * deleted project is "deleted remotely" rather than a version conflict.
 */
export function stateRejection(current: Entity | null, event: TypedEvent): EventRejection | null {
  if (event.operation === "create") return current === null ? null : { code: "entity_exists", detail: null };
  if (current === null) return { code: "entity_not_found", detail: null };
  if (current.deleted) return { code: "entity_deleted", detail: null };
  if (current.entity_type !== event.entity_type) {
    return { code: "invalid_payload", detail: { field: "entity_type", expected: current.entity_type, received: event.entity_type } };
  }
  const voided =
    (current.entity_type === "invoice" && current.data.status === "void") ||
    (current.entity_type === "pos_order" && current.void !== null);
  if (voided) return { code: event.operation === "void" ? "already_voided" : "entity_voided", detail: null };
  return null;
}

/** The entity after `event`, given the current one. Applies `stateRejection` first. */
export function applyEvent(current: Entity | null, event: TypedEvent, commit: CommitInfo): Result<Entity, EventRejection> {
  const refused = stateRejection(current, event);
  if (refused) return err(refused);
  const base = { entity_id: event.entity_id, version: commit.version, deleted: false as const };

  switch (event.entity_type) {
    case "project": {
      const cur = current as ProjectEntity | null;
      switch (event.operation) {
        case "create":
          return ok({ ...base, entity_type: "project", data: event.payload });
        case "update": {
          // v8: a change set to the selection is applied to the base's selection first.
          const selection = event.payload.media_selection;
          let patch: Record<string, unknown> = event.payload;
          if (selection !== undefined && isSelectionChanges(selection)) {
            const applied = applySelectionChanges(cur!.data!.media_selection, selection);
            if (!applied.ok) return reject("invalid_payload", { field: applied.path.join("."), expected: null, received: applied.message });
            patch = { ...event.payload, media_selection: applied.value };
          }
          const merged = mergedSchemas().project.safeParse({ ...cur!.data, ...patch });
          if (!merged.success) return reject("invalid_payload", issueDetail(merged.error));
          return ok({ ...base, entity_type: "project", data: merged.data });
        }
        case "delete":
          return ok({ entity_type: "project", entity_id: event.entity_id, version: commit.version, deleted: true, data: null });
        default:
          return unreachable(event, "project operation");
      }
    }
    case "invoice": {
      const cur = current?.entity_type === "invoice" ? current : null;
      switch (event.operation) {
        case "create": {
          const data: InvoiceData = { ...event.payload, void_reason: null };
          return ok({ ...base, entity_type: "invoice", data, ...invoiceNumber(null, data, commit) });
        }
        case "update": {
          const { void_reason: _none, ...editable } = cur!.data;
          const merged = mergedSchemas().invoice.safeParse({ ...editable, ...event.payload });
          if (!merged.success) return reject("invalid_payload", issueDetail(merged.error));
          const data: InvoiceData = { ...merged.data, void_reason: null };
          return ok({ ...base, entity_type: "invoice", data, ...invoiceNumber(cur, data, commit) });
        }
        case "void": {
          const data = InvoiceData.parse({ ...cur!.data, status: "void", void_reason: event.payload.reason });
          // A voided invoice keeps its number (the sequence has no gaps); a voided draft never had one.
          return ok({ ...base, entity_type: "invoice", data, ...invoiceNumber(cur, data, commit) });
        }
        default:
          return unreachable(event, "invoice operation");
      }
    }
    case "pos_order": {
      const cur = current?.entity_type === "pos_order" ? current : null;
      switch (event.operation) {
        case "create":
          if (commit.official_receipt_no === null) {
            return reject("invalid_payload", { field: "official_receipt_no", expected: "a number", received: null });
          }
          return ok({
            ...base,
            entity_type: "pos_order",
            data: event.payload,
            official_receipt_no: commit.official_receipt_no,
            void: null,
          });
        case "void":
          return ok({
            ...cur!,
            version: commit.version,
            void: {
              reason: event.payload.reason,
              voided_by_device: commit.device_id,
              voided_by_user: commit.user_id,
              seq: commit.seq,
            },
          });
        default:
          return unreachable(event, "pos_order operation");
      }
    }
    default:
      return unreachable(event, "entity type");
  }
}

/** Top-level fields an event replaces (for `Change.changed_fields`). */
export function changedFields(event: TypedEvent): string[] {
  return event.operation === "update" ? Object.keys(event.payload) : [];
}
