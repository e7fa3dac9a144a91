/** A branch core on a real SQLite database (better-sqlite3) with a controllable clock. */
import type { BranchId, DeviceId, Role, UserId } from "../../domain/index.js";
import { nodeSqlStore } from "../../durable/adapters/node-sqlite.js";
import { BranchCore } from "../../durable/core/branch.js";
import type { Actor } from "../../durable/core/push.js";

export function makeCore(path = ":memory:", opts: { timeZone?: string; nowMs?: number } = {}) {
  let nowMs = opts.nowMs ?? Date.UTC(2026, 10, 25, 4, 0, 0);
  const sql = nodeSqlStore(path);
  const core = new BranchCore(sql, "test-branch" as BranchId, () => nowMs, { defaultTimeZone: opts.timeZone ?? "UTC" });
  return {
    core,
    sql,
    advance: (ms: number) => void (nowMs += ms),
    close: () => sql.close(),
  };
}

export const actor = (device: string, role: Role = "owner", user = "u-" + device.slice(-4)): Actor => ({
  device_id: device as DeviceId,
  user_id: user as UserId,
  role,
});

export const DEVICES = {
  A: "01936f3c-0000-7000-8000-0000000000a1",
  B: "01936f3c-0000-7000-8000-0000000000b2",
  C: "01936f3c-0000-7000-8000-0000000000c3",
} as const;
