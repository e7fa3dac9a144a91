/**
 * Reconnect backoff: exponential, capped, with "equal jitter".
 *
 * Equal jitter (half fixed, half random) keeps a floor under every wait, so a device that failed
 * never hammers the server, while the random half spreads a whole branch of desktops that lost the
 * same Durable Object at the same moment (deploy, eviction) over time instead of reconnecting in
 * lockstep. Randomness is injected so tests get exact delays (STYLE.md §7).
 */
import { assert } from "../lib/result.js";

export const BACKOFF = {
  /** The un-jittered wait before the first retry. */
  baseMs: 500,
  /** Growth per failed attempt. */
  factor: 2,
  /** No wait is ever longer than this, however many attempts failed. */
  capMs: 60_000,
  /** Fraction of the wait that is random: the wait lies in [(1 - jitter) × w, w]. */
  jitter: 0.5,
} as const;

/**
 * The exponent is clamped so huge attempt counts stay finite: 2^64 × 500 ms is far above the cap
 * already, and `factor ** attempt` alone would reach Infinity (harmless under `min`, but a NaN
 * appears as soon as anyone multiplies it by 0).
 */
const MAX_EXPONENT = 64;

/**
 * The wait before retry number `attempt` (1 = the first retry after a failure).
 *
 * `random` must return a number in [0, 1] (e.g. `Math.random`); values outside are clamped so a
 * faulty source can never push the delay past `BACKOFF.capMs` or below the jitter floor.
 * Returns whole milliseconds in [(1 - jitter) × w, w] with w = min(capMs, baseMs × factor^(attempt-1)).
 */
export function backoffDelayMs(attempt: number, random: () => number): number {
  assert(Number.isInteger(attempt) && attempt >= 1, `backoff attempt must be an integer >= 1, got ${attempt}`);
  const exponent = Math.min(attempt - 1, MAX_EXPONENT);
  const ceilingMs = Math.min(BACKOFF.capMs, BACKOFF.baseMs * BACKOFF.factor ** exponent);
  const r = Math.min(1, Math.max(0, random() || 0)); // `|| 0` also turns NaN into 0
  // Both ends of the range are whole numbers (500 × 2^k, or the cap), so rounding stays inside it.
  return Math.round(ceilingMs * (1 - BACKOFF.jitter + BACKOFF.jitter * r));
}
