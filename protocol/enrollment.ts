/**
 * One-time enrollment codes over HTTP (`POST …/enrollments`, `POST …/enroll`): how a new till gets
 * its first device token, and how a till whose token expired signs in again, without anyone copying
 * a token by hand. A manager asks the branch for a short code; the till types it; the branch answers
 * with a device token. One shape for the server that answers and the clients (CLI, app) that ask.
 *
 * The code is typed by a person, often read aloud across a counter, so it is short and has no
 * look-alike characters: 8 characters of a 31-character alphabet (no 0/O, 1/I/L), shown as two
 * groups of four (`K7QF-9M2X`). Typed case-insensitively, dashes and spaces ignored. 31^8 ≈ 8.5e11
 * codes; with at most MAX_WRONG_TRIES wrong tries per live code and the Worker's per-address rate
 * limit, guessing a live code is hopeless within its lifetime.
 */
import { z } from "zod";
import { DeviceId, UserId } from "../domain/ids.js";
import { Role } from "../domain/permissions.js";

/** No 0/O, 1/I/L: nothing a person could misread. Order is irrelevant; the size is 31. */
export const CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
export const CODE_LENGTH = 8;
/** A code lives this long unless the manager asks otherwise. */
export const DEFAULT_CODE_TTL_MINUTES = 15;
/** The longest a code may live: a day covers "set up the new till tomorrow morning". */
export const MAX_CODE_TTL_MINUTES = 24 * 60;
/** A live code is cancelled once the branch has seen this many wrong codes since it was issued. */
export const MAX_WRONG_TRIES = 5;
/** How long a token obtained with a code is valid (the same default as `npm run token`). */
export const ENROLLED_TOKEN_TTL_S = 30 * 86_400;
/** At most this many codes may be live on a branch at once (bounds the branch's storage, I12). */
export const MAX_LIVE_CODES = 20;

/**
 * What a person typed → the code's canonical 8 characters, or null when it cannot be a code. Case
 * and separators (dashes, spaces, dots) are ignored, so `k7qf 9m2x` and `K7QF-9M2X` are one code.
 */
export function normalizeCode(typed: string): string | null {
  if (typed.length > 64) return null;
  const compact = typed.toUpperCase().replace(/[\s.\-_]/g, "");
  if (compact.length !== CODE_LENGTH) return null;
  for (const ch of compact) if (!CODE_ALPHABET.includes(ch)) return null;
  return compact;
}

/** The canonical code as people see it: `K7QF-9M2X`. */
export const displayCode = (code: string): string => `${code.slice(0, 4)}-${code.slice(4)}`;

/** Why a typed code cannot be a code, in words (before any request is made). */
export function codeFormatProblem(typed: string): string | null {
  if (normalizeCode(typed) !== null) return null;
  const compact = typed.toUpperCase().replace(/[\s.\-_]/g, "");
  if (compact.length === 0) return "Type the sign-in code a manager gave you.";
  const bad = [...compact].find((ch) => !CODE_ALPHABET.includes(ch));
  if (bad !== undefined) {
    if ("0O1IL".includes(bad)) return `A sign-in code has no ${bad}: it never uses 0, O, 1, I or L. Check the code and type it again.`;
    return `A sign-in code has only letters and digits; "${bad}" is not one of them.`;
  }
  return `A sign-in code has ${CODE_LENGTH} letters and digits, like K7QF-9M2X; this has ${compact.length}.`;
}

/**
 * Ranks for "a manager cannot issue a role above their own": owner > manager > staff, cashier >
 * viewer. Staff and cashier are different, not higher or lower; both are below a manager.
 */
const ROLE_RANK: Record<Role, number> = { owner: 4, manager: 3, staff: 2, cashier: 2, viewer: 1 };
export const mayGrantRole = (issuer: Role, role: Role): boolean => ROLE_RANK[role] <= ROLE_RANK[issuer];

/** The body of `POST …/enrollments` (owner, manager). */
export const EnrollmentRequest = z.strictObject({
  role: Role,
  user: UserId,
  ttl_minutes: z.int().min(1).max(MAX_CODE_TTL_MINUTES).optional(),
});
export type EnrollmentRequest = z.infer<typeof EnrollmentRequest>;

/** Its answer (201): the code as people see it, once; the branch keeps only its hash. */
export const EnrollmentIssued = z.object({ code: z.string(), expires_at: z.string(), role: Role, user: UserId });
export type EnrollmentIssued = z.infer<typeof EnrollmentIssued>;

/**
 * The body of `POST …/enroll` (no token). `device_id` signs an existing device in again; without it
 * the branch gives the till a new device id. The code is checked by `normalizeCode` on the server.
 */
export const EnrollRequest = z.strictObject({ code: z.string().max(64), device_id: DeviceId.optional() });
export type EnrollRequest = z.infer<typeof EnrollRequest>;

/** Its answer (200): a device token and what it says. */
export const Enrolled = z.object({
  token: z.string(),
  device_id: DeviceId,
  branch: z.string(),
  role: Role,
  user: UserId,
  expires_at: z.string(),
});
export type Enrolled = z.infer<typeof Enrolled>;

/**
 * Why an enrollment code was refused (the body's `error`; the HTTP status is in docs/protocol/http.md):
 * - `enrollment_code_malformed` 400: not 8 characters of the alphabet (not counted as a try);
 * - `enrollment_code_wrong` 401: no such code on this branch (a wrong try);
 * - `enrollment_code_used` 410: it was already exchanged;
 * - `enrollment_code_expired` 410: its time is up;
 * - `enrollment_code_cancelled` 410: the branch saw MAX_WRONG_TRIES wrong codes while it was live;
 * - `device_revoked` 403: signing in again to a revoked device.
 */
export const EnrollRefusal = z.enum([
  "enrollment_code_malformed",
  "enrollment_code_wrong",
  "enrollment_code_used",
  "enrollment_code_expired",
  "enrollment_code_cancelled",
  "device_revoked",
]);
export type EnrollRefusal = z.infer<typeof EnrollRefusal>;
