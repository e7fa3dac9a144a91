/**
 * The app's ways in (issue 14): setting up a database that is not bound yet, signing a till in again
 * when its token expired, and a manager asking for a code for a new till, all with one-time sign-in
 * codes (desktop/sync/enrollment.ts talks to the server). What each answers is in words for the
 * screen, naming the field that is wrong; nothing is bound or changed unless the code was accepted.
 */
import { BranchId, Role, UserId } from "../../domain/index.js";
import type { LocalStore } from "../store/local-store.js";
import { mayGrantRole } from "../../protocol/enrollment.js";
import { askForCode, exchangeCode, type EnrollFailureKind, serverOrigin } from "../sync/enrollment.js";
import type { AddTillResult, SignInResult } from "./api.js";

const FIELD_OF: Record<EnrollFailureKind, "server" | "branch" | "code"> = {
  malformed: "code",
  wrong: "code",
  used: "code",
  expired: "code",
  cancelled: "code",
  device_revoked: "code",
  rate_limited: "code",
  bad_server_url: "server",
  unreachable: "server",
  refused: "server",
};

/** Sets an unbound database up with a code: a new device, bound; `bound()` then starts sync (which bootstraps). */
export async function setUp(store: LocalStore, input: { server: string; branch: string; code: string }, bound: () => void): Promise<SignInResult> {
  if (store.config()) return { ok: false, field: "code", message: "This till is set up already.", detail: null };
  const branch = input.branch.trim().toLowerCase();
  if (branch === "") return { ok: false, field: "branch", message: "Type the branch name your manager gave you, e.g. colombo-main.", detail: null };
  if (!BranchId.safeParse(branch).success) {
    return { ok: false, field: "branch", message: `"${input.branch.trim()}" is not a branch name: it has only letters a-z, digits and dashes, e.g. colombo-main.`, detail: null };
  }
  const exchanged = await exchangeCode({ serverUrl: input.server, branch, code: input.code });
  if (!exchanged.ok) {
    const e = exchanged.error;
    // On a first run the branch may be the mistake as much as the code: say both.
    const message = e.kind === "wrong" ? `That sign-in code is not right for branch ${branch}. Check the code and the branch, or ask a manager for a new code.` : e.message;
    return { ok: false, field: FIELD_OF[e.kind], message, detail: e.detail };
  }
  // Another window may have set it up meanwhile: the store refuses a second binding, in words.
  const result = store.init({ server_url: serverOrigin(input.server)!, token: exchanged.value.token });
  if (!result.ok) return { ok: false, field: "code", message: "This till could not be set up with that code.", detail: result.error };
  bound();
  return { ok: true };
}

/** Signs this till in again as the same device; `signedIn()` tells sync to try again with the new token. */
export async function signInAgain(store: LocalStore, code: string, signedIn: () => void): Promise<SignInResult> {
  const cfg = store.config();
  if (!cfg) return { ok: false, field: "code", message: "This till is not set up yet.", detail: null };
  const exchanged = await exchangeCode({ serverUrl: cfg.server_url, branch: cfg.branch_id, code, deviceId: cfg.device_id });
  if (!exchanged.ok) return { ok: false, field: FIELD_OF[exchanged.error.kind] === "code" ? "code" : "server", message: exchanged.error.message, detail: exchanged.error.detail };
  const result = store.init({ server_url: cfg.server_url, token: exchanged.value.token });
  if (!result.ok) return { ok: false, field: "code", message: "The code was accepted, but this till could not keep the new sign-in.", detail: result.error };
  signedIn();
  return { ok: true };
}

/** A manager's code for a new till (or for a till to sign in again). */
export async function addTill(store: LocalStore, input: { role: string; user: string; ttl_minutes: number }): Promise<AddTillResult> {
  const cfg = store.config();
  if (!cfg) return { ok: false, field: null, message: "This till is not set up yet." };
  const role = Role.safeParse(input.role);
  if (!role.success) return { ok: false, field: "role", message: "Choose the new till's role." };
  const user = UserId.safeParse(input.user.trim());
  if (!user.success) {
    return { ok: false, field: "user", message: input.user.trim() === "" ? "Type the name of who will use the till, e.g. nimal." : "A name has only letters, digits and . _ @ - (no spaces), e.g. nimal." };
  }
  if (!mayGrantRole(cfg.role, role.data)) return { ok: false, field: "role", message: `As a ${cfg.role} you can add tills for roles up to your own, not ${role.data}.` };
  const asked = await askForCode(cfg, { role: role.data, user: user.data, ttl_minutes: input.ttl_minutes });
  if (!asked.ok) return { ok: false, field: asked.error.kind === "forbidden" ? "role" : null, message: asked.error.message };
  return { ok: true, code: asked.value.code, expires_ms: Date.parse(asked.value.expires_at), role: asked.value.role, user: asked.value.user, server_url: cfg.server_url, branch_id: cfg.branch_id };
}
