/**
 * The Worker in front of the branch Durable Objects: routing and authentication only.
 *
 *   GET  /health
 *   GET  /v1/branches/:branchId/sync       WebSocket (protocol v1, docs/protocol.md)
 *   POST /v1/branches/:branchId/push       HTTP fallbacks for always-online clients and tools
 *   GET  /v1/branches/:branchId/changes
 *   GET  /v1/branches/:branchId/audit
 *   GET  /v1/branches/:branchId/ledger
 *   POST /v1/branches/:branchId/snapshots              export one now (manager)
 *   GET  /v1/branches/:branchId/snapshots/latest       the newest manifest
 *   GET  /v1/branches/:branchId/snapshots/:seq/data    the snapshot, with HTTP Range support
 *
 * Every /v1 request carries a device token (I11). It is verified here, before anything reaches the
 * branch; the branch receives the verified claims in CLAIMS_HEADER and trusts nothing else.
 */
import { getServerByName } from "partyserver";
import { BranchId, canDo, MIN_SUPPORTED_PROTOCOL_VERSION, PROTOCOL_VERSION, snapshotKey } from "../schema/index.js";
import { decodeTokenUnverified } from "../schema/token.js";
import { MIN_SECRET_CHARS, tokenFromRequest, verifyDeviceToken } from "./auth.js";
import { BranchDurableObject, type Env } from "./branch-do.js";
import { CLAIMS_HEADER, json } from "./http.js";
import { latestManifest } from "./snapshots/export.js";
import { serveSnapshotData } from "./snapshots/serve.js";

export { BranchDurableObject };

const ROUTE = /^\/v1\/branches\/([^/]+)\/(sync|push|changes|audit|ledger|snapshots|snapshots\/latest|snapshots\/(\d{1,16})\/data)$/;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/health") {
      return json(200, { ok: true, protocol_version: PROTOCOL_VERSION, min_protocol_version: MIN_SUPPORTED_PROTOCOL_VERSION });
    }
    const match = ROUTE.exec(url.pathname);
    if (!match) return json(404, { error: "not_found", message: `no route for ${url.pathname}` });
    const branch = BranchId.safeParse(decodeURIComponent(match[1]!));
    if (!branch.success) {
      return json(400, { error: "bad_request", message: `branch id ${JSON.stringify(match[1])}: ${branch.error.issues[0]?.message}` });
    }
    if (!env.TOKEN_SECRET || env.TOKEN_SECRET.length < MIN_SECRET_CHARS) {
      return json(500, { error: "misconfigured", message: `TOKEN_SECRET is not set (or shorter than ${MIN_SECRET_CHARS} characters) on this server` });
    }
    const isSocket = request.headers.get("Upgrade")?.toLowerCase() === "websocket";
    if (match[2] === "sync" && !isSocket) {
      return json(426, { error: "upgrade_required", message: "the sync endpoint speaks WebSocket only" });
    }

    const stub = await getServerByName(env.BRANCH, branch.data);
    const token = tokenFromRequest(request);
    const verified = await verifyDeviceToken(token, env.TOKEN_SECRET, Date.now());
    if (!verified.ok) {
      const hint = token ? decodeTokenUnverified(token) : null;
      await stub.recordTokenFailure(verified.error.code, verified.error.message, hint?.ok ? hint.value.device : null);
      return json(401, { error: "unauthorized", code: verified.error.code, message: verified.error.message });
    }
    const claims = verified.value;
    if (claims.branch !== branch.data) {
      const message = `token is for branch ${claims.branch}, not ${branch.data}`;
      await stub.recordTokenFailure("wrong_branch", message, claims.device);
      return json(403, { error: "forbidden", message });
    }

    // Snapshots are read straight from R2; asking for a new one goes to the branch.
    if (match[2] === "snapshots/latest" && request.method === "GET") {
      if (!canDo(claims.role, "read")) return json(403, { error: "forbidden", message: `role ${claims.role} may not read` });
      const manifest = await latestManifest(env.SNAPSHOTS, branch.data);
      return manifest ? json(200, manifest) : json(404, { error: "not_found", message: `branch ${branch.data} has no snapshot yet` });
    }
    if (match[3] !== undefined && request.method === "GET") {
      return serveSnapshotData(env.SNAPSHOTS, snapshotKey(branch.data, Number(match[3]), "data"), request);
    }

    const headers = new Headers(request.headers);
    headers.set(CLAIMS_HEADER, JSON.stringify(claims));
    return stub.fetch(new Request(request, { headers }));
  },
} satisfies ExportedHandler<Env>;
