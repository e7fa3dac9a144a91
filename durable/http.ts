/** Small HTTP helpers shared by the Worker and the branch Durable Object. */

/** Verified token claims, set by the Worker on requests it forwards to a branch (never by clients). */
export const CLAIMS_HEADER = "x-studiovault-claims";

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}
