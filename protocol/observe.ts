/**
 * What a branch tells the people watching it (protocol v6): each device's presence and health, and
 * each rejection as a one-line summary. Shared by the `watching`/`observed` messages (messages.ts)
 * and the dashboard's HTTP reads (dashboard.ts), so one shape serves both.
 */
import { z } from "zod";
import { RejectCode } from "../domain/reject-codes.js";
import { EntityType } from "../domain/entities/index.js";
import { Operation } from "../domain/operations.js";
import { IsoDateTime } from "../domain/text.js";
import { DeviceInfo } from "./devices.js";

const count = z.int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * A device's queue as it reports it (hello since v6, and `status`): how many events wait to be
 * pushed and how long the oldest has waited, by the device's own clock. An age, not a time, so a
 * device with a wrong clock still reports honestly.
 */
export const QueueReport = z.strictObject({
  pending: count,
  /** Age of the oldest pending event in ms when reported; null when nothing is pending. */
  oldest_pending_age_ms: count.nullable(),
});
export type QueueReport = z.infer<typeof QueueReport>;

/**
 * A device of the branch as the dashboard shows it: what `GET …/devices` lists, plus whether it is
 * connected now and what it last reported. Values never reported are null.
 */
export const DevicePresence = DeviceInfo.extend({
  /** An open (hello admitted) connection of this device is on the branch now. */
  connected: z.boolean(),
  /** The protocol version of its last admitted hello. */
  protocol_version: z.int().min(1).nullable(),
  /** The last branch seq it said it has applied (hello, status, or the `since` of its pulls). */
  cursor: count.nullable(),
  /** Events waiting in its queue at its last report, and since when the oldest waits (server clock). */
  pending: count.nullable(),
  oldest_pending_at: IsoDateTime.nullable(),
  /** When it last reported (hello or status), server clock. */
  reported_at: IsoDateTime.nullable(),
  /** When the token of its last admitted hello expires. */
  token_expires_at: IsoDateTime.nullable(),
});
export type DevicePresence = z.infer<typeof DevicePresence>;

/**
 * One rejection, as a row of the conflicts table. `id` orders rejections as they were decided
 * (paging is by id). What the device attempted is in the drill-down (dashboard.ts RejectionDetail).
 */
export const RejectionSummary = z.strictObject({
  id: z.int().min(1),
  event_id: z.string().max(64),
  decided_at: IsoDateTime,
  device_id: z.string().max(64),
  /** Who pushed it (the token's user); null for rejections decided before layout 7 kept it. */
  user_id: z.string().max(100).nullable(),
  /** What the event named, when it could be read that far; null otherwise. */
  entity_type: EntityType.nullable(),
  entity_id: z.string().max(64),
  operation: Operation.nullable(),
  code: RejectCode,
  message: z.string().max(1_000),
  /** The event this one depended on (`depends_on`), when it named one. */
  depends_on: z.string().max(64).nullable(),
});
export type RejectionSummary = z.infer<typeof RejectionSummary>;
