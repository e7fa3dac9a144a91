/** The open database and the injected clock and randomness that every store module works with. */
import type Database from "better-sqlite3";
import {
  type DeviceId,
  type EntityType,
  type Operation,
  parseEventBody,
  type Role,
  type SyncEvent,
  type SyncStatus,
  type TypedEvent,
  type UserId,
} from "../../schema/index.js";

export interface StoreConfig {
  branch_id: string;
  device_id: DeviceId;
  user_id: UserId;
  role: Role;
  server_url: string;
  token: string;
  /**
   * The branch's IANA time zone, from the server (`welcome`); null until the device first connects.
   * Business days are days in this zone (I13). Absent in configs written before it existed.
   */
  time_zone?: string | null;
}

export interface StoreContext {
  readonly db: Database.Database;
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

export const nowIso = (ctx: StoreContext) => new Date(ctx.clockMs()).toISOString();

/**
 * The zone business days are counted in: the branch's. The server sends it in every `welcome`, before
 * any verdict or change can reach the store, so UTC only stands in on a till that has never connected
 * (its sales' days are worked out again, from the instant, when they are confirmed).
 */
export const branchTimeZone = (ctx: StoreContext): string => ctx.config().time_zone ?? "UTC";

/** The wire event of a queue row. */
export function eventOf(ctx: StoreContext, row: QueueRow): SyncEvent {
  return {
    id: row.id,
    device_id: ctx.config().device_id,
    entity_type: row.entity_type,
    entity_id: row.entity_id,
    operation: row.operation,
    payload: JSON.parse(row.payload_json) as unknown,
    base_version: row.base_version,
    depends_on: row.depends_on,
    created_at: row.created_at,
  } as SyncEvent;
}

/** A queue row as a validated event. Rows were validated when written, so failure is a bug. */
export function typedEventOf(ctx: StoreContext, row: QueueRow): TypedEvent {
  const parsed = parseEventBody(eventOf(ctx, row));
  if (!parsed.ok) throw new Error(`queued event ${row.id} no longer validates: ${parsed.error.code}`);
  return parsed.value;
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

export function audit(ctx: StoreContext, kind: string, detail: string) {
  ctx.stmt("INSERT INTO audit (at, kind, detail) VALUES (?, ?, ?)").run(nowIso(ctx), kind, detail);
}
