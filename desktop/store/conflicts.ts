/**
 * The conflict inbox's rows: reading them, and closing one. Closing is always a choice a person made
 * and is recorded with who made it (I10):
 *  - `dismiss`: keep the server's version; the local change is dropped for good;
 *  - `reapply`: an edit written again as a NEW event on top of the server's current version;
 *  - `restore`: a project deleted remotely, created again as a NEW project (new id) with this device's fields;
 *  - `reenter`: a refused create entered again as a NEW entity (new id) with the user's fields.
 * An entry kept for a manager (a refused POS sale, I6) is never closed by any of these: only a
 * manager's resolution accepted by the server closes it (`recordManagerResolution`), and a refused
 * sale is never re-created by the app (a new sale is rung up by a person, on purpose).
 */
import type Database from "better-sqlite3";
import { z } from "zod";
import { applySelectionChanges, type Entity, type EntityType, MediaSelection, MediaSelectionChanges, RejectCode } from "../../domain/index.js";
import type { ConflictResolution, LastChange } from "../../protocol/index.js";
import { err, ok, type Result } from "../../lib/result.js";
import { audit, nowIso, type StoreContext, UNREADABLE } from "./context.js";
import * as writes from "./writes.js";

/** What a conflict entry says went wrong: the verdict's reject code, or the device-local UNREADABLE. */
export const ConflictCode = z.union([RejectCode, z.literal(UNREADABLE)]);
export type ConflictCode = z.infer<typeof ConflictCode>;

export const ConflictAction = z.enum(["dismiss", "reapply", "restore", "reenter"]);
export type ConflictAction = z.infer<typeof ConflictAction>;

export interface Conflict {
  id: number;
  event_id: string;
  entity_type: EntityType;
  entity_id: string;
  operation: string;
  /** The verdict's reject code, or the device-local `unreadable` (UNREADABLE) for a quarantined row. */
  code: ConflictCode;
  message: string;
  /** The change as queued; for a row whose saved data was not JSON, that raw text as a string. */
  local_payload: unknown;
  server_entity: Entity | null;
  needs_manager: boolean;
  created_at: string;
  resolved_at: string | null;
  resolution: string | null;
  /** Who made the server's version, when and why (protocol v5; null from older servers or when it never existed). */
  last_change: LastChange | null;
  /** This device's base when the change was refused, before server truth replaced it; null if none. */
  base_entity: Entity | null;
  /** Who closed the entry: this device's user, or the manager the server named. */
  resolved_by: string | null;
  resolution_note: string | null;
}

interface ConflictRow {
  id: number;
  event_id: string;
  entity_type: EntityType;
  entity_id: string;
  operation: string;
  code: string;
  message: string;
  local_payload: string;
  server_entity: string | null;
  needs_manager: number;
  created_at: string;
  resolved_at: string | null;
  resolution: string | null;
  last_change: string | null;
  base_entity: string | null;
  resolved_by: string | null;
  resolution_note: string | null;
}

export function readConflicts(ctx: StoreContext, opts: { open?: boolean } = {}): Conflict[] {
  const rows = ctx.stmt(`SELECT * FROM conflicts ${opts.open ? "WHERE resolved_at IS NULL" : ""} ORDER BY id`).all() as ConflictRow[];
  return rows.map(decode);
}

function readConflict(ctx: StoreContext, id: number): Conflict | null {
  const row = ctx.stmt("SELECT * FROM conflicts WHERE id = ?").get(id) as ConflictRow | undefined;
  return row ? decode(row) : null;
}

function decode(r: ConflictRow): Conflict {
  return {
    ...r,
    code: ConflictCode.parse(r.code),
    local_payload: parseOr(r.local_payload),
    server_entity: r.server_entity ? (JSON.parse(r.server_entity) as Entity) : null,
    needs_manager: r.needs_manager === 1,
    last_change: r.last_change ? (JSON.parse(r.last_change) as LastChange) : null,
    base_entity: r.base_entity ? (JSON.parse(r.base_entity) as Entity) : null,
  };
}

/**
 * The entity's fields as this device's user meant them: a create's payload, an edit on top of the
 * base it was made on (else the server's), the base itself for a delete or void. Null when there is
 * nothing to show (an unreadable change, or no base known).
 */
export function mineData(c: Pick<Conflict, "operation" | "code" | "local_payload" | "base_entity" | "server_entity">): Record<string, unknown> | null {
  if (c.code === UNREADABLE || !isRecord(c.local_payload)) return null;
  const base = c.base_entity?.data ?? c.server_entity?.data ?? null;
  switch (c.operation) {
    case "create":
      return c.local_payload;
    case "update":
      return { ...(isRecord(base) ? base : {}), ...withWholeSelection(c.local_payload, base) };
    default:
      return isRecord(base) ? base : null;
  }
}

/** Which of the actions a person may take on this entry (the screen offers these and no others). */
export function allowedActions(c: Conflict): ConflictAction[] {
  if (c.resolved_at !== null || c.needs_manager) return [];
  const actions: ConflictAction[] = ["dismiss"];
  if (c.code === UNREADABLE) return actions;
  const server = c.server_entity;
  const deleted = server?.entity_type === "project" && server.deleted;
  // A void is final: an edit re-applied to a voided invoice would only be refused again.
  const voided = (server?.entity_type === "invoice" && server.data.status === "void") || (server?.entity_type === "pos_order" && server.void !== null);
  if (c.operation === "update" && server !== null && !deleted && !voided) actions.push("reapply");
  if (c.entity_type === "project" && deleted && c.operation === "update" && mineData(c) !== null) actions.push("restore");
  if (c.operation === "create" && c.entity_type !== "pos_order") actions.push("reenter");
  return actions;
}

/** The words for why an entry cannot take an action. */
function refusal(c: Conflict, action: ConflictAction): string {
  if (c.needs_manager) return "A refused POS sale is resolved only by a manager or the owner, through the server; it stays in the inbox until then";
  if (c.code === UNREADABLE) return "This change could not be read, so it cannot be used again; make it again, then keep the server's version";
  switch (action) {
    case "reapply":
      return c.operation === "update" ? "Only an edit of something that still exists and is not voided can be re-applied" : `Only an edit can be re-applied; this was a ${c.operation}`;
    case "restore":
      return "Only an edit of a project deleted on another device can be restored as a new project";
    case "reenter":
      return c.entity_type === "pos_order" ? "A refused POS sale is never entered again by the app; ring it up again if a manager says so" : `Only a refused new record can be entered again; this was a ${c.operation}`;
    case "dismiss":
      return "This entry cannot be dismissed";
  }
}

/**
 * Closes a conflict with `action`, recording who did it. The new event (if any) and the closing are
 * one transaction: a refused write writes nothing, so the entry stays open.
 */
export function resolveConflict(ctx: StoreContext, db: Database.Database, id: number, action: ConflictAction): Result<null, string> {
  const conflict = readConflict(ctx, id);
  if (!conflict) return err(`There is no conflict ${id}`);
  if (conflict.resolved_at) return err(`This conflict was already resolved (${conflict.resolution}${conflict.resolved_by ? ` by ${conflict.resolved_by}` : ""})`);
  if (!allowedActions(conflict).includes(action)) return err(refusal(conflict, action));
  return db.transaction((): Result<null, string> => {
    const outcome = rewrite(ctx, conflict, action);
    if (outcome && !outcome.ok) return err(outcome.error.message);
    close(ctx, conflict, action, ctx.config().user_id, null);
    return ok(null);
  })();
}

function rewrite(ctx: StoreContext, c: Conflict, action: ConflictAction): writes.WriteOutcome | null {
  switch (action) {
    case "dismiss":
      return null;
    case "reapply":
      return writes.enqueue(ctx, c.entity_type, c.entity_id, "update", reapplied(c));
    case "restore":
    case "reenter":
      return writes.enqueueCreate(ctx, c.entity_type, mineData(c));
  }
}

/** A manager's resolution the server accepted (protocol/conflicts.ts): closes the entry, naming the manager. */
export function recordManagerResolution(ctx: StoreContext, id: number, resolution: ConflictResolution): Result<null, string> {
  const conflict = readConflict(ctx, id);
  if (!conflict) return err(`There is no conflict ${id}`);
  if (conflict.event_id !== resolution.event_id) return err(`The server's answer is about another change (${resolution.event_id})`);
  if (conflict.resolved_at) return ok(null); // the same resolution, asked again: the server answered `already`
  close(ctx, conflict, resolution.action, resolution.resolved_by, resolution.note);
  return ok(null);
}

function close(ctx: StoreContext, c: Conflict, resolution: string, by: string, note: string | null): void {
  ctx
    .stmt("UPDATE conflicts SET resolved_at = ?, resolution = ?, resolved_by = ?, resolution_note = ? WHERE id = ? AND resolved_at IS NULL")
    .run(nowIso(ctx), resolution, by, note, c.id);
  audit(ctx, "conflict_resolved", `${c.id} (${c.event_id}): ${resolution} by ${by}${note ? `: ${note}` : ""}`);
}

/**
 * An edit whose selection went as a change set (protocol v8), with the selection it made of `base`
 * in its place: the inbox shows "12 photos", not the change set. Kept as it is when it does not apply.
 */
function withWholeSelection(payload: Record<string, unknown>, base: unknown): Record<string, unknown> {
  const changes = MediaSelectionChanges.safeParse(payload.media_selection);
  const selection = isRecord(base) ? MediaSelection.safeParse(base.media_selection) : null;
  if (!changes.success || !selection?.success) return payload;
  const applied = applySelectionChanges(selection.data, changes.data);
  return applied.ok ? { ...payload, media_selection: applied.value } : payload;
}

/**
 * What a re-apply sends: the edit as it was, on the server's current version. A selection change
 * set re-applies its picks; photos it unpicked that the server's selection no longer has are already
 * gone (unpicking them again would be refused as built on another selection).
 */
function reapplied(c: Conflict): unknown {
  const payload = c.local_payload;
  const server = c.server_entity;
  if (!isRecord(payload) || server?.entity_type !== "project" || server.deleted) return payload;
  const changes = MediaSelectionChanges.safeParse(payload.media_selection);
  if (!changes.success) return payload;
  const present = new Set(server.data.media_selection.items.map((i) => i.sha256));
  const remove = changes.data.remove.filter((sha) => present.has(sha));
  if (changes.data.upsert.length > 0 || remove.length > 0) return { ...payload, media_selection: { upsert: changes.data.upsert, remove } };
  const { media_selection: _done, ...rest } = payload;
  return rest;
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/** A stored JSON text, or the text itself if it is not JSON (the inbox shows what is there, whatever it is). */
function parseOr(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
