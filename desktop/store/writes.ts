/**
 * Local writes (I1): validate with the shared schema, then write the queued event, the view and the
 * transaction log in ONE SQLite transaction. Nothing here touches the network.
 *
 * Each event records what its author saw: `depends_on` the previous open event on the same entity,
 * else `base_version` the confirmed server version (I7).
 */
import { z } from "zod";
import { AmountMinor, applyEvent, Currency, fromEventRejection, invalidPayload, PosLine, PosPaymentMethod, canWrite, type Entity, type EntityType, type InvoiceCreate, type InvoicePatch, type MediaSelection, type Operation, parseEventBody, type PosOrderCreate, posLinesTotalMinor, type ProjectData, type ProjectPatch, reject, selectionChanges, type RejectFacts, type RejectSubject, type WireRejection, wireRejection, zonedIso, SyncEvent, uuidv7 } from "../../domain/index.js";
import { err, ok, type Result } from "../../lib/result.js";
import { branchTimeZone, log, logMany, nowIso, type StoreContext } from "./context.js";
import { computeView, RECEIPT_PENDING, upsertView, viewForWrite } from "./view.js";

/** A refused write, as the server would have rejected it: its code, typed detail, and the same words. */
export type WriteError = WireRejection;

export interface Written {
  event: SyncEvent;
  /** The entity as the user now sees it. */
  entity: Entity;
}

export type WriteOutcome = Result<Written, WriteError>;

/** A refusal is built with domain's `reject`, so its detail and subject are checked against its code. */
const refuse = (facts: RejectFacts) => err<WriteError>(wireRejection(facts));

export function newId(ctx: StoreContext): string {
  return uuidv7(ctx.clockMs(), ctx.random);
}

/**
 * What a bulk write (`writeMany`) gathers while its writes run in its one transaction: the view each
 * entity ends with, written once per entity at the end, and the log rows, written in one statement.
 */
class Bulk {
  readonly views = new Map<string, Entity>();
  readonly logs: Array<[event_id: string, entity_type: string, entity_id: string, detail: string]> = [];
  /** The events written, remembered for the next batch once the bulk transaction has committed (context.ts WrittenEvents). */
  readonly written: Array<[event: SyncEvent, payloadText: string]> = [];
}

/** A write on an entity that may exist: what it builds on is read first (`enqueueOn`). */
export function enqueue(ctx: StoreContext, entity_type: EntityType, entity_id: string, operation: Operation, payload: unknown, bulk: Bulk | null = null): WriteOutcome {
  return enqueueOn(ctx, entity_type, entity_id, operation, payload, bulk, null);
}

/** What a write on an entity id minted for it builds on: nothing (no base, no open event, no view). */
const NOTHING_YET: ReturnType<typeof viewForWrite> = { base: null, open: [], view: null };

/** `Date.prototype.toISOString` of an instant in years 0000-9999 (beyond them it writes a six-digit signed year the schema refuses). */
const MINTED_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * A create of a new entity, under an id minted here (a UUIDv7: this clock and fresh randomness), so
 * nothing of it can exist yet: the base, open events and view that `enqueue` would read are known to
 * be none, and are not read (two statements per created entity, the bulk of an import).
 */
export function enqueueCreate(ctx: StoreContext, entity_type: EntityType, payload: unknown, bulk: Bulk | null = null): WriteOutcome {
  return enqueueOn(ctx, entity_type, newId(ctx), "create", payload, bulk, NOTHING_YET);
}

/**
 * The one path every local write takes. Alone (`bulk` null), the write is its own transaction: the
 * queued event, the view and the log row. In a bulk write, the queued event is inserted at once (a
 * later write on the same entity builds on it) and the view and the log wait for the end of it.
 * `known`: what the write builds on when the caller knows it (a new entity: nothing), else read here.
 */
function enqueueOn(
  ctx: StoreContext,
  entity_type: EntityType,
  entity_id: string,
  operation: Operation,
  payload: unknown,
  bulk: Bulk | null,
  known: ReturnType<typeof viewForWrite> | null,
): WriteOutcome {
  const cfg = ctx.config();
  // The desktop pre-checks so a cashier learns at once; the server decides (I11).
  const subject: RejectSubject = { entity_type, operation };
  if (!canWrite(cfg.role, entity_type, operation)) {
    const defined = entity_type !== "pos_order" || operation === "create" || operation === "void";
    return refuse(
      defined
        ? reject("permission_denied", { field: "role", expected: null, received: cfg.role }, subject)
        : reject("append_only", { field: "operation", expected: null, received: operation }),
    );
  }
  const { base, open, view: current } = known ?? viewForWrite(ctx, entity_id);
  const draft = {
    id: newId(ctx),
    device_id: cfg.device_id,
    entity_type,
    entity_id,
    operation,
    payload,
    base_version: operation === "create" || open.length > 0 ? null : (base?.version ?? null),
    depends_on: operation === "create" ? null : (open.at(-1)?.id ?? null),
    created_at: nowIso(ctx),
  };
  if (operation !== "create" && draft.base_version === null && draft.depends_on === null) {
    return refuse(reject("entity_not_found", null, subject));
  }
  let event: SyncEvent;
  if (known === NOTHING_YET && MINTED_AT.test(draft.created_at)) {
    // A create under an id minted here is an envelope the schema accepts by construction: UUIDv7 event
    // and entity ids, this device's id as its config was decoded, a create with neither base nor
    // dependency, and this clock's time as an ISO instant of years 0000-9999. Decoding it again cost
    // about a tenth of an import (issue 16). Its payload is the caller's: parseEventBody checks it below.
    event = draft as SyncEvent;
  } else {
    // Decoded, not asserted: the ids become branded values here, checked as the server will check them.
    const envelope = SyncEvent.safeParse(draft);
    if (!envelope.success) return refuse(invalidPayload(envelope.error, draft));
    event = envelope.data;
  }
  const typed = parseEventBody(event);
  if (!typed.ok) return refuse(fromEventRejection(typed.error, event));

  const next = applyEvent(current, typed.value, {
    version: (current?.version ?? 0) + 1,
    seq: 0,
    device_id: cfg.device_id,
    user_id: cfg.user_id,
    official_receipt_no: RECEIPT_PENDING,
    official_invoice_no: null,
  });
  if (!next.ok) return refuse(fromEventRejection(next.error, event));

  const payloadText = JSON.stringify(typed.value.payload);
  const insert = () =>
    ctx
      .stmt(
        `INSERT INTO sync_queue (id, entity_type, entity_id, operation, payload_json, created_at, sync_status, base_version, depends_on)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
      )
      .run(event.id, entity_type, entity_id, operation, payloadText, event.created_at, event.base_version, event.depends_on);
  // The view is base ⊕ open events, and `next` is exactly that: the base and every readable open
  // event folded (viewForWrite quarantined any unreadable one first), then this event, through the
  // same applyEvent with the same commit info as refreshView's fold. So it is written as it is, not
  // read back and folded again.
  if (bulk) {
    insert();
    bulk.views.set(entity_id, next.value);
    bulk.logs.push([event.id, entity_type, entity_id, `${operation} ${entity_type}`]);
    bulk.written.push([event, payloadText]);
  } else {
    ctx.db.transaction(() => {
      insert();
      upsertView(ctx, next.value, "pending");
      log(ctx, "write", `${operation} ${entity_type}`, event);
    })();
    ctx.written.remember(event, payloadText);
  }
  return ok({ event, entity: next.value });
}

// ───────────────────────────── domain actions ─────────────────────────────

// Each takes the bulk write it is part of, if any (writeMany); alone, it is its own transaction.
export const createProject = (ctx: StoreContext, data: ProjectData, bulk: Bulk | null = null) => enqueueCreate(ctx, "project", data, bulk);
export const updateProject = (ctx: StoreContext, id: string, patch: ProjectPatch, bulk: Bulk | null = null) => enqueue(ctx, "project", id, "update", patch, bulk);
export const deleteProject = (ctx: StoreContext, id: string, reason: string, bulk: Bulk | null = null) => enqueue(ctx, "project", id, "delete", { reason }, bulk);
/**
 * The client's Smart Select: the whole selection as the user left it. It goes on the wire as a change
 * set against the selection this till shows (protocol v8: one photo picked among 20,000 is one item)
 * whenever that says less, else whole; either way the server's result is this selection.
 */
export function setMediaSelection(ctx: StoreContext, id: string, selection: MediaSelection, bulk: Bulk | null = null): WriteOutcome {
  const shown = viewForWrite(ctx, id).view;
  const changes = shown?.entity_type === "project" && shown.data !== null ? selectionChanges(shown.data.media_selection, selection) : null;
  return enqueue(ctx, "project", id, "update", { media_selection: changes ?? selection }, bulk);
}

export const createInvoice = (ctx: StoreContext, data: InvoiceCreate, bulk: Bulk | null = null) => enqueueCreate(ctx, "invoice", data, bulk);
export const updateInvoice = (ctx: StoreContext, id: string, patch: InvoicePatch, bulk: Bulk | null = null) => enqueue(ctx, "invoice", id, "update", patch, bulk);
export const voidInvoice = (ctx: StoreContext, id: string, reason: string, bulk: Bulk | null = null) => enqueue(ctx, "invoice", id, "void", { reason }, bulk);

/** What the till enters for a sale; the store computes total, change and receipt numbers. */
export const SaleInput = z.strictObject({
  currency: Currency,
  lines: z.array(PosLine).min(1).max(200),
  method: PosPaymentMethod,
  /** Cash only: what the customer handed over (defaults to the exact total). */
  tendered_minor: AmountMinor.nullable().optional(),
});
export type SaleInput = z.infer<typeof SaleInput>;

export const CorrectionInput = z.strictObject({
  lines: z.array(PosLine).min(1).max(200),
  method: PosPaymentMethod,
  reason: z.string().min(1).max(500),
});
export type CorrectionInput = z.infer<typeof CorrectionInput>;

/** Input that is not even the right shape is refused like any invalid change. */
function invalidInput(error: z.ZodError, input: unknown): WriteOutcome {
  return refuse(invalidPayload(error, input));
}

/**
 * The device-local receipt number printed on an offline receipt, e.g. `D7F3A-000042`: the device's
 * own counter, so two tills never print the same number; the server assigns the official one.
 */
function nextLocalReceipt(ctx: StoreContext): string {
  const row = ctx.stmt("SELECT value FROM sync_state WHERE key = 'receipt_counter'").get() as { value: string } | undefined;
  const n = (row ? Number(row.value) : 0) + 1;
  ctx.stmt("INSERT OR REPLACE INTO sync_state (key, value) VALUES ('receipt_counter', ?)").run(String(n));
  return `D${ctx.config().device_id.slice(-4).toUpperCase()}-${String(n).padStart(6, "0")}`;
}

function posCreate(ctx: StoreContext, order: Omit<PosOrderCreate, "local_receipt_no" | "rung_at" | "cashier">, bulk: Bulk | null): WriteOutcome {
  const create = (): WriteOutcome => {
    const payload = { ...order, local_receipt_no: nextLocalReceipt(ctx), rung_at: zonedIso(ctx.clockMs(), branchTimeZone(ctx)), cashier: ctx.config().user_id };
    return enqueueCreate(ctx, "pos_order", payload, bulk);
  };
  // In a bulk write a refusal rolls the whole transaction back, the counter with it.
  if (bulk) return create();
  // The receipt counter moves in the same transaction as the write (better-sqlite3 nests
  // transactions as savepoints); a refused write rolls the counter back too.
  return withRollback(() =>
    ctx.db.transaction((): WriteOutcome => {
      const outcome = create();
      if (!outcome.ok) throw new RollbackWith(outcome);
      return outcome;
    })(),
  );
}

class RollbackWith extends Error {
  constructor(readonly outcome: WriteOutcome) {
    super("rolled back");
  }
}

function withRollback(run: () => WriteOutcome): WriteOutcome {
  try {
    return run();
  } catch (e) {
    if (e instanceof RollbackWith) return e.outcome;
    throw e;
  }
}

export function posSale(ctx: StoreContext, raw: SaleInput, bulk: Bulk | null = null): WriteOutcome {
  const parsed = SaleInput.safeParse(raw);
  if (!parsed.success) return invalidInput(parsed.error, raw);
  const input = parsed.data;
  const total = posLinesTotalMinor(input.lines);
  const cash = input.method === "cash";
  const tendered = cash ? (input.tendered_minor ?? total) : null;
  return posCreate(ctx, {
      kind: "sale",
      corrects_order_id: null,
      reason: null,
      currency: input.currency,
      lines: input.lines,
      total_minor: total,
      payment: { method: input.method, tendered_minor: tendered, change_minor: cash && tendered !== null ? tendered - total : null },
    }, bulk);
}

export function posCorrection(ctx: StoreContext, originalId: string, raw: CorrectionInput, bulk: Bulk | null = null): WriteOutcome {
  const parsed = CorrectionInput.safeParse(raw);
  if (!parsed.success) return invalidInput(parsed.error, raw);
  const input = parsed.data;
  const subject: RejectSubject = { entity_type: "pos_order", operation: "create" };
  const original = computeView(ctx, originalId);
  if (original === null || original.entity_type !== "pos_order") {
    return refuse(reject("reference_not_found", { field: "corrects_order_id", expected: null, received: originalId }, subject));
  }
  if (original.void !== null) {
    return refuse(reject("reference_invalid", { field: "corrects_order_id", expected: null, received: originalId }, subject));
  }
  return posCreate(ctx, {
      kind: "correction",
      corrects_order_id: original.entity_id,
      reason: input.reason,
      currency: original.data.currency,
      lines: input.lines,
      total_minor: posLinesTotalMinor(input.lines),
      payment: { method: input.method, tendered_minor: null, change_minor: null },
    }, bulk);
}

export const posVoid = (ctx: StoreContext, id: string, reason: string, bulk: Bulk | null = null) => enqueue(ctx, "pos_order", id, "void", { reason }, bulk);


// ───────────────────────────── one write, or many in one transaction ─────────────────────────────

/** Every write the app can make, one payload per kind; the store validates each payload fully. */
export type StoreWrite =
  | { kind: "pos_sale"; input: SaleInput }
  | { kind: "pos_correction"; id: string; input: CorrectionInput }
  | { kind: "pos_void"; id: string; reason: string }
  | { kind: "project_create"; data: ProjectData }
  | { kind: "project_update"; id: string; patch: ProjectPatch }
  | { kind: "project_delete"; id: string; reason: string }
  | { kind: "media_selection"; id: string; selection: MediaSelection }
  | { kind: "invoice_create"; data: InvoiceCreate }
  | { kind: "invoice_update"; id: string; patch: InvoicePatch }
  | { kind: "invoice_void"; id: string; reason: string };

export const write = (ctx: StoreContext, action: StoreWrite): WriteOutcome => writeOne(ctx, action, null);

/** One write by kind, alone or as part of a bulk write; each kind validated exactly as its single write. */
function writeOne(ctx: StoreContext, action: StoreWrite, bulk: Bulk | null): WriteOutcome {
  switch (action.kind) {
    case "pos_sale":
      return posSale(ctx, action.input, bulk);
    case "pos_correction":
      return posCorrection(ctx, action.id, action.input, bulk);
    case "pos_void":
      return posVoid(ctx, action.id, action.reason, bulk);
    case "project_create":
      return createProject(ctx, action.data, bulk);
    case "project_update":
      return updateProject(ctx, action.id, action.patch, bulk);
    case "project_delete":
      return deleteProject(ctx, action.id, action.reason, bulk);
    case "media_selection":
      return setMediaSelection(ctx, action.id, action.selection, bulk);
    case "invoice_create":
      return createInvoice(ctx, action.data, bulk);
    case "invoice_update":
      return updateInvoice(ctx, action.id, action.patch, bulk);
    case "invoice_void":
      return voidInvoice(ctx, action.id, action.reason, bulk);
  }
}

/** A bulk write refused: nothing of it was written; `index` names the write that was refused. */
export type BulkWriteError = WriteError & { index: number };

/**
 * N writes in ONE local transaction (imports, a Smart Select of a folder): each is still its own
 * queued event with its own id, validated exactly as a single write (the same `enqueue`). All or
 * nothing: the first refused write rolls every one back and is named by its index.
 *
 * Cheaper than N writes: one BEGIN/COMMIT instead of N (and no savepoint per POS sale: a refusal
 * rolls back everything, its receipt counter too), each entity's view written once at the end
 * (the view its last write left), and the N log rows in one statement.
 */
export function writeMany(ctx: StoreContext, actions: readonly StoreWrite[]): Result<Written[], BulkWriteError> {
  const bulk = new Bulk();
  try {
    const outcome = ctx.db.transaction((): Result<Written[], BulkWriteError> => {
      const done: Written[] = [];
      actions.forEach((action, index) => {
        const outcome = writeOne(ctx, action, bulk);
        if (!outcome.ok) throw new BulkRollback({ ...outcome.error, index });
        done.push(outcome.value);
      });
      for (const entity of bulk.views.values()) upsertView(ctx, entity, "pending");
      logMany(ctx, "write", bulk.logs);
      return ok(done);
    })();
    for (const [event, payloadText] of bulk.written) ctx.written.remember(event, payloadText);
    return outcome;
  } catch (e) {
    if (e instanceof BulkRollback) return err(e.error);
    throw e;
  }
}

class BulkRollback extends Error {
  constructor(readonly error: BulkWriteError) {
    super("bulk write rolled back");
  }
}
