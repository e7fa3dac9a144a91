/**
 * A manager approves a refused POS sale on a cashier's till (issue 14), as a POS manager override:
 * the manager asks the branch for a one-time sign-in code for themselves on their own device, types
 * it on the till, and the till exchanges it for a token for its own device id and uses that token for
 * this one resolution request only. The token lives in this function and nowhere else: the till stays
 * signed in as its cashier, with the cashier's token and role in its store. The server checks the
 * role of the token it is given and audits the manager's user with this till's device.
 * Never throws: every answer is a value.
 */
import { canDo, type Role } from "../../domain/index.js";
import type { ConflictResolutionRequest } from "../../protocol/index.js";
import type { StoreConfig } from "../store/context.js";
import { type ResolutionAnswer, requestResolution } from "./conflict-resolution.js";
import { exchangeCode } from "./enrollment.js";

/** The resolution's answers, plus a code that could not be used (said beside the code field). */
export type OverrideAnswer = ResolutionAnswer | { kind: "code_refused"; message: string };

const ROLE_WORDS: Record<Role, string> = { cashier: "a cashier", staff: "staff", viewer: "a viewer", manager: "a manager", owner: "the owner" };

export async function resolveWithManagerCode(
  cfg: Pick<StoreConfig, "server_url" | "branch_id" | "device_id">,
  eventId: string,
  request: ConflictResolutionRequest,
  code: string,
): Promise<OverrideAnswer> {
  const exchanged = await exchangeCode({ serverUrl: cfg.server_url, branch: cfg.branch_id, code, deviceId: cfg.device_id });
  if (!exchanged.ok) {
    const { kind, message, detail } = exchanged.error;
    if (kind === "unreachable") return { kind: "unreachable", message: detail ?? message };
    if (kind === "device_revoked") return { kind: "code_refused", message: "A manager removed this till, so nothing can be resolved on it. Resolve the sale with support." };
    return { kind: "code_refused", message };
  }
  const grant = exchanged.value;
  const answer = await requestResolution({ server_url: cfg.server_url, branch_id: cfg.branch_id, token: grant.token }, eventId, request);
  // The server refused the role of the code's token (403 forbidden): say whose code it was.
  if (answer.kind === "refused" && answer.status === 403 && !canDo(grant.role, "resolve_conflicts")) {
    return { kind: "code_refused", message: `That code is for ${ROLE_WORDS[grant.role]}; a manager's code is needed. That code is now used: ask a manager for a new code for themselves (on their device: Add a till → role Manager).` };
  }
  return answer;
}
