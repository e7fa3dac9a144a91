/**
 * The branch's HTTP routes, typed: the dashboard's reads (protocol/dashboard.ts), acting as a
 * manager (revoke, resolve a refused sale, settings), the push/changes fallbacks for when the socket
 * is down, and `enroll` (a one-time sign-in code → a device token). Every answer is validated with
 * the protocol's own schema; nothing the server sends is trusted unchecked. Every method resolves
 * to an `ApiResult`, never rejects: a refusal, a network failure and an answer that does not match
 * its schema are values the caller shows.
 */
import type { z } from "zod";
import {
  AuditPage,
  BranchSettingsBody,
  Changes,
  ConflictResolution,
  type ConflictResolutionRequest,
  DeviceBoard,
  EntityHistory,
  MoneyReport,
  PROTOCOL_VERSION,
  RejectionDetail,
  RejectionPage,
  RejectionTimeline,
  RevokeResult,
  type SettingsRequest,
  Verdicts,
} from "../protocol/index.js";
import { Enrolled } from "../protocol/enrollment.js";
import type { SyncEvent } from "../domain/events.js";
import { newRequestId, systemClock } from "./ids.js";

/**
 * An answer, or why there is none. `status` is the HTTP status, 0 when the request never got an
 * answer (network down, CORS). `error` is the server's code (`forbidden`, `not_found`,
 * `bad_request`…), `network`, or `invalid_response` when the answer did not match its schema.
 */
export type ApiResult<T> = { ok: true; value: T } | { ok: false; status: number; error: string; message: string };

/** `GET …/dashboard/rejections` filters and paging (protocol/dashboard.ts RejectionPage). */
export interface RejectionQuery {
  before?: number;
  limit?: number;
  device?: string;
  code?: string;
  entity_type?: string;
  entity?: string;
  /** ISO date-times: decided_at within [from, to). */
  from?: string;
  to?: string;
}
export interface TimelineQuery {
  from?: string;
  to?: string;
  bucket_s?: number;
}
export interface HistoryQuery {
  before_seq?: number;
  limit?: number;
}
/** Business days YYYY-MM-DD, both included. */
export interface MoneyQuery {
  from?: string;
  to?: string;
}
export interface AuditQuery {
  before?: number;
  limit?: number;
  kind?: string;
  device?: string;
}

export interface ApiOptions {
  /** The server's origin, e.g. `https://sync.example.com` or `http://127.0.0.1:8787`. */
  server: string;
  branch: string;
  token: string;
  /** The protocol version of the push/changes fallbacks' answers (default PROTOCOL_VERSION). */
  protocolVersion?: number;
  fetch?: typeof fetch;
  /** Stamps the push fallback's batch id (a UUIDv7); default the wall clock. */
  clock?: () => number;
}

type Query = Record<string, string | number | undefined>;

export class BranchApi {
  readonly #o: Required<Omit<ApiOptions, "fetch">> & { fetch: typeof fetch };

  constructor(options: ApiOptions) {
    this.#o = {
      server: options.server,
      branch: options.branch,
      token: options.token,
      protocolVersion: options.protocolVersion ?? PROTOCOL_VERSION,
      clock: options.clock ?? systemClock,
      // Bound: a bare `fetch` called as a method of another object throws "Illegal invocation".
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    };
  }

  // ── the dashboard's reads (role observe: owner, manager, viewer) ──
  devices(): Promise<ApiResult<DeviceBoard>> {
    return this.#get(DeviceBoard, "dashboard/devices");
  }
  rejections(q: RejectionQuery = {}): Promise<ApiResult<RejectionPage>> {
    return this.#get(RejectionPage, "dashboard/rejections", { ...q });
  }
  timeline(q: TimelineQuery = {}): Promise<ApiResult<RejectionTimeline>> {
    return this.#get(RejectionTimeline, "dashboard/rejections/timeline", { ...q });
  }
  rejection(eventId: string): Promise<ApiResult<RejectionDetail>> {
    return this.#get(RejectionDetail, `dashboard/rejections/${encodeURIComponent(eventId)}`);
  }
  history(entityId: string, q: HistoryQuery = {}): Promise<ApiResult<EntityHistory>> {
    return this.#get(EntityHistory, `dashboard/entities/${encodeURIComponent(entityId)}/history`, { ...q });
  }
  money(q: MoneyQuery = {}): Promise<ApiResult<MoneyReport>> {
    return this.#get(MoneyReport, "dashboard/money", { ...q });
  }
  audit(q: AuditQuery = {}): Promise<ApiResult<AuditPage>> {
    return this.#get(AuditPage, "dashboard/audit", { ...q });
  }

  // ── acting (owner, manager) ──
  revoke(deviceId: string, reason: string): Promise<ApiResult<RevokeResult>> {
    return this.#send(RevokeResult, "POST", `devices/${encodeURIComponent(deviceId)}/revoke`, { reason });
  }
  resolve(eventId: string, body: ConflictResolutionRequest): Promise<ApiResult<ConflictResolution>> {
    return this.#send(ConflictResolution, "POST", `conflicts/${encodeURIComponent(eventId)}/resolution`, body);
  }
  settings(): Promise<ApiResult<BranchSettingsBody>> {
    return this.#get(BranchSettingsBody, "settings");
  }
  updateSettings(body: SettingsRequest): Promise<ApiResult<BranchSettingsBody>> {
    return this.#send(BranchSettingsBody, "PUT", "settings", body);
  }

  // ── the socket's fallbacks (any role): answers in `protocolVersion`'s shapes ──
  changes(since: number, limit?: number): Promise<ApiResult<Changes>> {
    return this.#get(Changes, "changes", { since, limit, protocol_version: this.#o.protocolVersion });
  }
  /** One batch (at most MAX_BATCH_EVENTS events, one frame); the verdicts in the batch's order. */
  push(events: SyncEvent[], batchId: string = newRequestId(this.#o.clock())): Promise<ApiResult<Verdicts>> {
    return this.#send(Verdicts, "POST", `push?protocol_version=${this.#o.protocolVersion}`, { type: "push", batch_id: batchId, events });
  }

  #url(route: string, query: Query = {}): string {
    const url = new URL(`/v1/branches/${encodeURIComponent(this.#o.branch)}/${route}`, this.#o.server);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    return url.toString();
  }

  #get<S extends z.ZodType>(schema: S, route: string, query?: Query): Promise<ApiResult<z.infer<S>>> {
    return call(this.#o.fetch, schema, this.#url(route, query), { headers: { Authorization: `Bearer ${this.#o.token}` } });
  }

  #send<S extends z.ZodType>(schema: S, method: "POST" | "PUT", route: string, body: unknown): Promise<ApiResult<z.infer<S>>> {
    return call(this.#o.fetch, schema, this.#url(route), {
      method,
      headers: { Authorization: `Bearer ${this.#o.token}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  }
}

export interface EnrollOptions {
  server: string;
  branch: string;
  /** As the person typed it (case, dashes and spaces are ignored by the server). */
  code: string;
  /** Sign an existing device in again; without it the branch gives a new device id. */
  deviceId?: string;
  fetch?: typeof fetch;
}

/**
 * `POST …/enroll` (no token): a one-time sign-in code → a device token, its device id, role and
 * user. Refusals carry the code's reason as `error` (protocol/enrollment.ts EnrollRefusal).
 */
export function enroll(options: EnrollOptions): Promise<ApiResult<Enrolled>> {
  const url = new URL(`/v1/branches/${encodeURIComponent(options.branch)}/enroll`, options.server);
  const body = options.deviceId === undefined ? { code: options.code } : { code: options.code, device_id: options.deviceId };
  return call(options.fetch ?? globalThis.fetch.bind(globalThis), Enrolled, url.toString(), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Largest error body read: the server's are one short JSON object. */
const MAX_ERROR_BODY_CHARS = 4_096;

async function call<S extends z.ZodType>(fetchFn: typeof fetch, schema: S, url: string, init: RequestInit): Promise<ApiResult<z.infer<S>>> {
  let response: Response;
  try {
    response = await fetchFn(url, init);
  } catch (error) {
    return { ok: false, status: 0, error: "network", message: `no answer from ${new URL(url).origin}: ${String(error)}` };
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    return { ok: false, status: response.status, error: "network", message: `the answer broke off: ${String(error)}` };
  }
  if (!response.ok) return refusal(response.status, text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, status: response.status, error: "invalid_response", message: `the answer is not JSON: ${text.slice(0, 200)}` };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, status: response.status, error: "invalid_response", message: `the answer does not match its schema: ${parsed.error.message.slice(0, 900)}` };
  }
  return { ok: true, value: parsed.data };
}

/** A non-2xx answer: the server's `{error, message}` body, or the status in words when it has none. */
function refusal(status: number, text: string): ApiResult<never> {
  try {
    const body = JSON.parse(text.slice(0, MAX_ERROR_BODY_CHARS)) as unknown;
    if (typeof body === "object" && body !== null && "error" in body && typeof body.error === "string") {
      const message = "message" in body && typeof body.message === "string" ? body.message : body.error;
      return { ok: false, status, error: body.error, message };
    }
  } catch {
    // not JSON: fall through to the status
  }
  return { ok: false, status, error: `http_${status}`, message: `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ""}` };
}
