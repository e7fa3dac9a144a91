/** Who is acting on a branch, from the verified device token (the Worker checked it; the core trusts it). */
import type { DeviceId, Role, UserId } from "../../domain/index.js";

export interface Actor {
  device_id: DeviceId;
  user_id: UserId;
  role: Role;
}
