/**
 * The branch's devices over HTTP (`GET …/devices`, `POST …/devices/:deviceId/revoke`): one shape for
 * the server that answers and the clients that read it (the CLI today, the dashboard next).
 */
import { z } from "zod";
import { line } from "../domain/text.js";

/** One device of a branch, as the server records it (absent values are null). */
export const DeviceInfo = z.object({
  device_id: z.string(),
  user_id: z.string(),
  role: z.string(),
  app: z.string().nullable(),
  first_seen_at: z.string(),
  last_seen_at: z.string(),
  /** The install that owns this device id (bound at its first protocol-v3 hello), or null. */
  install_id: z.string().nullable(),
  revoked_at: z.string().nullable(),
  revoked_by: z.string().nullable(),
  revoke_reason: z.string().nullable(),
  /** The device's clock minus the server's at its last hello, ms, or null. */
  clock_skew_ms: z.number().nullable(),
});
export type DeviceInfo = z.infer<typeof DeviceInfo>;

export const DeviceList = z.object({ devices: z.array(DeviceInfo) });
export type DeviceList = z.infer<typeof DeviceList>;

/** The body of `POST …/devices/:deviceId/revoke`. One line, so the audit row and logs stay one line each. */
export const RevokeRequest = z.strictObject({ reason: line(500) });
export type RevokeRequest = z.infer<typeof RevokeRequest>;

/** Its answer; `already` (with the first `revoked_at`) when the device was revoked before. */
export const RevokeResult = z.object({ device_id: z.string(), revoked_at: z.string(), already: z.boolean() });
export type RevokeResult = z.infer<typeof RevokeResult>;
