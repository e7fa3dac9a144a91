/**
 * The dashboard's reads over HTTP (protocol v6): `GET /v1/branches/:branchId/dashboard/…`, role
 * `observe` (owner, manager, viewer; domain/permissions.ts). Every answer is one bounded page read
 * from indexed tables of the branch's SQLite; what changes live arrives as `observed` (messages.ts).
 * One shape for the server that answers and every client that reads (client/, the dashboard, the CLI).
 *
 *   GET …/dashboard/devices                                   DeviceBoard
 *   GET …/dashboard/rejections?before=&limit=&device=&code=&entity_type=&entity=&from=&to=   RejectionPage
 *   GET …/dashboard/rejections/timeline?from=&to=&bucket_s=   RejectionTimeline
 *   GET …/dashboard/rejections/:eventId                       RejectionDetail
 *   GET …/dashboard/entities/:entityId/history?before_seq=&limit=   EntityHistory
 *   GET …/dashboard/money?from=YYYY-MM-DD&to=YYYY-MM-DD        MoneyReport
 *   GET …/dashboard/audit?before=&limit=&kind=&device=        AuditPage
 *
 * Acting stays where it was, for a manager: `POST …/devices/:deviceId/revoke`,
 * `POST …/conflicts/:eventId/resolution`.
 */
import { z } from "zod";
import { Entity, EntityType } from "../domain/entities/index.js";
import { LedgerRow } from "../domain/ledger.js";
import { Currency } from "../domain/money.js";
import { Operation } from "../domain/operations.js";
import { RejectCode } from "../domain/reject-codes.js";
import { IsoDate, IsoDateTime } from "../domain/text.js";
import { TimeZone } from "../domain/time.js";
import { LastChange, RejectedVerdict } from "./messages.js";
import { DevicePresence, RejectionSummary } from "./observe.js";

const seq = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
const count = z.int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Page sizes: `limit` is 1..MAX_DASHBOARD_PAGE, DEFAULT_DASHBOARD_PAGE when absent. */
export const DEFAULT_DASHBOARD_PAGE = 50;
export const MAX_DASHBOARD_PAGE = 200;
/** The most buckets a timeline answers (bucket_s is raised to fit), and the longest money range. */
export const MAX_TIMELINE_BUCKETS = 500;
export const MAX_MONEY_DAYS = 92;

/** `GET …/dashboard/devices`: every device, most recently seen first (bounded like `watching`). */
export const DeviceBoard = z.strictObject({
  head: seq,
  server_time_ms: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  devices: z.array(DevicePresence),
});
export type DeviceBoard = z.infer<typeof DeviceBoard>;

/**
 * `GET …/dashboard/rejections`: newest first. `before` is the `id` to page back from (exclusive);
 * `next_before` the id to ask for next, null on the last page. `total` counts every rejection the
 * filters match. Filters: `device` (a device id), `code` (a reject code), `entity_type`, `entity`
 * (an entity id), `from`/`to` (ISO date-times, decided_at within [from, to)).
 */
export const RejectionPage = z.strictObject({
  rejections: z.array(RejectionSummary).max(MAX_DASHBOARD_PAGE),
  next_before: z.int().min(1).nullable(),
  total: count,
});
export type RejectionPage = z.infer<typeof RejectionPage>;

/**
 * `GET …/dashboard/rejections/timeline?from=&to=&bucket_s=`: rejections counted per time bucket,
 * per code and per device (rows only where the count is > 0). `from` defaults to 24 h before `to`,
 * `to` to now (server clock); `bucket_s` to fit about 100 buckets, raised to fit MAX_TIMELINE_BUCKETS.
 */
export const RejectionTimeline = z.strictObject({
  from: IsoDateTime,
  to: IsoDateTime,
  bucket_s: z.int().min(1),
  by_code: z.array(z.strictObject({ bucket_start: IsoDateTime, code: RejectCode, count: count })),
  by_device: z.array(z.strictObject({ bucket_start: IsoDateTime, device_id: z.string().max(64), count: count })),
});
export type RejectionTimeline = z.infer<typeof RejectionTimeline>;

/**
 * `GET …/dashboard/rejections/:eventId`: one rejection, whole. The attempted event as the device sent
 * it (null when it could not be kept: unreadable or larger than the branch keeps, with
 * `attempted_note` saying which); the server's entity at the version it was judged against and as it
 * is now; who made that version; the rejection it depended on (`cause`), and the rejections that
 * depended on it, transitively (`caused`, oldest first, at most MAX_DASHBOARD_PAGE).
 */
export const RejectionDetail = z.strictObject({
  summary: RejectionSummary,
  verdict: RejectedVerdict,
  attempted: z.strictObject({
    entity_type: EntityType,
    entity_id: z.string().max(64),
    operation: Operation,
    base_version: z.int().min(0).nullable(),
    payload: z.unknown(),
  }).nullable(),
  attempted_note: z.string().max(500).nullable(),
  server_version: z.int().min(1).nullable(),
  server_entity: Entity.nullable(),
  current_entity: Entity.nullable(),
  last_change: LastChange.nullable(),
  cause: RejectionSummary.nullable(),
  caused: z.array(RejectionSummary).max(MAX_DASHBOARD_PAGE),
});
export type RejectionDetail = z.infer<typeof RejectionDetail>;

/** One committed version of an entity, in the history. */
export const EntityVersionRow = z.strictObject({
  seq: z.int().min(1),
  version: z.int().min(1),
  event_id: z.string().max(64),
  device_id: z.string().max(64),
  user_id: z.string().max(100),
  operation: Operation,
  changed_fields: z.array(z.string().max(64)),
  committed_at: IsoDateTime,
});
export type EntityVersionRow = z.infer<typeof EntityVersionRow>;

/**
 * `GET …/dashboard/entities/:entityId/history?before_seq=&limit=`: the entity's versions, newest
 * first, and the rejected attempts against it decided in the same span (newest first, at most
 * `limit`), so a page draws one lane per device. `next_before_seq` pages back; null on the last page.
 * 404 when the branch never had the entity and never rejected an event naming it.
 */
export const EntityHistory = z.strictObject({
  entity_id: z.string().max(64),
  entity_type: EntityType.nullable(),
  current: Entity.nullable(),
  versions: z.array(EntityVersionRow).max(MAX_DASHBOARD_PAGE),
  rejections: z.array(RejectionSummary).max(MAX_DASHBOARD_PAGE),
  next_before_seq: z.int().min(1).nullable(),
});
export type EntityHistory = z.infer<typeof EntityHistory>;

/** A voided POS order, for the money view. */
export const VoidRow = z.strictObject({
  entity_id: z.string().max(64),
  official_receipt_no: z.int().min(1),
  business_day: IsoDate,
  device_id: z.string().max(64),
  currency: Currency,
  total_minor: z.int(),
  kind: z.enum(["sale", "correction"]),
  reason: z.string().max(500),
  voided_by_user: z.string().max(100),
  voided_by_device: z.string().max(64),
  seq: z.int().min(1),
});
export type VoidRow = z.infer<typeof VoidRow>;

/**
 * `GET …/dashboard/money?from=&to=`: the POS ledger per business day, till and currency (the same
 * rows as `GET …/ledger`, LEDGER_SQL) for the days in [from, to] (at most MAX_MONEY_DAYS; default
 * the last 14 days of the branch's time zone), and the voids of those days, newest first (at most
 * MAX_DASHBOARD_PAGE; `more_voids` when there are more).
 */
export const MoneyReport = z.strictObject({
  time_zone: TimeZone,
  from: IsoDate,
  to: IsoDate,
  rows: z.array(LedgerRow),
  voids: z.array(VoidRow).max(MAX_DASHBOARD_PAGE),
  more_voids: z.boolean(),
});
export type MoneyReport = z.infer<typeof MoneyReport>;

/** One audit entry (durable/core/audit.ts AuditRow). */
export const AuditEntryRow = z.strictObject({
  id: z.int().min(1),
  at: IsoDateTime,
  kind: z.string().max(64),
  device_id: z.string().nullable(),
  user_id: z.string().nullable(),
  role: z.string().nullable(),
  event_id: z.string().nullable(),
  entity_type: z.string().nullable(),
  entity_id: z.string().nullable(),
  code: z.string().nullable(),
  message: z.string(),
});
export type AuditEntryRow = z.infer<typeof AuditEntryRow>;

/** `GET …/dashboard/audit?before=&limit=&kind=&device=`: newest first; `next_before` pages back. */
export const AuditPage = z.strictObject({
  entries: z.array(AuditEntryRow).max(MAX_DASHBOARD_PAGE),
  next_before: z.int().min(1).nullable(),
});
export type AuditPage = z.infer<typeof AuditPage>;
