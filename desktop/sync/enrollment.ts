/**
 * The desktop's side of one-time sign-in codes (protocol/enrollment.ts, docs/protocol/http.md#sign-in-codes):
 * exchanging a code for a device token (a new till, or this till signing in again) and a manager
 * asking for one. Shared by the CLI (`init --code`, `signin`, `device add`) and the app core (the
 * setup and sign-in screens), so both say the same thing in the same words. Never throws: every
 * answer, an unreachable server included, is a value.
 */
import { codeFormatProblem, Enrolled, EnrollmentIssued, type EnrollmentRequest } from "../../protocol/enrollment.js";
import type { StoreConfig } from "../store/context.js";

/** Long enough for a slow link; a dead server fails at once anyway. */
const ENROLL_TIMEOUT_MS = 20_000;

/** Why a code exchange did not give a token, in words for the person who typed it. */
export type EnrollFailureKind =
  | "malformed"
  | "wrong"
  | "used"
  | "expired"
  | "cancelled"
  | "device_revoked"
  | "rate_limited"
  | "bad_server_url"
  | "unreachable"
  | "refused";

export interface EnrollFailure {
  kind: EnrollFailureKind;
  /** One or two sentences for people. */
  message: string;
  /** What the server said, for "Details for support" and logs (null when it said nothing). */
  detail: string | null;
}

const WORDS: Record<Exclude<EnrollFailureKind, "refused" | "unreachable" | "bad_server_url">, string> = {
  malformed: "That is not a sign-in code: a code is 8 letters and digits, like K7QF-9M2X.",
  wrong: "That sign-in code is not right. Check it and type it again, or ask a manager for a new one.",
  used: "That sign-in code was used already. Each code works once: ask a manager for a new one.",
  expired: "That sign-in code has expired. Ask a manager for a new one.",
  cancelled: "That sign-in code was cancelled after too many wrong tries. Ask a manager for a new one.",
  device_revoked: "A manager removed this till, so it cannot sign in again. The same code can still set it up as a new till.",
  rate_limited: "Too many codes were tried from this computer. Wait a minute, then try again.",
};

const KIND_OF_ERROR: Record<string, EnrollFailureKind> = {
  enrollment_code_malformed: "malformed",
  enrollment_code_wrong: "wrong",
  enrollment_code_used: "used",
  enrollment_code_expired: "expired",
  enrollment_code_cancelled: "cancelled",
  device_revoked: "device_revoked",
  rate_limited: "rate_limited",
};

/** The server's origin from what a person typed (`sync.example.com` is taken as https). */
export function serverOrigin(typed: string): string | null {
  const text = typed.trim();
  if (text === "") return null;
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
    return url.protocol === "http:" || url.protocol === "https:" ? url.origin : null;
  } catch {
    return null;
  }
}

type Answer = { kind: "answer"; status: number; body: Record<string, unknown> } | { kind: "unreachable"; message: string };

async function post(url: URL, body: unknown, token?: string): Promise<Answer> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(ENROLL_TIMEOUT_MS),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return { kind: "unreachable", message: cause?.code ?? cause?.message ?? (e as Error).message };
  }
  const text = await response.text().catch(() => "");
  try {
    const value = JSON.parse(text) as unknown;
    if (value !== null && typeof value === "object" && !Array.isArray(value)) return { kind: "answer", status: response.status, body: value as Record<string, unknown> };
  } catch {
    /* not our server's JSON: below */
  }
  return { kind: "answer", status: response.status, body: { error: `http_${response.status}`, message: `the server answered HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ""}` } };
}

const serverMessage = (body: Record<string, unknown>): string | null => (typeof body.message === "string" ? body.message : typeof body.error === "string" ? body.error : null);

/**
 * Exchanges a typed code for a device token at `serverUrl` for `branch`: a new device, or, with
 * `deviceId`, this device signing in again. A code that cannot be one is refused here, without a
 * request (the server would refuse it the same way).
 */
export async function exchangeCode(input: { serverUrl: string; branch: string; code: string; deviceId?: string }): Promise<{ ok: true; value: Enrolled } | { ok: false; error: EnrollFailure }> {
  const fail = (kind: EnrollFailureKind, message: string, detail: string | null = null) => ({ ok: false as const, error: { kind, message, detail } });
  const problem = codeFormatProblem(input.code);
  if (problem !== null) return fail("malformed", problem);
  const origin = serverOrigin(input.serverUrl);
  if (origin === null) return fail("bad_server_url", `"${input.serverUrl.trim()}" is not a server address. Type it as your manager gave it, e.g. https://sync.example.com.`);
  const url = new URL(`/v1/branches/${encodeURIComponent(input.branch)}/enroll`, origin);
  const answer = await post(url, { code: input.code, ...(input.deviceId ? { device_id: input.deviceId } : {}) });
  if (answer.kind === "unreachable") {
    return fail("unreachable", `The server at ${origin} could not be reached. Check the address and the network, then try again. Nothing was changed.`, answer.message);
  }
  const { status, body } = answer;
  if (status === 200) {
    const enrolled = Enrolled.safeParse(body);
    if (enrolled.success) return { ok: true, value: enrolled.data };
    return fail("refused", "The server's answer was not what this app expects. Ask for help; nothing was changed.", enrolled.error.issues[0]?.message ?? null);
  }
  const kind = typeof body.error === "string" ? KIND_OF_ERROR[body.error] : undefined;
  const detail = serverMessage(body);
  if (kind !== undefined) return fail(kind, WORDS[kind as keyof typeof WORDS], detail);
  if (status === 400 && typeof body.message === "string" && body.message.startsWith("branch id")) {
    return fail("refused", `"${input.branch}" is not a branch name. Type it as your manager gave it, e.g. colombo-main.`, detail);
  }
  if (status === 404) return fail("refused", `The server at ${origin} does not answer sign-in codes. Check the address.`, detail);
  return fail("refused", `The server refused the code: ${detail ?? `HTTP ${status}`}.`, detail);
}

export type AskFailure = { kind: "unreachable" | "refused" | "forbidden" | "token_refused" | "device_revoked"; message: string; status: number | null };

/** A manager asks the branch for a one-time code (role, person, minutes). */
export async function askForCode(cfg: StoreConfig, request: EnrollmentRequest): Promise<{ ok: true; value: EnrollmentIssued } | { ok: false; error: AskFailure }> {
  const url = new URL(`/v1/branches/${encodeURIComponent(cfg.branch_id)}/enrollments`, cfg.server_url);
  const answer = await post(url, request, cfg.token);
  if (answer.kind === "unreachable") {
    return { ok: false, error: { kind: "unreachable", status: null, message: `The server at ${cfg.server_url} could not be reached (${answer.message}). Try again when online.` } };
  }
  const { status, body } = answer;
  if (status === 201) {
    const issued = EnrollmentIssued.safeParse(body);
    if (issued.success) return { ok: true, value: issued.data };
    return { ok: false, error: { kind: "refused", status, message: "The server's answer was not what this app expects." } };
  }
  const said = serverMessage(body) ?? `HTTP ${status}`;
  if (status === 401) return { ok: false, error: { kind: "token_refused", status, message: `This till's sign-in was refused (${said}). Sign in again first.` } };
  if (status === 403 && body.error === "device_revoked") return { ok: false, error: { kind: "device_revoked", status, message: "A manager removed this till, so it cannot add others." } };
  if (status === 403) return { ok: false, error: { kind: "forbidden", status, message: `Your role (${cfg.role}) may not add tills: ${said}.` } };
  return { ok: false, error: { kind: "refused", status, message: `The server refused: ${said}.` } };
}
