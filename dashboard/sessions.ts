/**
 * The branches this browser is signed in to, kept in localStorage (one entry per branch: its token,
 * the device id the token names, and this browser's install id for that device; the branch binds a
 * device id to the first install that says hello with it, so the install id is made once and kept).
 * A sign-in arrives typed (branch + token, or branch + a one-time code exchanged by the client's
 * `enroll`) or in the address's fragment (`#branch=…&token=…`, what `npm start` prints), which the
 * app removes from the address bar at once so the token does not stay in history.
 */
import { decodeTokenUnverified } from "../protocol/token.js";

export const STORAGE_KEY = "studiovault.dashboard.signins.v1";
/** The roles that may watch a branch (domain/permissions.ts `observe`). */
export const OBSERVER_ROLES = ["owner", "manager", "viewer"] as const;
export type ObserverRole = (typeof OBSERVER_ROLES)[number];
export const isObserver = (role: string): role is ObserverRole => (OBSERVER_ROLES as readonly string[]).includes(role);
/** Revoking devices: owner and manager (domain/permissions.ts `revoke_device`); the server decides. */
export const mayRevoke = (role: string) => role === "owner" || role === "manager";
/** Breaking another device's lease: owner and manager (domain/permissions.ts `break_leases`); the server decides. */
export const mayBreakLeases = (role: string) => role === "owner" || role === "manager";
/** Closing a business day and counting drawers: owner and manager (domain/permissions.ts `close_day`); the server decides. */
export const mayCloseDay = (role: string) => role === "owner" || role === "manager";

export interface SignIn {
  branch: string;
  token: string;
  device_id: string;
  install_id: string;
  user_id: string;
  role: ObserverRole;
  /** When the token expires, ms since epoch. */
  expires_at_ms: number;
}

/** Reads what was kept; entries that are not sign-ins (an older format, hand edits) are dropped. */
export function loadSignIns(storage: Pick<Storage, "getItem">): SignIn[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(storage.getItem(STORAGE_KEY) ?? "[]");
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.filter(
    (s): s is SignIn =>
      typeof s === "object" && s !== null &&
      ["branch", "token", "device_id", "install_id", "user_id", "role"].every((k) => typeof (s as Record<string, unknown>)[k] === "string") &&
      typeof (s as SignIn).expires_at_ms === "number" && isObserver((s as SignIn).role),
  );
}

export function saveSignIns(storage: Pick<Storage, "setItem">, signIns: readonly SignIn[]): void {
  storage.setItem(STORAGE_KEY, JSON.stringify(signIns));
}

/** `list` with `signIn` in place of any other sign-in to its branch (kept in the same position). */
export function withSignIn(list: readonly SignIn[], signIn: SignIn): SignIn[] {
  const at = list.findIndex((s) => s.branch === signIn.branch);
  return at < 0 ? [...list, signIn] : list.map((s, i) => (i === at ? signIn : s));
}

export type TokenReading = { ok: true; signIn: Omit<SignIn, "install_id"> } | { ok: false; message: string };

/**
 * What a pasted token says (read without its signature: the server checks that when it connects), and
 * whether it can open the dashboard of `branch`: a token for another branch, an expired one or one of
 * a role that may not watch is said here, before any connection.
 */
export function readToken(branch: string, token: string, nowMs: number): TokenReading {
  const decoded = decodeTokenUnverified(token.trim());
  if (!decoded.ok) return { ok: false, message: "This is not a StudioVault token. Paste the whole token, as `npm run token` printed it." };
  const claims = decoded.value;
  if (claims.branch !== branch) return { ok: false, message: `This token is for branch “${claims.branch}”, not “${branch}”.` };
  if (claims.exp * 1000 <= nowMs) return { ok: false, message: "This token has expired. Ask an owner for a new one." };
  if (!isObserver(claims.role)) return { ok: false, message: `This token is a ${claims.role}'s; the dashboard needs an owner's, a manager's or a viewer's.` };
  return { ok: true, signIn: { branch, token: token.trim(), device_id: claims.device, user_id: claims.user, role: claims.role, expires_at_ms: claims.exp * 1000 } };
}

/** `#branch=demo&token=…` → the pair, or null when the fragment holds no sign-in. */
export function fragmentSignIn(hash: string): { branch: string; token: string } | null {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const branch = params.get("branch");
  const token = params.get("token");
  return branch && token ? { branch, token } : null;
}
