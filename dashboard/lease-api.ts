/**
 * The branch's lease routes over HTTP (protocol v7, docs/protocol/http.md): `GET …/leases` (every
 * lease in force) and `POST …/leases` `{action: "break", entity_id, group, reason}` (owner, manager),
 * answered `{action, outcome, refusal, message, lease, server_time_ms}`.
 * The browser client's BranchApi (client/api.ts) has no lease routes yet, so the dashboard calls them
 * here, with the sign-in's token, validating every answer with the protocol's own schemas.
 *
 * A break answers 200 `broken`, or 403/404/409 with a body of the same shape and outcome
 * `refused`: a refusal is a value the view says (409 `not_held`: the lease had already ended), not an
 * error. Only an answer that is neither (no network, 401, a body that does not decode) is a failure.
 */
import { z } from "zod";
import type { LeaseGroup } from "../domain/lease-groups.js";
import { LeaseAnswerBody, LeaseList } from "../protocol/messages.js";
import type { ApiResult } from "./link.js";

export { LeaseList };
/** `POST …/leases`'s answer (protocol/messages.ts LeaseAnswerBody). */
export const LeaseAnswer = LeaseAnswerBody;
export type LeaseAnswer = z.infer<typeof LeaseAnswerBody>;

/** Largest answer body read: a lease_result is one short JSON object. */
const MAX_BODY_CHARS = 16_384;

export interface LeaseApi {
  list(): Promise<ApiResult<LeaseList>>;
  /** Breaks another device's lease: the branch's `lease_result`, `broken` or `refused` (never a failure for a refusal). */
  breakLease(entityId: string, group: LeaseGroup, reason: string): Promise<ApiResult<LeaseAnswer>>;
}

export function leaseApi(o: { server: string; branch: string; token: string; fetch: typeof fetch }): LeaseApi {
  const url = new URL(`/v1/branches/${encodeURIComponent(o.branch)}/leases`, o.server).toString();
  const auth = { Authorization: `Bearer ${o.token}` };
  return {
    list: () => call(o.fetch, url, { headers: auth }, (status, json) => (status === 200 ? LeaseList.safeParse(json) : null)),
    breakLease: (entityId, group, reason) =>
      call(o.fetch, url, { method: "POST", headers: { ...auth, "Content-Type": "application/json" }, body: JSON.stringify({ action: "break", entity_id: entityId, group, reason }) }, (status, json) =>
        // 403, 404 and 409 carry the branch's refusal in the same shape; 401 and the rest do not.
        status === 200 || status === 403 || status === 404 || status === 409 ? LeaseAnswer.safeParse(json) : null,
      ),
  };
}

type Decode<T> = (status: number, json: unknown) => z.ZodSafeParseResult<T> | null;

async function call<T>(fetchFn: typeof fetch, url: string, init: RequestInit, decode: Decode<T>): Promise<ApiResult<T>> {
  let response: Response;
  let text: string;
  try {
    response = await fetchFn(url, init);
    text = await response.text();
  } catch (error) {
    return { ok: false, status: 0, error: "network", message: `no answer from the server: ${String(error)}` };
  }
  let json: unknown = null;
  try {
    json = JSON.parse(text.slice(0, MAX_BODY_CHARS));
  } catch {
    // not JSON: said below from the status
  }
  const decoded = decode(response.status, json);
  if (decoded?.success) return { ok: true, value: decoded.data };
  if (decoded) return { ok: false, status: response.status, error: "invalid_response", message: `the answer does not match its schema: ${decoded.error.message.slice(0, 600)}` };
  const body = json as { error?: unknown; message?: unknown } | null;
  const error = typeof body?.error === "string" ? body.error : `http_${response.status}`;
  const message = typeof body?.message === "string" ? body.message : `HTTP ${response.status}`;
  return { ok: false, status: response.status, error, message };
}
