/**
 * The deterministic simulation (STYLE.md §8, issue 12): real desktops (LocalStore files, the real
 * session and engine with the XState machine) and the real branch room and core, over a lossy
 * in-memory network with crashes, drained and checked against DESIGN.md's invariants. These tests
 * run a slice of seeds in CI, prove that a seed replays exactly, and prove that the checker can fail.
 * `npm run sim -- --seeds N` runs many more.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { inspectStore } from "../../../desktop/store/inspect.js";
import { forgeBaseBody, forgePosVoid, forgeQueuedEvent } from "../../../desktop/store/testing.js";
import { parseArgs } from "../../sim/cli.js";
import type { Entity } from "../../../domain/index.js";
import type { World } from "../../sim/invariants.js";
import { knownBugOf } from "../../sim/known-bugs.js";
import { reproduce, runSeed } from "../../sim/run.js";

const root = mkdtempSync(path.join(tmpdir(), "sv-sim-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Violations other than the known, reported bugs (those have their own skipped regression tests). */
async function freshViolations(seed: number): Promise<string[]> {
  const result = await runSeed(seed, { tempRoot: root });
  return result.violations.filter((v) => knownBugOf(v) === null).map((v) => `seed ${seed} ${v.invariant}: ${v.message} (${reproduce(seed)})`);
}

/** A seed whose run commits plenty and leaves every device holding entities and POS facts. */
const BUSY_SEED = 13;

describe("the simulation", () => {
  it("keeps every invariant on 50 seeds", async () => {
    const violations: string[] = [];
    for (let seed = 1; seed <= 50; seed++) violations.push(...(await freshViolations(seed)));
    expect(violations).toEqual([]);
  }, 300_000);

  it("replays a seed exactly: same commits, same verdicts, same stats", async () => {
    const first = await runSeed(BUSY_SEED, { tempRoot: root });
    const second = await runSeed(BUSY_SEED, { tempRoot: root });
    expect(first.stats.commits).toBeGreaterThan(10);
    // Across compaction and re-bootstraps too (protocol v9): this seed compacts, and devices bootstrap again.
    expect(first.stats.compactionPasses).toBeGreaterThan(0);
    expect(first.stats.reBootstraps).toBeGreaterThan(0);
    expect(second.fingerprint).toBe(first.fingerprint);
    expect(second.stats).toEqual(first.stats);
  }, 60_000);

  it("really is hostile: crashes, cuts, lost frames, offline writes, server rejections, pushes behind unanswered ones, compaction and re-bootstraps over many seeds", async () => {
    const totals = {
      crashes: 0,
      cuts: 0,
      lost: 0,
      rejections: 0,
      refusedLocally: 0,
      serverRestarts: 0,
      pipelined: 0,
      // v9: snapshots into the simulated R2 (bases and increments), compaction, bootstraps of new
      // devices, re-bootstraps after compaction with queued events kept, and failed downloads.
      snapshotBases: 0,
      snapshotIncrements: 0,
      compactionPasses: 0,
      bootstraps: 0,
      reBootstraps: 0,
      keptAcrossReBootstraps: 0,
      bootstrapFailures: 0,
      // Issue 19: business days closed, and amended by late sales.
      dayCloses: 0,
      dayAmendments: 0,
    };
    for (let seed = 51; seed <= 70; seed++) {
      const { stats } = await runSeed(seed, { tempRoot: root });
      for (const key of Object.keys(totals) as Array<keyof typeof totals>) totals[key] += stats[key];
    }
    for (const [key, n] of Object.entries(totals)) expect(n, key).toBeGreaterThan(0);
  }, 300_000);
});

describe("the invariant checker can fail", () => {
  /** Runs BUSY_SEED, lets `corrupt` break the drained world, and returns what the checker says. */
  async function checkedAfter(corrupt: (world: World) => void) {
    const result = await runSeed(BUSY_SEED, { tempRoot: root, beforeCheck: corrupt });
    return result.violations;
  }

  it("reports a device base that differs from the server's as I5", async () => {
    let corrupted = "";
    const violations = await checkedAfter(({ devices }) => {
      const store = devices[0]!.store!;
      // The first live base entity in id order, with a currency the server never saw.
      const entity = [...store.baseEntities()].find((e) => !e.deleted);
      expect(entity).toBeDefined();
      forgeBaseBody(store, { ...entity!, data: { ...entity!.data, currency: "XXX" } } as Entity);
      corrupted = entity!.entity_id;
    });
    expect(corrupted).not.toBe("");
    expect(violations.some((v) => v.invariant === "I5" && v.message.includes(corrupted) && v.message.includes("currency"))).toBe(true);
  }, 60_000);

  it("reports an event left without a verdict as I2", async () => {
    const violations = await checkedAfter(({ devices }) => {
      forgeQueuedEvent(devices[1]!.store!, {
        id: "01936f3c-9999-7000-8000-000000000001",
        entity_type: "project",
        entity_id: "01936f3c-9999-7000-8000-000000000002",
        operation: "create",
        payload_json: "{}",
        created_at: "2026-11-25T00:00:00.000Z",
        sync_status: "pending",
      });
    });
    expect(violations.some((v) => v.invariant === "I2" && v.message.includes("01936f3c-9999-7000-8000-000000000001") && v.message.includes("pending"))).toBe(true);
  }, 60_000);

  it("reports a POS fact the server does not have as I6", async () => {
    const violations = await checkedAfter(({ devices }) => {
      const store = devices[0]!.store!;
      // The append-only triggers stop a change of a row; an extra void is an insert.
      const order = inspectStore(store.path, (i) => {
        const voided = new Set(i.posVoids().map((v) => v.entity_id));
        return i.posOrders().find((o) => !voided.has(o.entity_id))?.entity_id;
      });
      expect(order).toBeDefined();
      forgePosVoid(store, order!, 999_999);
    });
    expect(violations.some((v) => v.invariant === "I6" && v.message.includes("voids"))).toBe(true);
    expect(violations.some((v) => v.invariant === "I6" && v.message.includes("ledger"))).toBe(true);
  }, 60_000);

  it("reports a closed day whose report is not the day's POS facts as I6 (issue 19)", async () => {
    let day = "";
    const violations = await checkedAfter((world) => {
      const sql = world.branch.sql;
      const order = sql.one<{ entity_id: string; day: string }>(
        "SELECT o.entity_id, o.business_day AS day FROM pos_orders o WHERE NOT EXISTS (SELECT 1 FROM pos_voids v WHERE v.entity_id = o.entity_id) ORDER BY o.entity_id LIMIT 1",
      );
      expect(order).toBeDefined();
      day = order!.day;
      world.branch.closeDay(day); // refused if the run closed it already: its report stands either way
      // A void no push committed: no revision of the closed day records it.
      sql.run("INSERT INTO pos_voids (entity_id, reason, device_id, user_id, seq) VALUES (?, 'forged', 'x', 'x', 999999)", order!.entity_id);
    });
    expect(day).not.toBe("");
    expect(violations.some((v) => v.invariant === "I6" && v.message.startsWith(`day ${day}: the closed report (revision `))).toBe(true);
  }, 60_000);

  /** The first connection of `world` on which a device pushed at least two events. */
  function busyConnection(world: World) {
    const on = world.devices.flatMap((d) => d.pushed).find((p) => p.eventIds.length >= 2);
    expect(on).toBeDefined();
    return on!;
  }

  it("reports an event pushed twice on one connection as I3", async () => {
    let again = "";
    const violations = await checkedAfter((world) => {
      const on = busyConnection(world);
      again = on.eventIds[0]!;
      on.eventIds.push(again); // as a session that sent a batch in flight again behind itself would
    });
    expect(violations.some((v) => v.invariant === "I3" && v.message.includes(`pushed event ${again} twice`))).toBe(true);
  }, 60_000);

  it("reports events pushed out of queue order on one connection as order", async () => {
    let connection = "";
    const violations = await checkedAfter((world) => {
      const on = busyConnection(world);
      connection = on.connection;
      on.eventIds.reverse(); // as batches that overtook one another would
    });
    expect(violations.some((v) => v.invariant === "order" && v.message.startsWith(connection))).toBe(true);
  }, 60_000);

  it("reports a bootstrap that moved a device's cursor past the branch's head as I4", async () => {
    const violations = await checkedAfter(({ devices }) => {
      const device = devices[0]!;
      const at = device.store!.cursor();
      // As a bootstrap from a chain that claimed commits the branch never made would.
      device.bootstraps.push({ atApplied: device.applied.length, from: at, to: at + 5, head: at, links: 1, queued: 0 });
    });
    expect(violations.some((v) => v.invariant === "I4" && v.message.includes("past the head"))).toBe(true);
  }, 60_000);

  it("reports a commit missing from the log after compacted_through as I4", async () => {
    const violations = await checkedAfter(({ branch }) => {
      expect(branch.compactedThrough()).toBeGreaterThan(0);
      expect(branch.core.head()).toBeGreaterThan(branch.compactedThrough() + 1);
      // Compaction may only remove commits at or below the point: forge one removed just above it.
      branch.sql.script("DROP TRIGGER changes_no_delete");
      branch.sql.run("DELETE FROM changes WHERE seq = ?", branch.compactedThrough() + 1);
    });
    expect(violations.some((v) => v.invariant === "I4" && v.message.includes("after compacted_through"))).toBe(true);
  }, 60_000);

  it("reports a server commit that skipped a seq as I4", async () => {
    const violations = await checkedAfter(({ branch }) => {
      // The branch's change log is append-only in storage too: lift that to forge a gap.
      branch.sql.script("DROP TRIGGER changes_no_update");
      branch.sql.run("UPDATE changes SET seq = seq + 1000 WHERE seq = (SELECT MAX(seq) FROM changes)");
    });
    expect(violations.some((v) => v.invariant === "I4" && v.message.includes("gapless"))).toBe(true);
  }, 60_000);
});

describe("npm run sim arguments", () => {
  it("reads --seeds, --from and the flags, and refuses anything else", () => {
    expect(parseArgs(["--seeds", "300", "--from", "7", "--strict"])).toEqual({ seeds: 300, from: 7, trace: false, verbose: false, strict: true });
    expect(parseArgs([])).toMatchObject({ seeds: 100, from: 1 });
    expect(() => parseArgs(["--seeds", "many"])).toThrow(/whole number/);
    expect(() => parseArgs(["--fast"])).toThrow(/unknown argument/);
  });
});
