/**
 * Seeds on which the simulation found a bug, kept as named regression tests. A seed replays exactly
 * (same workload, same faults, same interleaving), so each one is a reproduction of its bug:
 * `npm run sim -- --seeds 1 --from <seed> --trace --strict` prints what happened, step by step.
 *
 * A bug found and not fixed yet is kept here with `it.skip` and listed in test/sim/known-bugs.ts
 * (so `npm run sim` reports it apart instead of failing on it again and again); its fix un-skips
 * its tests and removes the entry. KB1 and KB2 below are fixed: their seeds now run clean.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { inspectStore } from "../../../desktop/store/inspect.js";
import { runSeed } from "../../sim/run.js";
import { actor, DEVICES, makeCore } from "../../support/branch.js";
import { openStore } from "../../support/desktop.js";
import { makeRoom } from "../../support/memory-room.js";
import * as ex from "../../fixtures/examples.js";

const root = mkdtempSync(path.join(tmpdir(), "sv-sim-regressions-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every violation of the seed, known bugs included. */
async function violations(seed: number): Promise<string[]> {
  const result = await runSeed(seed, { tempRoot: root });
  return result.violations.map((v) => `${v.invariant}: ${v.message}`);
}

/**
 * KB2 (fixed: a hello now closes only the device's connections that said hello themselves).
 * durable/core/room.ts #replaceOthers closed the device's other connections whose session has
 * no install_id yet with "replaced" (4014), which the desktop treats as "another install took over"
 * (a terminal state until a person presses Retry). A connection's install_id is only known once its
 * hello is handled, so the device's own newest connection, upgraded but with its hello still in
 * flight, is "replaced" when an older connection's hello arrives late (its old network path was
 * slow: a path switch, a stall). Found by the simulation as a device stuck in "replaced" with
 * events pending forever (I2) and a stale base (I5).
 */
/**
 * KB1 (fixed: the server now checks the dependency before the permission, docs/protocol.md §6).
 * A dependent of a rejected event is rejected on the device as `depends_on_rejected` at once
 * (desktop/store/sync-apply.ts, reject()), and the verdict the server sends for it later is ignored
 * (a verdict is final). The server judges the dependent in its own order (durable/core/push.ts,
 * decide(): permission, step 6, before dependency, step 7), so when the device's role changed
 * between writing and pushing (a re-issued token) it stores `permission_denied`. Device and server
 * then hold different verdicts for one event id (I2/I3), and docs/protocol.md §7.2 step 4 ("the
 * server answers them depends_on_rejected") does not hold. Low severity: both say "rejected".
 */
describe("KB1: a dependent of a rejected event gets the same code on the device as on the server", () => {
  it("seed 247: a demoted staff device's two chained project edits", async () => {
    expect(await violations(247)).toEqual([]);
  });

  it("seed 1882: a demoted device's chained project deletes", async () => {
    expect(await violations(1882)).toEqual([]);
  });

  it("the store and the core: the dependent's code on the device is the server's", async () => {
    const t = makeCore();
    const { store } = await openStore({ device: DEVICES.A, role: "manager" });
    const created = store.createProject(ex.project);
    if (!created.ok) throw new Error(created.error.message);
    const id = created.value.event.entity_id;
    const first = store.updateProject(id, { notes: "first" });
    const second = store.updateProject(id, { notes: "second" }); // depends_on: first
    if (!first.ok || !second.ok) throw new Error("local writes refused");
    // Create, first and second (each depending on the one before) go out in one batch, after the
    // manager was demoted to cashier: the server judges them as a cashier's, each one at step 6.
    const batch = store.nextBatch()!;
    const outcome = t.core.push(actor(DEVICES.A, "cashier"), batch.events as never);
    store.applyVerdicts(batch.batch_id, outcome.verdicts);
    const local = inspectStore(store.path, (i) => i.queued(second.value.event.id)?.reject_code);
    const server = t.core.verdictOf(second.value.event.id);
    expect(server?.status).toBe("rejected");
    expect(local).toBe(server?.status === "rejected" ? server.code : null);
    store.close();
    t.close();
  });
});

describe("KB2: a connection whose hello is still in flight is not 'replaced' by its own install", () => {
  it("seed 31: d2's new connection is replaced by its own install", async () => {
    expect(await violations(31)).toEqual([]);
  });

  it("seed 469: d0's new connection is replaced by its old connection's late hello, and d0 stops syncing", async () => {
    expect(await violations(469)).toEqual([]);
  });

  it("seed 680: the same, after eight crashes and 27 cuts", async () => {
    expect(await violations(680)).toEqual([]);
  });

  it("seed 796: the same, on a device that never synced (cursor 0, three events queued)", async () => {
    expect(await violations(796)).toEqual([]);
  });

  it("the room: a hello does not close its own install's not-yet-handshaken connection as 'replaced'", async () => {
    const device = "01936f3c-0000-7000-8000-0000000000a1";
    const t = makeRoom();
    const newer = t.connect(device); // upgraded; its hello is still on the way
    const older = t.connect(device); // its hello arrives first (a slow path delivered it late)
    const hello = { type: "hello", protocol_version: 3, device_id: device, cursor: 0, app: "studiovault-desktop/0.1.0", install_id: "01936f3c-0000-7000-8000-0000000000f1", clock_ms: t.core.nowMs() };
    await older.deliver(hello);
    // Whatever the server does with the newer connection, it must not tell the install it was
    // replaced by another install: the desktop would stop syncing until a person intervenes.
    expect(newer.closed?.reason).not.toBe("replaced");
    t.close();
  });
});
