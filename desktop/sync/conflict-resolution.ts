/**
 * Asking the server to record a manager's resolution of a conflict kept for one
 * (`POST …/conflicts/<event_id>/resolution`, docs/protocol/http.md "Conflict resolution"). The answer
 * is a value: accepted (with who and when, as the server recorded it), refused in the server's
 * words, or not reachable (the entry stays open). Never throws.
 */
import { ConflictResolution, type ConflictResolutionRequest } from "../../protocol/index.js";
import type { StoreConfig } from "../store/context.js";

/** A resolution is one small request: a dead server fails fast, a slow one is not waited on forever. */
const RESOLUTION_TIMEOUT_MS = 15_000;

export type ResolutionAnswer =
  | { kind: "accepted"; resolution: ConflictResolution }
  | { kind: "refused"; status: number; message: string }
  | { kind: "unreachable"; message: string };

export async function requestResolution(cfg: Pick<StoreConfig, "server_url" | "token" | "branch_id">, eventId: string, request: ConflictResolutionRequest): Promise<ResolutionAnswer> {
  let response: Response;
  try {
    const url = new URL(`/v1/branches/${encodeURIComponent(cfg.branch_id)}/conflicts/${encodeURIComponent(eventId)}/resolution`, cfg.server_url);
    response = await fetch(url, {
      method: "POST",
      headers: { Authorization: `Bearer ${cfg.token}`, "Content-Type": "application/json" },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(RESOLUTION_TIMEOUT_MS),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return { kind: "unreachable", message: cause?.code ?? cause?.message ?? (e as Error).message };
  }
  const text = await response.text().catch(() => "");
  let body: unknown = null;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    /* not our server's JSON: said below */
  }
  if (!response.ok) {
    const message = typeof (body as { message?: unknown } | null)?.message === "string" ? (body as { message: string }).message : `the server answered HTTP ${response.status}`;
    return { kind: "refused", status: response.status, message };
  }
  const parsed = ConflictResolution.safeParse(body);
  if (!parsed.success) return { kind: "refused", status: response.status, message: `the server's answer could not be read (${parsed.error.issues[0]?.message})` };
  return { kind: "accepted", resolution: parsed.data };
}
