/**
 * The branch's HTTP API for always-online clients and tools, runtime-free: who may do what (I11), how
 * a request's parts are validated (I12: every bad request gets its documented 4xx), and what the
 * branch answers. The Durable Object hands it the request's parts and turns the answer into a
 * Response; the effects that need the runtime (live fan-out, closing sockets, an R2 export) are
 * injected as `ApiHost`.
 *
 * The Worker has verified the token and routed the path (worker.ts): here `claims` are trusted and
 * only the last path segment names the action.
 */
import { z } from "zod";
import { type BranchAction, canDo, CloseDayRequest, DeviceId, DrawerCountRequest, EventId, IsoDate, parseDay } from "../../domain/index.js";
import { ConflictResolutionRequest, decodeWith, type LeaseAnswerBody, LeaseRequest, FRAME_LIMIT_BYTES, MIN_SUPPORTED_PROTOCOL_VERSION, PROTOCOL_VERSION, MAX_PULL_PAGE_CHANGES, PushFrame, RevokeRequest, serverMessageFor, type CloseReason, type SnapshotManifest } from "../../protocol/index.js";
import type { DeviceClaims } from "../../protocol/token.js";
import { type EnrollmentAnswerHost, enroll, issueEnrollment } from "./enrollment-api.js";
import { decodeSegment, intParam, parseBody } from "../http.js";
import type { Actor } from "./actor.js";
import type { BranchCore } from "./branch.js";
import type { LoggedChange } from "./log.js";
import { answerDashboard } from "./dashboard-api.js";
import { changeSettings, readSettings } from "./settings-api.js";

export interface ApiRequest {
  method: string;
  url: URL;
  /** The verified token's claims, or null when the request carries none (it never reaches the branch so). */
  claims: DeviceClaims | null;
  /** The whole body (the Worker read it, bounded). */
  text(): Promise<string>;
}

/** An answer: a status and a JSON body. */
export interface ApiAnswer {
  status: number;
  body: unknown;
}

export interface ApiHost extends EnrollmentAnswerHost {
  /** Commits made over HTTP go live to the branch's sockets too. */
  publish(changes: readonly LoggedChange[]): void;
  /** A revoked device's open sockets are closed at once. */
  disconnectDevice(deviceId: string, reason: CloseReason, message: string): void;
  /** Exports a snapshot now (R2) and records it. */
  exportSnapshot(by: Actor): Promise<SnapshotManifest>;
  /** A fresh request id for a `changes` request that names none. */
  newRequestId(): string;
  /** Devices with an open connection now (the dashboard's `connected`); none when the host has no sockets. */
  connectedDevices?(): ReadonlySet<string>;
  /** Be woken (the alarm) at this time: a lease granted over HTTP ends then. */
  wakeAt?(ms: number): void;
}

/** A lease request over HTTP: the `lease` message without `type` and `request_id`. */
const LeaseHttpRequest = LeaseRequest.omit({ type: true, request_id: true });

/** A request id (`changes?request_id=`), as in the `pull` message. */
const RequestId = z.uuid().max(36);

const answer = (status: number, body: unknown): ApiAnswer => ({ status, body });
const badRequest = (message: string) => answer(400, { error: "bad_request", message });

export class BranchHttpApi {
  constructor(
    private readonly core: BranchCore,
    private readonly host: ApiHost,
  ) {}

  async handle(request: ApiRequest): Promise<ApiAnswer> {
    const { claims, url, method } = request;
    // The one route without a token: a till exchanges a one-time code for one (the Worker rate-limits it).
    if (url.pathname.endsWith("/enroll") && method === "POST") return enroll(this.core, this.host, await request.text());
    if (!claims) return answer(401, { error: "unauthorized", message: "no verified device token" });
    // A revoked device's tokens are refused for good (I11), for every request, whatever its role.
    if (this.core.isRevoked(claims.device)) {
      return answer(403, { error: "device_revoked", message: `device ${claims.device} was revoked; ask a manager for a token for a new device` });
    }
    const actor: Actor = { device_id: claims.device, user_id: claims.user, role: claims.role };
    const action = url.pathname.split("/").pop();
    const denied = (what: BranchAction) =>
      canDo(actor.role, what) ? null : answer(403, { error: "forbidden", message: `role ${actor.role} may not ${what.replace("_", " ")}` });

    // The dashboard's reads (protocol/dashboard.ts): their last segment may be any other route's.
    const dashboard = /\/dashboard\/(.+)$/.exec(url.pathname)?.[1];
    if (dashboard !== undefined && method === "GET") {
      return denied("observe") ?? answerDashboard(this.core.dashboard, dashboard, url, () => this.host.connectedDevices?.() ?? new Set());
    }
    if (action === "push" && method === "POST") return this.#push(actor, url, await request.text());
    if (action === "changes" && method === "GET") return denied("read") ?? this.#changes(url);
    if (action === "audit" && method === "GET") return denied("read_audit") ?? this.#audit(url);
    if (action === "snapshots" && method === "POST") return denied("export_snapshot") ?? answer(201, await this.host.exportSnapshot(actor));
    if (action === "ledger" && method === "GET") return denied("read_ledger") ?? this.#ledger(url);
    if (action === "devices" && method === "GET") return denied("manage_devices") ?? answer(200, { devices: this.core.devices() });
    if (action === "revoke" && method === "POST") return denied("manage_devices") ?? this.#revoke(actor, url, request);
    if (action === "enrollments" && method === "POST") return denied("manage_devices") ?? issueEnrollment(this.core, this.host, actor, await request.text());
    if (action === "resolution" && method === "POST") return denied("resolve_conflicts") ?? this.#resolution(actor, url, request);
    if (action === "settings" && method === "GET") return denied("manage_settings") ?? answer(200, readSettings(this.core));
    if (action === "settings" && method === "PUT") return denied("manage_settings") ?? this.#settings(actor, await request.text());
    if (action === "leases" && method === "GET") return denied("observe") ?? answer(200, { leases: this.core.leases(), server_time_ms: this.core.nowMs() });
    if (action === "leases" && method === "POST") return this.#lease(actor, await request.text());
    const day = /\/days\/([^/]+)\/(?:report|close|drawer)$/.exec(url.pathname)?.[1];
    if (day !== undefined) {
      const parsed = parseDay(decodeURIComponent(day));
      if (!parsed.ok) return badRequest(`business day ${JSON.stringify(day)}: ${parsed.error}`);
      if (action === "report" && method === "GET") return canDo(actor.role, "read_ledger") || canDo(actor.role, "observe") ? this.#dayReport(parsed.value) : denied("read_ledger")!;
      if (action === "close" && method === "POST") return denied("close_day") ?? this.#closeDay(actor, parsed.value, await request.text());
      if (action === "drawer" && method === "POST") return denied("close_day") ?? this.#drawer(actor, parsed.value, await request.text());
    }
    return answer(404, { error: "not_found", message: `no ${method} ${url.pathname}` });
  }

  #dayReport(day: string): ApiAnswer {
    return answer(200, this.core.dayReport(day, this.host.connectedDevices?.() ?? new Set()));
  }

  /**
   * Closes a business day: 201 with its report (revision 1); every v10 connection is told
   * (`day_report`), so connected tills report their queue for it at once. 409 when it is closed
   * already (the body has the report as it stands), 422 when the day has not begun.
   */
  #closeDay(actor: Actor, day: string, text: string): ApiAnswer {
    const body = parseBody(CloseDayRequest, text === "" ? "{}" : text);
    if (!body.ok) return badRequest(body.error);
    const outcome = this.core.closeDay(actor, day, body.value.note ?? null);
    if (!outcome.ok) return answer(outcome.status, { error: outcome.error, message: outcome.message, report: outcome.status === 409 ? this.core.dayReport(day, this.host.connectedDevices?.() ?? new Set()) : undefined });
    this.host.publish([]);
    return answer(201, this.core.dayReport(day, this.host.connectedDevices?.() ?? new Set()));
  }

  /** A drawer count for one till and currency: 200 with the report (its variance in `drawer_counts`). */
  #drawer(actor: Actor, day: string, text: string): ApiAnswer {
    const body = parseBody(DrawerCountRequest, text);
    if (!body.ok) return badRequest(body.error);
    const outcome = this.core.countDrawer(actor, day, body.value);
    if (!outcome.ok) return answer(outcome.status, { error: outcome.error, message: outcome.message });
    return answer(200, this.core.dayReport(day, this.host.connectedDevices?.() ?? new Set()));
  }

  /** Pushing needs no permission of its own: each event is checked against the role (decide.ts). */
  #push(actor: Actor, url: URL, text: string): ApiAnswer {
    const version = httpVersion(url);
    if (version === null) return badVersion(url);
    const frame = decodeWith(PushFrame, text, FRAME_LIMIT_BYTES);
    if (!frame.ok) return answer(frame.error.code === "frame_too_large" ? 413 : 400, { error: frame.error.code, message: frame.error.message });
    const outcome = this.core.push(actor, frame.value.events, FRAME_LIMIT_BYTES);
    this.host.publish(outcome.changes);
    return answer(200, serverMessageFor(version, { type: "verdicts", batch_id: frame.value.batch_id, verdicts: outcome.verdicts }));
  }

  /**
   * A lease request over HTTP (the CLI, the dashboard): the `lease` message's fields but `type` and
   * `request_id`. Granted, released or broken: 200; refused: 403 (forbidden), 404 (not found) or 409
   * (held, ended, not held, too many), with the same body and the refusal in `error` (as every route's
   * error body has one). Who may break one is the core's to say.
   */
  #lease(actor: Actor, text: string): ApiAnswer {
    const body = parseBody(LeaseHttpRequest, text);
    if (!body.ok) return badRequest(body.error);
    const { result, nowMs } = this.core.lease(actor, { type: "lease", request_id: this.host.newRequestId(), ...body.value });
    if (result.outcome === "granted" && result.lease !== null) this.host.wakeAt?.(result.lease.expires_at_ms);
    const status = result.refusal === null ? 200 : result.refusal === "forbidden" ? 403 : result.refusal === "not_found" ? 404 : 409;
    const reply: LeaseAnswerBody = { action: body.value.action, ...result, server_time_ms: nowMs, ...(result.refusal === null ? {} : { error: result.refusal }) };
    return answer(status, reply);
  }

  /** A manager closes a conflict kept open for one: the event must have a stored rejected verdict. */
  async #resolution(actor: Actor, url: URL, request: ApiRequest): Promise<ApiAnswer> {
    const raw = decodeSegment(url.pathname.split("/").at(-2)!);
    const eventId = EventId.safeParse(raw);
    if (!eventId.success) return badRequest(`event id ${JSON.stringify((raw ?? "").slice(0, 100))}: ${eventId.error.issues[0]?.message}`);
    const body = parseBody(ConflictResolutionRequest, await request.text());
    if (!body.ok) return badRequest(body.error);
    const resolved = this.core.resolveConflict(actor, eventId.data, body.value);
    if (!resolved.ok) return answer(resolved.error.status, { error: resolved.error.error, message: resolved.error.message });
    return answer(200, resolved.value);
  }

  #changes(url: URL): ApiAnswer {
    const since = intParam(url, "since", 0);
    const limit = intParam(url, "limit", MAX_PULL_PAGE_CHANGES);
    if (since === null || limit === null || limit < 1) return badRequest("since must be an integer ≥ 0 and limit an integer from 1 to 1000");
    const requestId = url.searchParams.get("request_id") ?? this.host.newRequestId();
    if (!RequestId.safeParse(requestId).success) return badRequest(`request_id must be a UUID, received ${JSON.stringify(requestId.slice(0, 100))}`);
    const version = httpVersion(url);
    if (version === null) return badVersion(url);
    // Compaction (docs/protocol/compaction.md): the commits after `since` are no longer all in the log.
    // 410 Gone, whatever the version: bootstrap from the newest snapshot (GET …/snapshots/latest) instead.
    const compacted = this.core.compactedThrough();
    if (since < compacted) {
      return answer(410, {
        error: "history_compacted",
        message: `the branch's history through seq ${compacted} was compacted, so changes since ${since} cannot be listed: start from the newest snapshot (GET …/snapshots/latest) and list the changes since its seq`,
        compacted_through: compacted,
      });
    }
    return answer(200, serverMessageFor(version, this.core.pull(since, Math.min(limit, MAX_PULL_PAGE_CHANGES), requestId)));
  }

  #audit(url: URL): ApiAnswer {
    const after = intParam(url, "after", 0);
    const limit = intParam(url, "limit", 100);
    if (after === null || limit === null || limit < 1 || limit > 1_000) {
      return badRequest("after must be an integer ≥ 0 and limit an integer from 1 to 1000");
    }
    return answer(200, this.core.readAudit(after, limit));
  }

  #ledger(url: URL): ApiAnswer {
    const day = url.searchParams.get("day");
    if (day !== null && !IsoDate.safeParse(day).success) {
      return badRequest(`day must be a calendar date YYYY-MM-DD, received ${JSON.stringify(day.slice(0, 100))}`);
    }
    return answer(200, { day, time_zone: this.core.timeZone(), rows: this.core.ledger(day) });
  }

  /** A manager's change to the studio's details; every bad field is named (studio.ts, studioIssueWords). */
  #settings(actor: Actor, text: string): ApiAnswer {
    const changed = changeSettings(this.core, actor, text);
    return changed.ok ? answer(200, changed.settings) : badRequest(changed.message);
  }

  async #revoke(actor: Actor, url: URL, request: ApiRequest): Promise<ApiAnswer> {
    const raw = decodeSegment(url.pathname.split("/").at(-2)!);
    const target = DeviceId.safeParse(raw);
    if (!target.success) return badRequest(`device id ${JSON.stringify((raw ?? "").slice(0, 100))}: ${target.error.issues[0]?.message}`);
    if (target.data === actor.device_id) return badRequest("a device cannot revoke itself; revoke it from another manager's device");
    const body = parseBody(RevokeRequest, await request.text());
    if (!body.ok) return badRequest(body.error);
    const revoked = this.core.revokeDevice(actor, target.data, body.value.reason);
    this.host.disconnectDevice(target.data, "device_revoked", `this device was revoked by ${actor.user_id}: ${body.value.reason}`);
    return answer(200, { device_id: target.data, revoked_at: revoked.revoked_at, already: revoked.already });
  }
}

/**
 * HTTP has no hello: `push` and `changes` answer in the version `?protocol_version=N` names, else in
 * v4's shapes (what every HTTP client written before v5 reads). Null: not a version this server speaks.
 */
function httpVersion(url: URL): number | null {
  const version = intParam(url, "protocol_version", 4);
  return version === null || version < MIN_SUPPORTED_PROTOCOL_VERSION || version > PROTOCOL_VERSION ? null : version;
}

const badVersion = (url: URL): ApiAnswer =>
  badRequest(`protocol_version must be an integer from ${MIN_SUPPORTED_PROTOCOL_VERSION} to ${PROTOCOL_VERSION}, received ${JSON.stringify((url.searchParams.get("protocol_version") ?? "").slice(0, 20))}`);
