/** backoffDelayMs: exponential, capped, equal jitter; property-tested with fast-check. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BACKOFF, backoffDelayMs } from "../../../machines/index.js";
import { InvariantError } from "../../../lib/result.js";

const ceiling = (attempt: number) => Math.min(BACKOFF.capMs, BACKOFF.baseMs * BACKOFF.factor ** Math.min(attempt - 1, 64));

describe("backoffDelayMs", () => {
  it("stays within [(1 - jitter) × w, w] for any attempt and any random value, never above the cap", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, r) => {
          const delay = backoffDelayMs(attempt, () => r);
          const w = ceiling(attempt);
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(w * (1 - BACKOFF.jitter));
          expect(delay).toBeLessThanOrEqual(w);
          expect(delay).toBeLessThanOrEqual(BACKOFF.capMs);
        },
      ),
    );
  });

  it("never grows smaller with more attempts for the same random value", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, r) => {
        expect(backoffDelayMs(attempt + 1, () => r)).toBeGreaterThanOrEqual(backoffDelayMs(attempt, () => r));
      }),
    );
  });

  it("is never NaN and never out of range, even for huge attempts or a faulty random source", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.oneof(fc.double(), fc.constant(Number.NaN), fc.constant(Number.POSITIVE_INFINITY)),
        (attempt, r) => {
          const delay = backoffDelayMs(attempt, () => r);
          expect(Number.isNaN(delay)).toBe(false);
          expect(delay).toBeGreaterThanOrEqual(BACKOFF.baseMs * (1 - BACKOFF.jitter));
          expect(delay).toBeLessThanOrEqual(BACKOFF.capMs);
        },
      ),
    );
  });

  it("follows the table: 500 ms doubling to the 60 s cap, halved at most by jitter", () => {
    expect([1, 2, 3, 8, 9, 1000].map((a) => backoffDelayMs(a, () => 1))).toEqual([500, 1000, 2000, 60_000, 60_000, 60_000]);
    expect([1, 2, 9].map((a) => backoffDelayMs(a, () => 0))).toEqual([250, 500, 30_000]);
  });

  it("refuses an attempt below 1 or not an integer: that is a bug in the caller", () => {
    for (const attempt of [0, -1, 1.5, Number.NaN]) {
      expect(() => backoffDelayMs(attempt, Math.random)).toThrow(InvariantError);
    }
  });
});
