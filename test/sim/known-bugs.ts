/**
 * Bugs the simulation found in code outside the simulator that are reported and not fixed yet.
 * Each has a named regression test (test/node/sim/regressions.test.ts, skipped until the fix) and a
 * matcher, so that a run of many seeds lists them apart instead of failing on them again and again,
 * while any other violation still fails the run. `npm run sim -- --strict` counts them too.
 * Remove an entry when its bug is fixed (and un-skip its regression tests).
 */
import type { Violation } from "./invariants.js";

export interface KnownBug {
  id: string;
  summary: string;
  matches(violation: Violation): boolean;
}

export const KNOWN_BUGS: readonly KnownBug[] = [
];

export function knownBugOf(violation: Violation): KnownBug | null {
  return KNOWN_BUGS.find((bug) => bug.matches(violation)) ?? null;
}
