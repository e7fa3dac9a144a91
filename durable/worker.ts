/**
 * The Worker in front of the branch Durable Objects: routing and authentication only.
 *
 *   GET  /health
 *   GET  /v1/branches/:branchId/sync       WebSocket (protocol v1, docs/protocol.md)
 *   POST /v1/branches/:branchId/push       HTTP fallbacks for always-online clients and tools
 *   GET  /v1/branches/:branchId/changes
 *   GET  /v1/branches/:branchId/audit
 *   GET  /v1/branches/:branchId/ledger
 *   GET  /v1/branches/:branchId/devices                    the branch's devices (manager)
 *   POST /v1/branches/:branchId/devices/:deviceId/revoke   revoke one (manager)
 *   POST /v1/branches/:branchId/enrollments            a one-time sign-in code (manager)
 *   POST /v1/branches/:branchId/enroll                 exchange a code for a token (NO token; rate-limited)
 *   POST /v1/branches/:branchId/conflicts/:eventId/resolution   resolve a conflict kept for a manager
 *   GET  /v1/branches/:branchId/settings              the studio's name, address, … (manager)
 *   PUT  /v1/branches/:branchId/settings              change them (manager)
 *   GET  /v1/branches/:branchId/leases                the leases in force (owner, manager, viewer)
 *   POST /v1/branches/:branchId/leases                take, renew, release or (manager) break one
 *   POST /v1/branches/:branchId/snapshots              export one now (manager)
 *   GET  /v1/branches/:branchId/snapshots/latest       the newest base manifest (?chain=1: the newest chain)
 *   GET  /v1/branches/:branchId/snapshots/:seq/data    the snapshot, with HTTP Range support
 *   GET  /v1/branches/:branchId/dashboard/{devices, rejections, rejections/timeline, rejections/:eventId,
 *        entities/:entityId/history, money, audit}    the dashboard's reads (owner, manager, viewer)
 *
 * Every answer carries CORS headers allowing any origin, and an OPTIONS preflight is answered here
 * without a token (see CORS_HEADERS: tokens, never cookies, carry authority).
 *
 * Every /v1 request carries a device token (I11), except `POST …/enroll`, where a till without one
 * exchanges a manager's one-time code for one (rate-limited per address before any branch is touched). It is verified here, and **no refused request
 * touches a Durable Object**: not a missing or forged token, and not a validly signed one that is
 * expired, not yet valid or for another branch either. Waking a branch costs its storage (a made-up
 * branch name would create a database) and a branch-side audit row per refusal would let anyone grow
 * any branch without bound (I12). Refusals are logged here, one structured line each, and counted per
 * client address with the platform's rate limiter: past the limit the answer is 429.
 *
 * The branch receives the verified claims in CLAIMS_HEADER and trusts nothing else; the Worker strips
 * everything of the client's that partyserver would interpret (`x-partykit-*` headers, `_pk`) and the
 * token itself before forwarding.
 */
import { getServerByName } from "partyserver";
import { BranchId, canDo } from "../domain/index.js";
import { FRAME_LIMIT_BYTES, MIN_SUPPORTED_PROTOCOL_VERSION, PROTOCOL_VERSION, snapshotKey } from "../protocol/index.js";
import { decodeTokenUnverified, type DeviceClaims } from "../protocol/token.js";
import { MIN_SECRET_CHARS, tokenFromRequest, verifyDeviceToken } from "./auth.js";
import { BranchDurableObject, type Env, EVENT_SCHEMAS_COMPILED } from "./branch-do.js";
import { answerOrInternalError, CLAIMS_HEADER, decodeSegment, json, readBody } from "./http.js";
import { serveLatestSnapshot, serveSnapshotData } from "./snapshots/serve.js";

export { BranchDurableObject };

const ROUTE =
  /^\/v1\/branches\/([^/]+)\/(sync|push|changes|audit|ledger|devices|devices\/([^/]+)\/revoke|enrollments|enroll|settings|leases|snapshots|snapshots\/latest|snapshots\/(\d{1,16})\/data|conflicts\/([^/]+)\/resolution|dashboard\/(?:devices|rejections|rejections\/[^/]+|entities\/[^/]+\/history|money|audit)|days\/(\d{4}-\d{2}-\d{2})\/(report|close|drawer))$/;

type Action = "sync" | "push" | "changes" | "audit" | "ledger" | "devices" | "revoke" | "enrollments" | "enroll" | "settings" | "leases" | "snapshots" | "snapshots/latest" | "snapshot_data" | "resolution" | "dashboard" | "day_report" | "day_close" | "day_drawer";

interface Route {
  method: "GET" | "POST" | "PUT";
  /** The route also answers GET (no body): reading what it changes. */
  alsoGet?: true;
  /** The largest body accepted (413 beyond it). workerd gives a GET no body at all. */
  bodyLimitBytes: number;
  /** The branch reads the body; otherwise it is read and dropped here. */
  forwardsBody: boolean;
}

const GET: Route = { method: "GET", bodyLimitBytes: 0, forwardsBody: false };
const ROUTES: Record<Action, Route> = {
  sync: GET,
  push: { method: "POST", bodyLimitBytes: FRAME_LIMIT_BYTES, forwardsBody: true },
  changes: GET,
  audit: GET,
  ledger: GET,
  devices: GET,
  revoke: { method: "POST", bodyLimitBytes: 4_096, forwardsBody: true },
  enrollments: { method: "POST", bodyLimitBytes: 4_096, forwardsBody: true },
  enroll: { method: "POST", bodyLimitBytes: 4_096, forwardsBody: true },
  settings: { method: "PUT", alsoGet: true, bodyLimitBytes: 4_096, forwardsBody: true },
  leases: { method: "POST", alsoGet: true, bodyLimitBytes: 4_096, forwardsBody: true },
  // Takes no body; a small one (`{}` from a generic client) is tolerated and dropped.
  snapshots: { method: "POST", bodyLimitBytes: 4_096, forwardsBody: false },
  "snapshots/latest": GET,
  snapshot_data: GET,
  resolution: { method: "POST", bodyLimitBytes: 4_096, forwardsBody: true },
  dashboard: GET,
  day_report: GET,
  day_close: { method: "POST", bodyLimitBytes: 4_096, forwardsBody: true },
  day_drawer: { method: "POST", bodyLimitBytes: 4_096, forwardsBody: true },
};

/**
 * The rate-limit key of a client: its address as Cloudflare's edge states it (clients cannot set
 * CF-Connecting-IP there; locally miniflare sets it to the peer's address), else one fixed key for
 * requests that come from no network address (tests calling the Worker in-process).
 */
const NO_ADDRESS_KEY = "loopback";
/** Request headers the branch never sees: its claims come from us, and the body is re-framed. */
const DROPPED_HEADERS = new Set([CLAIMS_HEADER, "authorization", "content-length", "transfer-encoding"]);
/** The rate limiter's window (`simple.period` in wrangler.toml): the longest a client has to wait. */
const REFUSAL_WINDOW_S = 60;

export default {
  /** Nothing throws past here (I12): a bug is logged and answered as a JSON 500 without its stack. */
  async fetch(request: Request, env: Env): Promise<Response> {
    if (request.method === "OPTIONS") return preflight();
    return withCors(await answerOrInternalError(request, "in the Worker", "the server", () => handle(request, env)));
  },
} satisfies ExportedHandler<Env>;

/**
 * Cross-origin reads and writes (CORS) for every answer of the Worker, so a web app on another origin
 * can use the API with the browser client (client/): the WebSocket needs no CORS, its HTTP calls do.
 * Any origin is allowed, safely: every request carries its authority itself (a bearer token, or a
 * one-time code for `enroll`) and nothing rides on cookies or the caller's address, so a page on
 * another origin can do nothing its user's token could not do with curl. The dashboard's own assets
 * (wrangler.toml [assets]) never reach the Worker and keep their strict headers (dashboard/_headers).
 */
const CORS_HEADERS: Readonly<Record<string, string>> = {
  "Access-Control-Allow-Origin": "*",
  // What a client reads beyond the CORS-safelisted headers: the wait of a 429, a snapshot's ranges, the
  // allowed methods of a 405.
  "Access-Control-Expose-Headers": "Retry-After, Content-Range, Accept-Ranges, ETag, Allow",
};

/** The answer to a CORS preflight: any route, its methods and the headers the API reads; for a day. */
function preflight(): Response {
  return new Response(null, {
    status: 204,
    headers: {
      ...CORS_HEADERS,
      "Access-Control-Allow-Methods": "GET, POST, PUT",
      "Access-Control-Allow-Headers": "Authorization, Content-Type, Range",
      "Access-Control-Max-Age": "86400",
    },
  });
}

/** An answer with the CORS headers; a WebSocket upgrade as it is (its headers are the handshake's). */
function withCors(answer: Response): Response {
  if (answer.webSocket) return answer;
  // Answers from a Durable Object or R2 have immutable headers: a copy takes them.
  const copy = new Response(answer.body, answer);
  for (const [name, value] of Object.entries(CORS_HEADERS)) copy.headers.set(name, value);
  return copy;
}

async function handle(request: Request, env: Env): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === "/health") {
    // event_schemas: whether this isolate checks events with compiled schemas (branch-do.ts), which
    // workerd allows only while the module is evaluated; "runtime" means the slower parser.
    return json(200, { ok: true, protocol_version: PROTOCOL_VERSION, min_protocol_version: MIN_SUPPORTED_PROTOCOL_VERSION, event_schemas: EVENT_SCHEMAS_COMPILED ? "compiled" : "runtime" });
  }
  const match = ROUTE.exec(url.pathname);
  if (!match) return json(404, { error: "not_found", message: `no route for ${url.pathname}` });
  const action: Action =
    match[3] !== undefined
      ? "revoke"
      : match[4] !== undefined
        ? "snapshot_data"
        : match[5] !== undefined
          ? "resolution"
          : match[6] !== undefined
            ? (`day_${match[7]}` as Action)
            : match[2]!.startsWith("dashboard/")
              ? "dashboard"
              : (match[2] as Action);
  const route = ROUTES[action];
  const rawBranch = decodeSegment(match[1]!);
  const branch = BranchId.safeParse(rawBranch);
  if (!branch.success) {
    return json(400, { error: "bad_request", message: `branch id ${JSON.stringify(rawBranch ?? match[1])}: ${rawBranch === null ? "not valid percent-encoding" : branch.error.issues[0]?.message}` });
  }
  if (request.method !== route.method && !(route.alsoGet && request.method === "GET")) {
    const allow = route.alsoGet ? `GET, ${route.method}` : route.method;
    return json(405, { error: "method_not_allowed", message: `${url.pathname} answers ${allow} only, received ${request.method}` }, { Allow: allow });
  }
  if (!env.TOKEN_SECRET || env.TOKEN_SECRET.length < MIN_SECRET_CHARS || !env.TOKEN_REFUSALS) {
    return json(500, { error: "misconfigured", message: `TOKEN_SECRET (at least ${MIN_SECRET_CHARS} characters) or the TOKEN_REFUSALS rate limiter is not set on this server` });
  }
  const isSocket = request.headers.get("Upgrade")?.toLowerCase() === "websocket";
  if (action === "sync" && !isSocket) {
    return json(426, { error: "upgrade_required", message: "the sync endpoint speaks WebSocket only" });
  }

  if (action === "enroll") return enroll(request, env, branch.data, url, route);

  const token = tokenFromRequest(request);
  const verified = await verifyDeviceToken(token, env.TOKEN_SECRET, Date.now());
  if (!verified.ok) {
    // Claims are worth logging only when the signature held (expired, not yet valid): a forged
    // token's claims are whatever its author wrote.
    const signed = verified.error.code === "expired" || verified.error.code === "not_yet_valid";
    const claims = signed && token ? decodeTokenUnverified(token) : null;
    return refuse(request, env, branch.data, verified.error.code, claims?.ok ? claims.value : null, () =>
      json(401, { error: "unauthorized", code: verified.error.code, message: verified.error.message }),
    );
  }
  const claims = verified.value;
  if (claims.branch !== branch.data) {
    return refuse(request, env, branch.data, "wrong_branch", claims, () =>
      json(403, { error: "forbidden", message: `token is for branch ${claims.branch}, not ${branch.data}` }),
    );
  }

  const stub = await getServerByName(env.BRANCH, branch.data);
  // Snapshots are read straight from R2 (asking for a new one goes to the branch), but a revoked
  // device reads nothing (I11), and only the branch knows which devices are revoked.
  if ((action === "snapshots/latest" || action === "snapshot_data") && (await stub.isDeviceRevoked(claims.device))) {
    return json(403, { error: "device_revoked", message: `device ${claims.device} was revoked; ask a manager for a token for a new device` });
  }
  if (action === "snapshots/latest") {
    if (!canDo(claims.role, "read")) return json(403, { error: "forbidden", message: `role ${claims.role} may not read` });
    return serveLatestSnapshot(env.SNAPSHOTS, branch.data, url);
  }
  if (action === "snapshot_data") {
    return serveSnapshotData(env.SNAPSHOTS, snapshotKey(branch.data, Number(match[4]), "data"), request);
  }

  // Nothing is forwarded while part of the client's body is unread: a body the branch does not
  // read (a 403, a route that takes none) stayed on the client's keep-alive connection and broke
  // the next request there. So the Worker reads the whole body, bounded (http.ts, readBody), and
  // the branch gets it complete or not at all (test/node/auth.test.ts checks the connection).
  const read = await readBody(request, route.bodyLimitBytes);
  if (!read.ok) {
    return json(413, { error: "frame_too_large", message: `the body of ${request.method} ${action} is larger than ${route.bodyLimitBytes} bytes` });
  }
  const body = route.forwardsBody && request.method !== "GET" ? read.value : null;
  const forwardUrl = new URL(url);
  forwardUrl.searchParams.delete("token");
  forwardUrl.searchParams.delete("_pk"); // partyserver takes a connection id from it
  const headers = new Headers();
  for (const [name, value] of request.headers) {
    if (name.startsWith("x-partykit-") || DROPPED_HEADERS.has(name)) continue;
    headers.set(name, value);
  }
  headers.set(CLAIMS_HEADER, JSON.stringify(claims));
  const answer = await stub.fetch(new Request(forwardUrl, { method: request.method, headers, body }));
  return answer.status >= 500 && !answer.webSocket && !isJson(answer) ? internalError(answer, branch.data) : answer;
}

/**
 * A refused token: one structured log line (never the token), counted against the client's address.
 * Past the limit the client gets 429 instead of the refusal, with the time to wait.
 */
async function refuse(
  request: Request,
  env: Env,
  branch: string,
  code: string,
  claims: DeviceClaims | null,
  refusal: () => Response,
): Promise<Response> {
  const client = request.headers.get("CF-Connecting-IP") ?? NO_ADDRESS_KEY;
  const { success } = await env.TOKEN_REFUSALS.limit({ key: client });
  console.warn(
    JSON.stringify({
      event: "token_refused",
      code,
      branch,
      path: new URL(request.url).pathname,
      client,
      device: claims?.device ?? null,
      token_branch: claims?.branch ?? null,
      rate_limited: !success,
    }),
  );
  if (success) return refusal();
  return json(
    429,
    { error: "rate_limited", message: `too many refused tokens from this address; retry after ${REFUSAL_WINDOW_S} s with a valid token` },
    { "Retry-After": String(REFUSAL_WINDOW_S) },
  );
}

/**
 * `POST …/enroll`, the one route that carries no token: a till exchanges a one-time code for one.
 * Every attempt is counted per client address first (ENROLL_ATTEMPTS), so guessing is slow before
 * any branch is touched; the branch then bounds wrong tries per code (core/enrollments.ts).
 */
async function enroll(request: Request, env: Env, branch: string, url: URL, route: Route): Promise<Response> {
  if (!env.ENROLL_ATTEMPTS) {
    return json(500, { error: "misconfigured", message: "the ENROLL_ATTEMPTS rate limiter is not set on this server, so sign-in codes are not accepted" });
  }
  const client = request.headers.get("CF-Connecting-IP") ?? NO_ADDRESS_KEY;
  const { success } = await env.ENROLL_ATTEMPTS.limit({ key: client });
  if (!success) {
    console.warn(JSON.stringify({ event: "enroll_rate_limited", branch, client }));
    return json(
      429,
      { error: "rate_limited", message: `too many sign-in codes tried from this address; wait ${REFUSAL_WINDOW_S} s and try again` },
      { "Retry-After": String(REFUSAL_WINDOW_S) },
    );
  }
  const read = await readBody(request, route.bodyLimitBytes);
  if (!read.ok) return json(413, { error: "frame_too_large", message: `the body of POST enroll is larger than ${route.bodyLimitBytes} bytes` });
  const stub = await getServerByName(env.BRANCH, branch);
  const forwardUrl = new URL(url.pathname, url.origin);
  return stub.fetch(new Request(forwardUrl, { method: "POST", headers: { "content-type": "application/json" }, body: read.value }));
}

function isJson(response: Response): boolean {
  return response.headers.get("content-type")?.startsWith("application/json") ?? false;
}

/**
 * A server error the branch did not answer in JSON (partyserver answers an exception outside
 * `onRequest` with the stack trace as text): logged here, answered without the trace.
 */
async function internalError(answer: Response, branch: string): Promise<Response> {
  const ref = crypto.randomUUID();
  console.error(JSON.stringify({ event: "internal_error", ref, branch, status: answer.status, detail: (await answer.text()).slice(0, 2_000) }));
  return json(500, { error: "internal_error", message: `the branch could not answer this request (logged as ${ref})` });
}
