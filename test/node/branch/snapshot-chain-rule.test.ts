/** When an export starts a new base instead of adding an increment to its chain (snapshot format 3). */
import { describe, expect, it } from "vitest";
import { CHAIN_MAX_INCREMENT_FRACTION, MAX_CHAIN_INCREMENTS, nextSnapshotIsBase } from "../../../durable/core/snapshot-schedule.js";

describe("the chain rule", () => {
  it("the first snapshot of a branch is a base", () => {
    expect(nextSnapshotIsBase(null)).toBe(true);
  });

  it("a chain takes increments while they are few and small next to its base", () => {
    expect(nextSnapshotIsBase({ base_bytes: 1_000_000, base_entities: 10_000, commits_since: 10, increment_bytes: [] })).toBe(false);
    expect(nextSnapshotIsBase({ base_bytes: 1_000_000, base_entities: 10_000, commits_since: 10, increment_bytes: Array(MAX_CHAIN_INCREMENTS - 1).fill(10_000) })).toBe(false);
  });

  it(`a new base starts after ${MAX_CHAIN_INCREMENTS} increments, however small`, () => {
    expect(nextSnapshotIsBase({ base_bytes: 1_000_000, base_entities: 10_000, commits_since: 10, increment_bytes: Array(MAX_CHAIN_INCREMENTS).fill(1) })).toBe(true);
  });

  it(`a new base starts once the increments add up to ${CHAIN_MAX_INCREMENT_FRACTION} of the base's bytes`, () => {
    const base = 1_000_000;
    const half = base * CHAIN_MAX_INCREMENT_FRACTION;
    expect(nextSnapshotIsBase({ base_bytes: base, base_entities: 10_000, commits_since: 10, increment_bytes: [half - 2, 1] })).toBe(false);
    expect(nextSnapshotIsBase({ base_bytes: base, base_entities: 10_000, commits_since: 10, increment_bytes: [half - 1, 1] })).toBe(true);
    expect(nextSnapshotIsBase({ base_bytes: base, base_entities: 10_000, commits_since: 10, increment_bytes: [base * 2] })).toBe(true);
  });

  it(`a new base starts once the commits since the newest snapshot are ${CHAIN_MAX_INCREMENT_FRACTION} of the base's entities, even for a first increment`, () => {
    const sizes = { base_bytes: 1_000_000, base_entities: 10_000, increment_bytes: [] };
    expect(nextSnapshotIsBase({ ...sizes, commits_since: 10_000 * CHAIN_MAX_INCREMENT_FRACTION - 1 })).toBe(false);
    expect(nextSnapshotIsBase({ ...sizes, commits_since: 10_000 * CHAIN_MAX_INCREMENT_FRACTION })).toBe(true);
  });
});
