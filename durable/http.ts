/**
 * Small HTTP helpers shared by the Worker and the branch Durable Object: JSON answers, bounded body
 * reads and the validation of request parts (I12: every bad request gets its documented 4xx, never a
 * 500 or a stack trace).
 */
import type { z } from "zod";
import { err, ok, type Result } from "../lib/result.js";
import { DeviceClaims } from "../protocol/token.js";
import { parseJson } from "../protocol/wire.js";

/** Verified token claims, set by the Worker on requests it forwards to a branch (never by clients). */
export const CLAIMS_HEADER = "x-studiovault-claims";

/** The claims the Worker put on a request it forwarded, or null when there are none (or they do not decode). */
export function claimsOf(request: Request): DeviceClaims | null {
  const header = request.headers.get(CLAIMS_HEADER);
  if (!header) return null;
  const value = parseJson(header);
  if (!value.ok) return null;
  const parsed = DeviceClaims.safeParse(value.value);
  return parsed.success ? parsed.data : null;
}

/**
 * The answer of `answer()`, or, when it throws, a JSON 500 without the stack: an exception there is a
 * server bug, logged with its stack under a reference the client is given (I12). `where` names the
 * answering side in the log line ("in the Worker", "on branch b1"), `who` in the client's message.
 */
export async function answerOrInternalError(request: Request, where: string, who: string, answer: () => Promise<Response>): Promise<Response> {
  try {
    return await answer();
  } catch (error) {
    const ref = crypto.randomUUID();
    console.error(`internal error ${ref} ${where} answering ${request.method} ${new URL(request.url).pathname}`, error);
    return json(500, { error: "internal_error", message: `${who} could not answer this request (logged as ${ref})` });
  }
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
  });
}

/** A path segment, percent-decoded; null when it is not valid percent-encoding (`%`, `%zz`, a lone surrogate). */
export function decodeSegment(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/**
 * A body the Worker drains to its end rather than leave half-read. Beyond this the client is not one
 * of ours (the largest body any route takes is FRAME_LIMIT_BYTES) and its connection may be reset.
 */
export const DRAIN_LIMIT_BYTES = 32 * 1024 * 1024;

/**
 * The whole request body, or "too_large" when it exceeds `limitBytes`. Read in the Worker so that a
 * branch object only ever receives a body that is already complete.
 *
 * A client's keep-alive connection survives an early answer only if the body was either not touched
 * at all (workerd then discards the unread rest itself) or read to its end; a half-read or cancelled
 * body stream makes workerd reset the connection, losing the answer (seen under wrangler 4.86).
 * So a declared Content-Length over the limit is refused without reading, and a chunked body that
 * turns out too large is drained (up to DRAIN_LIMIT_BYTES) before the refusal.
 */
export async function readBody(request: Request, limitBytes: number): Promise<Result<Uint8Array, "too_large">> {
  if (!request.body) return ok(new Uint8Array(0));
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limitBytes) return err("too_large");
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > DRAIN_LIMIT_BYTES) break;
    if (size <= limitBytes) parts.push(value);
  }
  reader.releaseLock();
  if (size > limitBytes) return err("too_large");
  const body = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    body.set(part, at);
    at += part.byteLength;
  }
  return ok(body);
}

/**
 * A JSON request body checked against `schema`; the error names the first offending field
 * ("reason: Too small: expected string to have >=1 characters"), so a 400 says what to fix.
 */
export function parseBody<S extends z.ZodType>(schema: S, text: string): Result<z.infer<S>, string> {
  const value = parseJson(text);
  if (!value.ok) return err(`the body is not JSON: ${value.error.message}`);
  const parsed = schema.safeParse(value.value);
  if (parsed.success) return ok(parsed.data);
  const issue = parsed.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join(".") : "(body)";
  return err(`${field}: ${issue.message}`);
}

/** A non-negative integer query parameter, the fallback when absent, null when malformed. */
export function intParam(url: URL, name: string, fallback: number): number | null {
  const raw = url.searchParams.get(name);
  if (raw === null) return fallback;
  return /^\d{1,15}$/.test(raw) ? Number(raw) : null;
}
