/** The open database and the injected clock and randomness that every store module works with. */
import type Database from "better-sqlite3";
import { z } from "zod";
import { DeviceId, type EntityType, issueDetail, type Operation, parseEventBody, Role, SyncEvent, type SyncStatus, type TypedEvent, UserId } from "../../domain/index.js";
import { err, ok, type Result } from "../../lib/result.js";

/**
 * What `init` binds the store to, as kept in `sync_state` and decoded (branded ids included) when read.
 * Not strict: a config written by a newer build keeps working for the keys this one knows.
 */
export const StoreConfig = z.object({
  branch_id: z.string(),
  device_id: DeviceId,
  user_id: UserId,
  role: Role,
  server_url: z.string(),
  token: z.string(),
  /**
   * The branch's IANA time zone, from the server (`welcome`); null until the device first connects.
   * Business days are days in this zone (I13). Absent in configs written before it existed.
   */
  time_zone: z.string().nullable().optional(),
});
export type StoreConfig = z.infer<typeof StoreConfig>;

export interface StoreContext {
  readonly db: Database.Database;
  /** Events this process wrote and validated, until a batch takes them (`WrittenEvents`). */
  readonly written: WrittenEvents;
  readonly clockMs: () => number;
  readonly random: (bytes: Uint8Array) => void;
  /** Prepared statements, cached by SQL text. */
  stmt(sql: string): Database.Statement;
  /** The configuration set by `init` (throws if the store was never initialised). */
  config(): StoreConfig;
}

export interface QueueRow {
  position: number;
  id: string;
  entity_type: EntityType;
  entity_id: string;
  operation: Operation;
  payload_json: string;
  created_at: string;
  sync_status: SyncStatus;
  base_version: number | null;
  depends_on: string | null;
  batch_id: string | null;
  seq: number | null;
  version: number | null;
  official_receipt_no: number | null;
}

/**
 * SET clause of an UPDATE that decides a queue row: the row takes the id and time of the batch it was
 * sent in, if any (a `sync_batches` range holding its position; none for an event refused before it
 * was ever sent). Decided rows keep them; a pending row's batch is its range (migrations.ts, layout 7).
 */
export const STAMP_BATCH =
  "(batch_id, sent_at) = (SELECT b.batch_id, b.sent_at FROM sync_batches b WHERE sync_queue.position BETWEEN b.first_position AND b.last_position)";

/**
 * The end of the last batch put together and not yet answered in full (0: none). Batches take the
 * oldest pending events, in order (sync-apply.ts nextBatch), so a pending event is sent exactly when
 * its position is at most this: the one rule every reader of "sent" uses (layout 7).
 */
export const SENT_THROUGH = "(SELECT COALESCE(MAX(last_position), 0) FROM sync_batches)";

/** The state of queue row `q` as people read it: a pending event at or below SENT_THROUGH is `sent`. */
export const STATE_AS_READ = `CASE WHEN q.sync_status = 'pending' AND q.position <= ${SENT_THROUGH} THEN 'sent' ELSE q.sync_status END`;

/** The batch of queue row `q`, id or time (`column`): its own once decided (STAMP_BATCH), else the range holding it. */
export const batchAsRead = (column: "batch_id" | "sent_at") =>
  `COALESCE(q.${column}, (SELECT b.${column} FROM sync_batches b WHERE q.position BETWEEN b.first_position AND b.last_position))`;

/** Whether the pending queue row at `position` has been sent (SENT_THROUGH). */
export function inSentBatch(ctx: StoreContext, position: number): boolean {
  return (ctx.stmt(`SELECT ? <= ${SENT_THROUGH} AS sent`).get(position) as { sent: number }).sent === 1;
}

/** The queue's rows as people read them (`q`): state, batch id and sent time as above. Append WHERE / ORDER BY on `q`. */
export const QUEUE_AS_READ = `
  SELECT q.position, q.id, q.entity_type, q.entity_id, q.operation, q.payload_json, q.created_at, ${STATE_AS_READ} AS sync_status,
         q.base_version, q.depends_on, ${batchAsRead("batch_id")} AS batch_id, ${batchAsRead("sent_at")} AS sent_at,
         q.seq, q.version, q.official_receipt_no, q.reject_code, q.reject_message, q.decided_at
    FROM sync_queue q`;

export const nowIso = (ctx: StoreContext) => new Date(ctx.clockMs()).toISOString();

/**
 * The zone business days are counted in: the branch's. The server sends it in every `welcome`, before
 * any verdict or change can reach the store, so UTC only stands in on a till that has never connected
 * (its sales' days are worked out again, from the instant, when they are confirmed).
 */
export const timeZoneOf = (config: StoreConfig | null): string => config?.time_zone ?? "UTC";
export const branchTimeZone = (ctx: StoreContext): string => timeZoneOf(ctx.config());

/**
 * A queue row that cannot be sent or shown: its payload is not JSON any more, or it no longer
 * validates (a damaged file, a row written by a build whose schema has since changed). Such a row is
 * quarantined (sync-apply.ts `quarantine`): rejected locally with this code, kept in the queue and put
 * in the conflict inbox. A device-local code: it never goes on the wire.
 */
export const UNREADABLE = "unreadable";

/** What a queue row holds, read back and checked against the schema (never throws). */
export type ReadQueued = Result<{ event: SyncEvent; typed: TypedEvent }, string>;

/**
 * Reads a queue row back as a wire event and as a validated event. Rows are validated when written,
 * but the file outlives the code that wrote it and disks damage files: a row that fails here is a
 * value to quarantine, not an exception that would stop every other row (I2, I12).
 */
export function readQueued(ctx: StoreContext, row: QueueRow): ReadQueued {
  let payload: unknown;
  try {
    payload = JSON.parse(row.payload_json) as unknown;
  } catch (e) {
    return err(`its saved data is not valid JSON (${(e as Error).message})`);
  }
  const event = {
    id: row.id,
    device_id: ctx.config().device_id,
    entity_type: row.entity_type,
    entity_id: row.entity_id,
    operation: row.operation,
    payload,
    base_version: row.base_version,
    depends_on: row.depends_on,
    created_at: row.created_at,
  };
  const envelope = SyncEvent.safeParse(event);
  if (!envelope.success) {
    const d = issueDetail(envelope.error);
    return err(`it no longer validates: ${d.field ?? "event"}: ${d.received}`);
  }
  const typed = parseEventBody(envelope.data);
  if (!typed.ok) {
    const d = typed.error.detail;
    return err(`it no longer validates: ${typed.error.code}${d?.field ? ` at ${d.field}` : ""}${d?.received !== undefined && d?.received !== null ? ` (${d.received})` : ""}`);
  }
  // The wire event keeps the payload exactly as stored (the typed one may differ in key order): the
  // envelope's `payload` is `z.unknown()`, so it is the very value parsed from the row.
  return ok({ event: envelope.data, typed: typed.value });
}

/**
 * A queue row's wire event as JSON text, its payload spliced in as the row stores it (`payloadText`,
 * the very text `JSON.parse` made the event's payload from): the text `JSON.stringify(event)` makes
 * but for the order of its keys (the payload last), without serialising the payload again. A batch is
 * measured and sent as these texts (sync-apply.ts nextBatch, session.ts), so each event is serialised
 * once on its way out.
 */
export function eventText(event: SyncEvent, payloadText: string): string {
  const { payload: _payload, ...envelope } = event;
  return `${JSON.stringify(envelope).slice(0, -1)},"payload":${payloadText}}`;
}

/**
 * The events this process wrote, validated as they were written, kept until a batch takes them: a
 * batch then sends each as it was written instead of reading its row back through the schema again
 * (`readQueued`, the larger part of preparing a batch). Only while the row still holds exactly what was
 * written: a row changed on disk since (damaged, or written by another build) is read back and checked
 * like any other, and quarantined if it fails. Bounded: past MAX events waiting, later writes are read
 * back as before. `remember` is called once the write's own transaction has returned; a write nested in
 * an outer transaction that then rolls back (a POS sale's savepoint) leaves an entry no row will ever
 * ask for (`take` is asked only for rows read from the queue), so nothing unwritten is ever sent.
 */
export class WrittenEvents {
  static readonly MAX = 50_000;
  readonly #events = new Map<string, { payloadText: string; event: SyncEvent }>();

  remember(event: SyncEvent, payloadText: string): void {
    if (this.#events.size >= WrittenEvents.MAX) return;
    // A private copy of the payload, parsed from the very text stored: what is sent is what is in the row.
    this.#events.set(event.id, { payloadText, event: { ...event, payload: JSON.parse(payloadText) as unknown } });
  }

  /** The event of `row` as this process wrote it, if the row holds exactly that; forgotten either way. */
  take(row: QueueRow, deviceId: string): SyncEvent | null {
    const hit = this.#events.get(row.id);
    if (hit === undefined) return null;
    this.#events.delete(row.id);
    const e = hit.event;
    const same =
      hit.payloadText === row.payload_json &&
      e.device_id === deviceId &&
      e.entity_type === row.entity_type &&
      e.entity_id === row.entity_id &&
      e.operation === row.operation &&
      e.base_version === row.base_version &&
      e.depends_on === row.depends_on &&
      e.created_at === row.created_at;
    return same ? e : null;
  }
}

export function log(ctx: StoreContext, kind: string, detail: string, event?: { id: string; entity_type: string; entity_id: string }) {
  ctx.stmt("INSERT INTO tx_log (at, kind, event_id, entity_type, entity_id, detail) VALUES (?, ?, ?, ?, ?, ?)").run(
    nowIso(ctx),
    kind,
    event?.id ?? null,
    event?.entity_type ?? null,
    event?.entity_id ?? null,
    detail,
  );
}

/** One log row per entry, all of one kind and time, in ONE statement (a bulk write, a batch's verdicts), in the entries' order. */
export function logMany(ctx: StoreContext, kind: string, entries: ReadonlyArray<readonly [event_id: string, entity_type: string, entity_id: string, detail: string]>) {
  if (entries.length === 0) return;
  // json_each walks the array in order, so the rows get ids (AUTOINCREMENT) in the entries' order.
  ctx
    .stmt(
      `INSERT INTO tx_log (at, kind, event_id, entity_type, entity_id, detail)
       SELECT ?, ?, value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?) ORDER BY key`,
    )
    .run(nowIso(ctx), kind, JSON.stringify(entries));
}

export function audit(ctx: StoreContext, kind: string, detail: string) {
  ctx.stmt("INSERT INTO audit (at, kind, detail) VALUES (?, ?, ?)").run(nowIso(ctx), kind, detail);
}
