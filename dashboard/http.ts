/**
 * One JSON call to a branch route the browser client (client/api.ts BranchApi) does not have yet,
 * with the sign-in's token: the answer is decoded by the caller's `decode` (per status, with the
 * protocol's own schemas), so a refusal that carries a body of its own shape is a value, not an
 * error. Only an answer that no decoder takes (no network, 401, a body that does not decode) is a
 * failure, said as the server's `{error, message}` or its status. Never rejects.
 */
import type { z } from "zod";
import type { ApiResult } from "./link.js";

/** Largest answer body read: a day's report of a busy branch is tens of kilobytes; nothing here is larger. */
const MAX_BODY_CHARS = 1_048_576;

/** How an answer is read: a schema's parse for the statuses that carry one, null for the rest. */
export type Decode<T> = (status: number, json: unknown) => z.ZodSafeParseResult<T> | null;

export async function callJson<T>(fetchFn: typeof fetch, url: string, init: RequestInit, decode: Decode<T>): Promise<ApiResult<T>> {
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
