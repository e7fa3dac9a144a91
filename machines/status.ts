/**
 * The small public status the UI shows (Liveblocks-style): the machine's internal states collapse
 * into a handful of kinds, so the renderer never depends on how the lifecycle is built.
 */
import { closeReasonOf } from "../protocol/close-codes.js";
import { unreachable } from "../lib/result.js";
import type { SyncSnapshot } from "./sync-machine.js";

export type PublicStatus =
  | { kind: "offline" }
  /** Opening the socket or waiting for `welcome`. `attempt` = failed attempts before this one. */
  | { kind: "connecting"; attempt: number }
  | { kind: "syncing"; phase: "bootstrap" | "pull" | "push" }
  | { kind: "live" }
  /**
   * Waiting before the next attempt. `retryAtMs`: when it is due, on the clock the machine was given
   * (SyncInput.now; the app's is the store's), so the UI counts down against the same clock; null
   * when the machine was given none.
   */
  | { kind: "backoff"; attempt: number; lastClose: { code: number; reason: string } | null; retryAtMs: number | null }
  /** `reason`: the close reason name (unauthorized, forbidden, token_expired, device_revoked, install_conflict). */
  | { kind: "auth_failed"; reason: string }
  | { kind: "update_required" }
  | { kind: "replaced" };

type Flatten<V> = V extends string ? V : V extends { online: infer C extends string } ? `online.${C}` : never;

/** One name per state, e.g. "backoff" or "online.pulling": handy for logs and exhaustive switches. */
export type SyncStateName = Flatten<SyncSnapshot["value"]>;

export function syncStateName(snapshot: Pick<SyncSnapshot, "value">): SyncStateName {
  const { value } = snapshot;
  return (typeof value === "string" ? value : `online.${value.online}`) as SyncStateName;
}

export function publicStatus(snapshot: SyncSnapshot): PublicStatus {
  const { context } = snapshot;
  const name = syncStateName(snapshot);
  switch (name) {
    case "start": // transient: only seen before the first macrostep completes
    case "offline":
      return { kind: "offline" };
    case "online.connecting":
    case "online.handshaking":
      return { kind: "connecting", attempt: context.attempt };
    case "online.bootstrapping":
      return { kind: "syncing", phase: "bootstrap" };
    case "online.pulling":
    case "online.conflict": // transient, on its way to pulling
      return { kind: "syncing", phase: "pull" };
    case "online.pushing":
    case "online.awaitingVerdicts":
      return { kind: "syncing", phase: "push" };
    case "online.live":
      return { kind: "live" };
    case "backoff":
      return { kind: "backoff", attempt: context.attempt, lastClose: context.lastClose, retryAtMs: context.retryAtMs };
    case "authFailed": {
      const close = context.lastClose;
      return { kind: "auth_failed", reason: close ? (closeReasonOf(close.code) ?? close.reason) : "unauthorized" };
    }
    case "updateRequired":
      return { kind: "update_required" };
    case "replaced":
      return { kind: "replaced" };
    default:
      return unreachable(name, "sync state");
  }
}
