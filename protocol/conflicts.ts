/**
 * HTTP shapes of a manager's resolution of a conflict (docs/protocol/http.md, "Conflict resolution"):
 * `POST /v1/branches/<branch>/conflicts/<event_id>/resolution`. A rejected POS sale is kept on the
 * till for a manager (I6); a manager closes it through the server, which checks the role, that the
 * event has a stored rejected verdict, and audits who resolved it, on which device, and why (I10).
 */
import { z } from "zod";
import { DeviceId, EventId, UserId } from "../domain/ids.js";
import { IsoDateTime, line } from "../domain/text.js";

/**
 * What the manager decided. `keep_server`: the server's verdict stands (the sale stays refused and
 * kept as it is; any money is settled outside the app and the note says how).
 */
export const ConflictResolutionAction = z.enum(["keep_server"]);
export type ConflictResolutionAction = z.infer<typeof ConflictResolutionAction>;

export const ConflictResolutionRequest = z.strictObject({
  action: ConflictResolutionAction,
  /** Why, in the manager's words: kept in the branch's audit. */
  note: line(500),
});
export type ConflictResolutionRequest = z.infer<typeof ConflictResolutionRequest>;

/** The answer; `already` (with the first resolution's who/when/note) when it was resolved before. */
export const ConflictResolution = z.strictObject({
  event_id: EventId,
  action: ConflictResolutionAction,
  note: z.string().max(500),
  resolved_by: UserId,
  resolved_device: DeviceId,
  resolved_at: IsoDateTime,
  already: z.boolean(),
});
export type ConflictResolution = z.infer<typeof ConflictResolution>;
