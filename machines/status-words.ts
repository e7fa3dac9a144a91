/**
 * Sync's state in words for people, shared by the CLI and the app's renderer so that both say the
 * same thing: why sync stopped for good, and a till clock that is wrong. Each surface adds what to
 * do in its own terms (a command for the CLI, a step for the app). No I/O, no clock.
 */
import type { PublicStatus } from "./status.js";
import { unreachable } from "../lib/result.js";
import { clockIsWrong, describeSkew } from "../domain/clock.js";

/** Why sync stopped and will not retry on its own, or null when it has not stopped. */
export type StopCause =
  | { kind: "device_revoked" }
  | { kind: "install_conflict" }
  | { kind: "token_refused"; reason: string }
  | { kind: "update_required" }
  | { kind: "replaced" };

export function stopCause(status: PublicStatus): StopCause | null {
  switch (status.kind) {
    case "auth_failed":
      if (status.reason === "device_revoked") return { kind: "device_revoked" };
      if (status.reason === "install_conflict") return { kind: "install_conflict" };
      return { kind: "token_refused", reason: status.reason };
    case "update_required":
      return { kind: "update_required" };
    case "replaced":
      return { kind: "replaced" };
    case "offline":
    case "connecting":
    case "syncing":
    case "live":
    case "backoff":
      return null;
    default:
      return unreachable(status, "public status");
  }
}

/** What happened, as the middle of a sentence ("sync stopped: …"). */
export function describeStop(cause: StopCause): string {
  switch (cause.kind) {
    case "device_revoked":
      return "this device was revoked by a manager";
    case "install_conflict":
      return "this token's device is already used by another install (a token is for one install)";
    case "token_refused":
      return `the device token was refused (${cause.reason})`;
    case "update_required":
      return "this app is too old for the server";
    case "replaced":
      return "this device connected from somewhere else";
    default:
      return unreachable(cause, "stop cause");
  }
}

export { clockIsWrong };

/** The warning for a till whose clock is off (skew = till minus server, at the last connection), or null. */
export function clockWarning(skewMs: number | null): string | null {
  if (!clockIsWrong(skewMs)) return null;
  return `This till's clock is ${describeSkew(skewMs)} the server's: sales may be booked to the wrong day. Fix the computer's clock.`;
}
