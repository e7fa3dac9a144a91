/**
 * A call to the branch's HTTP API as this device (the CLI's snapshots, devices, settings, leases and
 * days; the app's Close of day screen), one request with the device token, answered as a value; and
 * the health check behind "reachable". (The sync engine and the snapshot bootstrap have their own.)
 * Whether the server could not be reached or said no are different answers (the CLI's exit 3 and
 * exit 1), so a crew on location can tell "try again later" from "you may not".
 */
import type { StoreConfig } from "../store/context.js";

/**
 * How long a health check waits for an answer. A server that is not there fails at once (connection
 * refused); one that is there but slow (a cold start, a loaded machine) is still reachable, and
 * calling it unreachable sent `init` to exit 3 against a live server. Only a black-holed network
 * waits this long.
 */
const HEALTH_TIMEOUT_MS = 10_000;

/** Long enough for a snapshot export of a large branch; a dead server fails at once anyway. */
const REQUEST_TIMEOUT_MS = 60_000;

export type ServerAnswer =
  | { kind: "ok"; status: number; body: Record<string, unknown> }
  | { kind: "refused"; status: number; body: Record<string, unknown> }
  | { kind: "unreachable"; message: string };

/** `method /v1/branches/<branch>/<path>` as this device; `body` is sent as JSON. */
export async function serverCall(cfg: StoreConfig, method: "GET" | "POST" | "PUT", path: string, body?: unknown, timeoutMs = REQUEST_TIMEOUT_MS): Promise<ServerAnswer> {
  const url = new URL(`/v1/branches/${encodeURIComponent(cfg.branch_id)}/${path}`, cfg.server_url);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { Authorization: `Bearer ${cfg.token}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return { kind: "unreachable", message: cause?.code ?? cause?.message ?? (e as Error).message };
  }
  const text = await response.text().catch(() => "");
  let parsed: Record<string, unknown>;
  try {
    const value = JSON.parse(text) as unknown;
    parsed = value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    // Not our server's JSON (a proxy's error page, say): keep the start of it for the message.
    parsed = { error: `http_${response.status}`, message: `the server answered HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ""}` };
  }
  return response.ok ? { kind: "ok", status: response.status, body: parsed } : { kind: "refused", status: response.status, body: parsed };
}

/** Whether the server answers its health check now. Never throws. */
export async function reachable(serverUrl: string): Promise<boolean> {
  try {
    const response = await fetch(new URL("/health", serverUrl), { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    return response.ok;
  } catch {
    return false;
  }
}
