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
import { callJson as call } from "./http.js";
import type { ApiResult } from "./link.js";

export { LeaseList };
/** `POST …/leases`'s answer (protocol/messages.ts LeaseAnswerBody). */
export const LeaseAnswer = LeaseAnswerBody;
export type LeaseAnswer = z.infer<typeof LeaseAnswerBody>;

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
