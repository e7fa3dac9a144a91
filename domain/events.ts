/**
 * The sync event: one local mutation, queued on the device and pushed to the branch.
 *
 * Validation is two-stage so that every event gets its own verdict (I2):
 *  1. `SyncEvent` checks the envelope (ids, type, operation, version fields);
 *  2. `parseEventBody` checks the operation is defined for the entity type and the payload is the
 *     right shape, returning a reject code (`append_only`, `invalid_payload` …) instead of throwing.
 */
import { z } from "zod";
import {
  type EntityType as EntityTypeT,
  EntityType,
  InvoiceCreate,
  InvoicePatch,
  PosOrderCreate,
  ProjectData,
  ProjectPatch,
} from "./entities/index.js";
import { DeviceId, EntityId, EventId } from "./ids.js";
import { Operation } from "./operations.js";
import type { RejectCode, RejectDetail } from "./reject-codes.js";
import { isOperationDefined } from "./permissions.js";
import { err, ok, type Result } from "../lib/result.js";
import { IsoDateTime, line } from "./text.js";

/** Payload of `void` (invoice, pos_order) and `delete` (project). */
export const ReasonPayload = z.strictObject({ reason: line(500) });
export type ReasonPayload = z.infer<typeof ReasonPayload>;

/** The payload schema of every defined (entity type, operation) pair. */
export const EVENT_PAYLOADS = {
  project: { create: ProjectData, update: ProjectPatch, delete: ReasonPayload },
  invoice: { create: InvoiceCreate, update: InvoicePatch, void: ReasonPayload },
  pos_order: { create: PosOrderCreate, void: ReasonPayload },
} as const;

export const SyncEvent = z.strictObject({
  /** Generated on the device; the deduplication key (I3). */
  id: EventId,
  device_id: DeviceId,
  entity_type: EntityType,
  entity_id: EntityId,
  operation: Operation,
  /** Validated per (entity_type, operation) by `parseEventBody`. */
  payload: z.unknown(),
  /**
   * The server version of the entity the author saw, for the first local change to an entity that
   * came from the server. `null` on `create` and on a change that depends on an earlier local event.
   */
  base_version: z.int().min(1).max(Number.MAX_SAFE_INTEGER).nullable(),
  /**
   * The earlier local event (same entity, unconfirmed when this one was written) that this event
   * builds on. The server commits this event only if that one was committed and nothing else has
   * been committed to the entity since (I7).
   */
  depends_on: EventId.nullable(),
  /** Device clock at the write. Informational only: order is the server's sequence (I4). */
  created_at: IsoDateTime,
});
export type SyncEvent = z.infer<typeof SyncEvent>;

/** Local queue status on the device (the seed's `sync_status`). */
export const SyncStatus = z.enum(["pending", "sent", "confirmed", "rejected"]);
export type SyncStatus = z.infer<typeof SyncStatus>;

/** A sync event as the desktop's queue holds it. */
export const QueuedEvent = SyncEvent.extend({ sync_status: SyncStatus });
export type QueuedEvent = z.infer<typeof QueuedEvent>;

type Payloads = typeof EVENT_PAYLOADS;
type Envelope = Omit<SyncEvent, "entity_type" | "operation" | "payload">;

/** A sync event whose payload has been validated for its (entity type, operation). */
export type TypedEvent = {
  [T in keyof Payloads]: {
    [O in keyof Payloads[T]]: Envelope & {
      entity_type: T;
      operation: O;
      payload: Payloads[T][O] extends z.ZodType ? z.infer<Payloads[T][O]> : never;
    };
  }[keyof Payloads[T]];
}[keyof Payloads];

export interface EventRejection {
  code: RejectCode;
  detail: RejectDetail | null;
}

export function payloadSchemaFor(entityType: EntityTypeT, operation: Operation): z.ZodType | null {
  const row = hot.payloads[entityType] as Partial<Record<Operation, z.ZodType>>;
  return row[operation] ?? null;
}

/** First issue of a zod error as a reject detail: where and what, in words. */
export function issueDetail(error: z.ZodError): RejectDetail {
  const issue = error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join(".").slice(0, 200) : null;
  return { field, expected: null, received: (issue?.message ?? "invalid").slice(0, 500) };
}

/** Stage 1 of event validation (see the file comment): `SyncEvent.safeParse`, compiled once compileEventSchemas has run. */
export const decodeEnvelope = (raw: unknown) => hot.envelope.safeParse(raw);

/** Stage 2 of event validation (see the file comment). Never throws on bad input. */
export function parseEventBody(event: SyncEvent): Result<TypedEvent, EventRejection> {
  const { entity_type, operation } = event;
  if (!isOperationDefined(entity_type, operation)) {
    return err({
      code: entity_type === "pos_order" ? "append_only" : "operation_not_allowed",
      detail: { field: "operation", expected: null, received: operation },
    });
  }
  if (operation === "create") {
    if (event.base_version !== null || event.depends_on !== null) {
      return err({
        code: "invalid_payload",
        detail: { field: "base_version", expected: null, received: "a create has no base version or dependency" },
      });
    }
  } else if ((event.base_version === null) === (event.depends_on === null)) {
    return err({
      code: "invalid_payload",
      detail: { field: "base_version", expected: null, received: "exactly one of base_version and depends_on is required" },
    });
  }
  const schema = payloadSchemaFor(entity_type, operation)!;
  const parsed = schema.safeParse(event.payload);
  if (!parsed.success) return err({ code: "invalid_payload", detail: issueDetail(parsed.error) });
  return ok({ ...event, payload: parsed.data } as TypedEvent);
}

/**
 * The schemas every event is checked against on its way in (the envelope, its payload, and the
 * entity an update merges into, apply.ts), as `decodeEnvelope`, `parseEventBody` and `applyEvent` run
 * them: zod's runtime parser, or, once compileEventSchemas has run, the same schemas compiled by zod
 * (`z.compile`, zod 4.6). One generated function checks a value; a value it does not accept is parsed
 * again by the runtime parser, so a refusal and its words are the runtime's own
 * (test/node/schema/compiled-events.test.ts holds the two equal on every example and mutations of them).
 *
 * Why (issue 16): the branch checks every pushed event, and a Durable Object that has just started
 * (which is every one, after it is evicted) checks its first ten thousand or so before V8 has
 * optimized the runtime parser: 14 µs per event there against 7 compiled, and 5 against 3 after.
 *
 * Opt-in, because compiling generates code (`new Function`). The Worker compiles while its module is
 * evaluated: workerd allows code generation during start-up only (compatibility flag
 * `allow_eval_during_startup`, on since 2025-06-01), never while it handles a request. Where it is not
 * allowed, zod hands each schema back uncompiled and nothing changes. It costs about 10 ms.
 */
const hot = {
  envelope: SyncEvent,
  payloads: EVENT_PAYLOADS as { readonly [T in keyof Payloads]: { readonly [O in keyof Payloads[T]]: Payloads[T][O] } },
  project: ProjectData,
  invoice: InvoiceCreate,
};
let compileTried = false;

/** The schemas applyEvent checks a merged entity against (compiled once compileEventSchemas has run). */
export const mergedSchemas = (): { readonly project: typeof ProjectData; readonly invoice: typeof InvoiceCreate } => hot;

/** Compiles the event schemas, once (a refusal is not tried again). Returns whether they are compiled. */
export function compileEventSchemas(): boolean {
  if (!compileTried) {
    compileTried = true;
    hot.envelope = z.compile(SyncEvent);
    hot.payloads = {
      project: { create: z.compile(ProjectData), update: z.compile(ProjectPatch), delete: z.compile(ReasonPayload) },
      invoice: { create: z.compile(InvoiceCreate), update: z.compile(InvoicePatch), void: z.compile(ReasonPayload) },
      pos_order: { create: z.compile(PosOrderCreate), void: z.compile(ReasonPayload) },
    };
    hot.project = hot.payloads.project.create;
    hot.invoice = hot.payloads.invoice.create;
  }
  return hot.envelope !== SyncEvent;
}
