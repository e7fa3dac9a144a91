/**
 * A conflict entry as a person reads it, built in the core (never in the renderer): the entity's
 * name, who changed the server's version, when (in the branch's time zone, on the core's clock) and
 * why, a field-by-field comparison with money and dates formatted for people, the actions this entry
 * allows, what a re-apply would send, and whether this user may resolve an entry kept for a manager.
 * Codes, ids and the raw sides stay in the view for "Details for support" only.
 */
import { canDo, type Entity, ENTITY_NOUN, formatMinor, invoiceTotals, type Role, zonedIso } from "../../domain/index.js";
import type { LastChange } from "../../protocol/index.js";
import { UNREADABLE } from "../store/context.js";
import { allowedActions, type Conflict, mineData } from "../store/conflicts.js";
import type { ConflictField, ConflictView } from "./api.js";

/** Who is looking, and when: the store's identity and clock. */
export interface Viewer {
  device_id: string;
  role: Role;
  time_zone: string;
  now_ms: number;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "2 Dec 14:05" in `timeZone` (the year too when it is not this year there). */
export function formatWhen(iso: string, timeZone: string, nowMs: number): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  const local = zonedIso(ms, timeZone);
  const [year, month, day] = [local.slice(0, 4), Number(local.slice(5, 7)), Number(local.slice(8, 10))];
  const thisYear = zonedIso(nowMs, timeZone).slice(0, 4);
  return `${day} ${MONTHS[month - 1]}${year === thisYear ? "" : ` ${year}`} ${local.slice(11, 16)}`;
}

/** "2 Dec 2026" for a calendar date. */
function formatDate(date: unknown): string {
  if (typeof date !== "string" || !/^\d{4}-\d\d-\d\d$/.test(date)) return NONE;
  return `${Number(date.slice(8, 10))} ${MONTHS[Number(date.slice(5, 7)) - 1]} ${date.slice(0, 4)}`;
}

const NONE = "—";
const text = (value: unknown): string => (typeof value === "string" && value.length > 0 ? value : NONE);
const words = (value: unknown): string => (typeof value === "string" && value.length > 0 ? (value.charAt(0).toUpperCase() + value.slice(1)).replace(/_/g, " ") : NONE);
const rec = (value: unknown): Record<string, unknown> => (value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {});
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const num = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0);

/** One row of the comparison: its label, the top-level field it reads, and how a value is shown. */
interface FieldSpec {
  label: string;
  key: string;
  show(data: Record<string, unknown>): string;
}

function lineSummary(lines: unknown[], currency: string): string {
  if (lines.length === 0) return "No lines";
  return lines
    .map((l) => {
      const line = rec(l);
      return `${text(line.description)} × ${num(line.quantity)} at ${formatMinor(num(line.unit_price_minor), currency)}`;
    })
    .join("; ");
}

const FIELDS: Record<Entity["entity_type"], FieldSpec[]> = {
  project: [
    { label: "Title", key: "title", show: (d) => text(d.title) },
    { label: "Client", key: "client", show: (d) => text(rec(d.client).name) },
    { label: "Client email", key: "client", show: (d) => text(rec(d.client).email) },
    { label: "Client phone", key: "client", show: (d) => text(rec(d.client).phone) },
    { label: "Status", key: "status", show: (d) => words(d.status) },
    { label: "Starts", key: "starts_on", show: (d) => formatDate(d.starts_on) },
    { label: "Ends", key: "ends_on", show: (d) => formatDate(d.ends_on) },
    { label: "Location", key: "location", show: (d) => text(d.location) },
    {
      label: "Package",
      key: "package",
      show: (d) => {
        if (d.package === null || d.package === undefined) return "None";
        const p = rec(d.package);
        const price = rec(p.price);
        return `${text(p.name)}, ${formatMinor(num(price.amount_minor), text(price.currency))}`;
      },
    },
    { label: "Notes", key: "notes", show: (d) => text(d.notes) },
    {
      label: "Selected photos",
      key: "media_selection",
      show: (d) => {
        const n = list(rec(d.media_selection).items).length;
        return n === 1 ? "1 photo" : `${n} photos`;
      },
    },
  ],
  invoice: [
    { label: "Reference", key: "reference", show: (d) => text(d.reference) },
    { label: "Client", key: "client_name", show: (d) => text(d.client_name) },
    { label: "Status", key: "status", show: (d) => words(d.status) },
    { label: "Issued", key: "issued_on", show: (d) => formatDate(d.issued_on) },
    { label: "Due", key: "due_on", show: (d) => formatDate(d.due_on) },
    { label: "Lines", key: "lines", show: (d) => lineSummary(list(d.lines), text(d.currency)) },
    { label: "Discount", key: "discount_minor", show: (d) => formatMinor(num(d.discount_minor), text(d.currency)) },
    { label: "Tax rate", key: "tax_rate_bp", show: (d) => `${num(d.tax_rate_bp) / 100}%` },
    { label: "Total", key: "lines", show: (d) => formatMinor(invoiceTotals(invoiceLike(d)).total_minor, text(d.currency)) },
    { label: "Paid", key: "payments", show: (d) => formatMinor(invoiceTotals(invoiceLike(d)).paid_minor, text(d.currency)) },
    { label: "Notes", key: "notes", show: (d) => text(d.notes) },
    { label: "Void reason", key: "void_reason", show: (d) => text(d.void_reason) },
  ],
  pos_order: [
    { label: "Receipt", key: "local_receipt_no", show: (d) => text(d.local_receipt_no) },
    { label: "Kind", key: "kind", show: (d) => words(d.kind) },
    { label: "Lines", key: "lines", show: (d) => lineSummary(list(d.lines), text(d.currency)) },
    { label: "Total", key: "total_minor", show: (d) => formatMinor(num(d.total_minor), text(d.currency)) },
    { label: "Payment", key: "payment", show: (d) => words(rec(d.payment).method) },
    { label: "Cashier", key: "cashier", show: (d) => text(d.cashier) },
    { label: "Reason", key: "reason", show: (d) => text(d.reason) },
  ],
};

function invoiceLike(d: Record<string, unknown>) {
  return {
    lines: list(d.lines).map((l) => ({ quantity: num(rec(l).quantity), unit_price_minor: num(rec(l).unit_price_minor) })),
    discount_minor: num(d.discount_minor),
    tax_rate_bp: num(d.tax_rate_bp),
    payments: list(d.payments).map((p) => ({ amount_minor: num(rec(p).amount_minor) })),
  };
}

/** The entity's name: from the local change, else the server's entity, else the last known base. */
export function entityName(c: Conflict, mine: Record<string, unknown> | null): string | null {
  const candidates = [mine, c.server_entity?.data, c.base_entity?.data].map(rec);
  for (const d of candidates) {
    const name = nameOf(c.entity_type, d);
    if (name) return name;
  }
  return null;
}

function nameOf(type: Entity["entity_type"], d: Record<string, unknown>): string | null {
  switch (type) {
    case "project":
      return typeof d.title === "string" && d.title ? d.title : null;
    case "invoice": {
      const ref = typeof d.reference === "string" && d.reference ? `Invoice ${d.reference}` : null;
      const client = typeof d.client_name === "string" && d.client_name ? d.client_name : null;
      return ref && client ? `${ref} for ${client}` : (ref ?? (client ? `Invoice for ${client}` : null));
    }
    case "pos_order":
      return typeof d.local_receipt_no === "string" && d.local_receipt_no ? `Receipt ${d.local_receipt_no}` : null;
  }
}

const DONE: Record<LastChange["operation"], string> = { create: "Created", update: "Changed", delete: "Deleted", void: "Voided" };

/** "Deleted by nimal on another device, 2 Dec 14:05 — reason: duplicate". */
export function lastChangeWords(change: LastChange, viewer: Viewer): string {
  const device = change.device_name ?? (change.device_id === viewer.device_id ? "this device" : "another device");
  const when = formatWhen(change.committed_at, viewer.time_zone, viewer.now_ms);
  return `${DONE[change.operation]} by ${change.user_id} on ${device}, ${when}${change.reason ? ` — reason: ${change.reason}` : ""}`;
}

function compare(c: Conflict, mine: Record<string, unknown> | null): ConflictField[] {
  const server = c.server_entity;
  const serverData = server && !server.deleted ? rec(server.data) : null;
  if (mine === null && serverData === null) return [];
  const fields = FIELDS[c.entity_type].map((spec) => {
    const m = mine === null ? NONE : spec.show(mine);
    const s = serverData === null ? NONE : spec.show(serverData);
    return { label: spec.label, mine: m, server: s, differs: m !== s };
  });
  const iDeleted = c.operation === "delete" || c.operation === "void";
  const serverDeleted = server?.entity_type === "project" && server.deleted;
  if (iDeleted || serverDeleted) {
    const label = c.entity_type === "project" ? "Deleted" : "Voided";
    const m = iDeleted ? "Yes" : "No";
    const s = serverDeleted || (server?.entity_type === "invoice" && server.data.status === "void") || (server?.entity_type === "pos_order" && server.void !== null) ? "Yes" : "No";
    fields.unshift({ label, mine: m, server: s, differs: m !== s });
  }
  if (server === null) fields.unshift({ label: "On the server", mine: "—", server: "Does not exist", differs: true });
  return fields;
}

/** What a re-apply sends: the edited fields, as an edit of the server's current version. */
function reapplyPreview(c: Conflict, mine: Record<string, unknown> | null): ConflictView["reapply_preview"] {
  if (!allowedActions(c).includes("reapply") || mine === null || c.server_entity === null) return null;
  const patch = rec(c.local_payload);
  const fields = FIELDS[c.entity_type].filter((spec) => spec.key in patch).map((spec) => ({ label: spec.label, value: spec.show(mine) }));
  return { base_version: c.server_entity.version, fields };
}

function managerWords(c: Conflict, viewer: Viewer): ConflictView["manager"] {
  if (!c.needs_manager) return null;
  if (c.resolved_at) return { can_resolve: false, by_code: false, words: `Resolved by ${c.resolved_by ?? "a manager"}${c.resolution_note ? `: ${c.resolution_note}` : ""}` };
  // Never sent (it could not be read back): the server has no verdict for it to record a resolution against.
  if (c.code === UNREADABLE) {
    return { can_resolve: false, by_code: false, words: "This sale could not be read on this till, so it never reached the server and the server cannot record a resolution for it. It stays here, kept as it was; ask support to look at it." };
  }
  return canDo(viewer.role, "resolve_conflicts")
    ? { can_resolve: true, by_code: false, words: "A refused POS sale stays here until a manager resolves it. Your name, this device and your note are recorded by the server; the entry closes once the server accepts." }
    : {
        // A manager resolves it here, with a one-time code of their own (sync/manager-override.ts).
        can_resolve: false,
        by_code: true,
        words: `A refused POS sale stays here until a manager resolves it: only a manager or the owner can, and the server records who did. You are signed in as ${viewer.role === "staff" ? "staff" : `a ${viewer.role}`}. Ask a manager for a manager sign-in code (on their device: Add a till → role Manager) and type it here with a note.`,
      };
}

export function conflictView(c: Conflict, viewer: Viewer): ConflictView {
  const mine = mineData(c);
  const noun = ENTITY_NOUN[c.entity_type];
  return {
    id: c.id,
    event_id: c.event_id,
    entity_type: c.entity_type,
    entity_id: c.entity_id,
    operation: c.operation,
    code: c.code,
    message: c.message,
    local_payload: c.local_payload,
    server_entity: c.server_entity,
    needs_manager: c.needs_manager,
    created_at: c.created_at,
    resolved_at: c.resolved_at,
    resolution: c.resolution,
    entity_name: entityName(c, mine),
    what: whatWords(c, noun.bare),
    last_change: c.last_change ? { ...c.last_change, words: lastChangeWords(c.last_change, viewer) } : null,
    fields: compare(c, mine),
    actions: allowedActions(c),
    reapply_preview: reapplyPreview(c, mine),
    manager: managerWords(c, viewer),
    resolved_by: c.resolved_by,
    resolution_note: c.resolution_note,
  };
}

const OPERATION_NOUN: Record<string, string> = { update: "edit", delete: "deletion", void: "void" };

/** What was not applied, in a sentence; a change that could not be read back was never sent at all. */
function whatWords(c: Conflict, noun: string): string {
  const change = c.operation === "create" ? `new ${noun}` : `${OPERATION_NOUN[c.operation] ?? "change"} of this ${noun}`;
  if (c.code === UNREADABLE) return `Your ${change} could not be read back on this device, so it was never sent to the server.`;
  return c.operation === "create" ? `Your new ${noun} was not accepted by the server.` : `Your ${change} was not applied.`;
}
