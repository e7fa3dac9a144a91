/**
 * Local writes (I1): validate with the shared schema, then write the queued event, the view and the
 * transaction log in ONE SQLite transaction. Nothing here touches the network.
 *
 * Each event records what its author saw: `depends_on` the previous open event on the same entity,
 * else `base_version` the confirmed server version (I7).
 */
import { z } from "zod";
import { AmountMinor, applyEvent, Currency, fromEventRejection, invalidPayload, PosLine, PosPaymentMethod, canWrite, type Entity, type EntityType, type InvoiceCreate, type InvoicePatch, type MediaSelection, type Operation, parseEventBody, type PosOrderCreate, posLinesTotalMinor, type ProjectData, type ProjectPatch, reject, type RejectFacts, type RejectSubject, type WireRejection, wireRejection, zonedIso, SyncEvent, uuidv7 } from "../../domain/index.js";
import { err, ok, type Result } from "../../lib/result.js";
import { branchTimeZone, log, nowIso, type StoreContext } from "./context.js";
import { computeView, RECEIPT_PENDING, refreshView, viewForWrite } from "./view.js";

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

/** The one path every local write takes. */
export function enqueue(ctx: StoreContext, entity_type: EntityType, entity_id: string, operation: Operation, payload: unknown): WriteOutcome {
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
  const { base, open, view: current } = viewForWrite(ctx, entity_id);
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
  // Decoded, not asserted: the ids become branded values here, checked as the server will check them.
  const envelope = SyncEvent.safeParse(draft);
  if (!envelope.success) return refuse(invalidPayload(envelope.error, draft));
  const event = envelope.data;
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

  ctx.db.transaction(() => {
    ctx
      .stmt(
        `INSERT INTO sync_queue (id, entity_type, entity_id, operation, payload_json, created_at, sync_status, base_version, depends_on)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
      )
      .run(event.id, entity_type, entity_id, operation, JSON.stringify(typed.value.payload), event.created_at, event.base_version, event.depends_on);
    refreshView(ctx, entity_id);
    log(ctx, "write", `${operation} ${entity_type}`, event);
  })();
  return ok({ event, entity: next.value });
}

// ───────────────────────────── domain actions ─────────────────────────────

export const createProject = (ctx: StoreContext, data: ProjectData) => enqueue(ctx, "project", newId(ctx), "create", data);
export const updateProject = (ctx: StoreContext, id: string, patch: ProjectPatch) => enqueue(ctx, "project", id, "update", patch);
export const deleteProject = (ctx: StoreContext, id: string, reason: string) => enqueue(ctx, "project", id, "delete", { reason });
export const setMediaSelection = (ctx: StoreContext, id: string, selection: MediaSelection) =>
  enqueue(ctx, "project", id, "update", { media_selection: selection });

export const createInvoice = (ctx: StoreContext, data: InvoiceCreate) => enqueue(ctx, "invoice", newId(ctx), "create", data);
export const updateInvoice = (ctx: StoreContext, id: string, patch: InvoicePatch) => enqueue(ctx, "invoice", id, "update", patch);
export const voidInvoice = (ctx: StoreContext, id: string, reason: string) => enqueue(ctx, "invoice", id, "void", { reason });

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

function posCreate(ctx: StoreContext, order: Omit<PosOrderCreate, "local_receipt_no" | "rung_at" | "cashier">): WriteOutcome {
  // The receipt counter moves in the same transaction as the write (better-sqlite3 nests
  // transactions as savepoints); a refused write rolls the counter back too.
  return withRollback(() =>
    ctx.db.transaction((): WriteOutcome => {
      const payload = { ...order, local_receipt_no: nextLocalReceipt(ctx), rung_at: zonedIso(ctx.clockMs(), branchTimeZone(ctx)), cashier: ctx.config().user_id };
      const outcome = enqueue(ctx, "pos_order", newId(ctx), "create", payload);
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

export function posSale(ctx: StoreContext, raw: SaleInput): WriteOutcome {
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
    });
}

export function posCorrection(ctx: StoreContext, originalId: string, raw: CorrectionInput): WriteOutcome {
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
    });
}

export const posVoid = (ctx: StoreContext, id: string, reason: string) => enqueue(ctx, "pos_order", id, "void", { reason });


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

export function write(ctx: StoreContext, action: StoreWrite): WriteOutcome {
  switch (action.kind) {
    case "pos_sale":
      return posSale(ctx, action.input);
    case "pos_correction":
      return posCorrection(ctx, action.id, action.input);
    case "pos_void":
      return posVoid(ctx, action.id, action.reason);
    case "project_create":
      return createProject(ctx, action.data);
    case "project_update":
      return updateProject(ctx, action.id, action.patch);
    case "project_delete":
      return deleteProject(ctx, action.id, action.reason);
    case "media_selection":
      return setMediaSelection(ctx, action.id, action.selection);
    case "invoice_create":
      return createInvoice(ctx, action.data);
    case "invoice_update":
      return updateInvoice(ctx, action.id, action.patch);
    case "invoice_void":
      return voidInvoice(ctx, action.id, action.reason);
  }
}

/** A bulk write refused: nothing of it was written; `index` names the write that was refused. */
export type BulkWriteError = WriteError & { index: number };

/**
 * N writes in ONE local transaction (imports, a Smart Select of a folder): each is still its own
 * queued event with its own id, validated exactly as a single write. All or nothing: the first
 * refused write rolls every one back and is named by its index.
 */
export function writeMany(ctx: StoreContext, actions: readonly StoreWrite[]): Result<Written[], BulkWriteError> {
  try {
    return ctx.db.transaction((): Result<Written[], BulkWriteError> => {
      const done: Written[] = [];
      actions.forEach((action, index) => {
        const outcome = write(ctx, action);
        if (!outcome.ok) throw new BulkRollback({ ...outcome.error, index });
        done.push(outcome.value);
      });
      return ok(done);
    })();
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
