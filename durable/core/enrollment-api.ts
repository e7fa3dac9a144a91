/**
 * The two HTTP answers of one-time sign-in codes (protocol/enrollment.ts, docs/protocol/http.md):
 * `POST …/enrollments` (a manager asks for a code) and `POST …/enroll` (a till exchanges one for a
 * device token, without a token of its own). Runtime-free: randomness, device ids and token signing
 * are the host's (the Durable Object passes WebCrypto and TOKEN_SECRET; tests may pass their own).
 */
import {
  CODE_ALPHABET,
  CODE_LENGTH,
  DEFAULT_CODE_TTL_MINUTES,
  displayCode,
  ENROLLED_TOKEN_TTL_S,
  EnrollmentRequest,
  EnrollRequest,
  type EnrollRefusal,
  mayGrantRole,
  MAX_LIVE_CODES,
  normalizeCode,
} from "../../protocol/enrollment.js";
import type { DeviceClaims } from "../../protocol/token.js";
import { sha256Hex } from "../../lib/bytes.js";
import { parseBody } from "../http.js";
import type { Actor } from "./actor.js";
import type { BranchCore } from "./branch.js";
import { storedDeviceId, storedUserId } from "./ids.js";

/** An answer, as http-api.ts's ApiAnswer (declared here too: that module imports this one). */
interface ApiAnswer {
  status: number;
  body: unknown;
}

export interface EnrollmentAnswerHost {
  /** Signs a device token for these claims (durable/auth.ts signDeviceToken with TOKEN_SECRET). */
  mintToken(claims: DeviceClaims): Promise<string>;
  /** A fresh device id for a new till. */
  newDeviceId(): string;
  /** Fills `bytes` with cryptographically strong random bytes. */
  randomBytes(bytes: Uint8Array): void;
}

/** HTTP status per refusal: 401 "not a code we know", 410 "it was one, it is gone", 403 a revoked device. */
export const ENROLL_REFUSAL_STATUS: Record<EnrollRefusal, number> = {
  enrollment_code_malformed: 400,
  enrollment_code_wrong: 401,
  enrollment_code_used: 410,
  enrollment_code_expired: 410,
  enrollment_code_cancelled: 410,
  device_revoked: 403,
};

const answer = (status: number, body: unknown): ApiAnswer => ({ status, body });

/** The branch is the code's salt, so one code's hash says nothing about another branch's. */
const codeHash = (branch: string, code: string) => sha256Hex(`enrollment:${branch}:${code}`);

/** CODE_LENGTH characters of CODE_ALPHABET, uniformly (bytes past the last whole alphabet are redrawn). */
export function newCode(randomBytes: (bytes: Uint8Array) => void): string {
  const n = CODE_ALPHABET.length;
  const limit = 256 - (256 % n);
  let code = "";
  const buffer = new Uint8Array(32);
  while (code.length < CODE_LENGTH) {
    randomBytes(buffer);
    for (const byte of buffer) {
      if (byte < limit && code.length < CODE_LENGTH) code += CODE_ALPHABET[byte % n];
    }
  }
  return code;
}

export async function issueEnrollment(core: BranchCore, host: EnrollmentAnswerHost, actor: Actor, text: string): Promise<ApiAnswer> {
  const body = parseBody(EnrollmentRequest, text);
  if (!body.ok) return answer(400, { error: "bad_request", message: body.error });
  const { role, user } = body.value;
  if (!mayGrantRole(actor.role, role)) {
    return answer(403, { error: "forbidden", message: `role ${actor.role} may not issue a code for role ${role}, which is above its own` });
  }
  const code = newCode((b) => host.randomBytes(b));
  const ttl = body.value.ttl_minutes ?? DEFAULT_CODE_TTL_MINUTES;
  const issued = core.issueEnrollment(actor, await codeHash(core.branchId, code), role, user, ttl);
  if (!issued.ok) {
    return answer(409, { error: "too_many_codes", message: `${issued.live} sign-in codes are waiting to be used on this branch (at most ${MAX_LIVE_CODES}); use them or let them expire first` });
  }
  return answer(201, { code: displayCode(code), expires_at: issued.expires_at, role, user });
}

export async function enroll(core: BranchCore, host: EnrollmentAnswerHost, text: string): Promise<ApiAnswer> {
  const body = parseBody(EnrollRequest, text);
  if (!body.ok) return answer(400, { error: "bad_request", message: body.error });
  const code = normalizeCode(body.value.code);
  if (code === null) {
    return answer(400, { error: "enrollment_code_malformed", message: `a sign-in code is ${CODE_LENGTH} letters and digits such as K7QF-9M2X (no 0, O, 1, I or L)` });
  }
  const redeemed = core.redeemEnrollment(await codeHash(core.branchId, code), body.value.device_id ?? null, () => host.newDeviceId());
  if (!redeemed.ok) return answer(ENROLL_REFUSAL_STATUS[redeemed.code], { error: redeemed.code, message: redeemed.message });
  const iat = Math.floor(core.nowMs() / 1000);
  const claims: DeviceClaims = { v: 1, branch: core.branchId, device: storedDeviceId(redeemed.device_id), user: storedUserId(redeemed.user), role: redeemed.role, iat, exp: iat + ENROLLED_TOKEN_TTL_S };
  const token = await host.mintToken(claims);
  return answer(200, {
    token,
    device_id: claims.device,
    branch: claims.branch,
    role: claims.role,
    user: claims.user,
    expires_at: new Date(claims.exp * 1000).toISOString(),
  });
}
