/**
 * The real session (desktop/sync/session.ts) run by the sync machine against the real branch room over
 * in-memory sockets, on a branch whose log was compacted past the device's cursor (protocol v9): the
 * welcome and a pull answered `history_compacted` both send the machine to bootstrap again.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createActor } from "xstate";
import { sessionActor } from "../../../desktop/sync/session.js";
import type { LocalStore } from "../../../desktop/store/local-store.js";
import { BranchCore } from "../../../durable/core/branch.js";
import type { BranchId } from "../../../domain/index.js";
import { syncMachine, syncStateName } from "../../../machines/index.js";
import type { Chunk } from "../../../protocol/index.js";
import { actor, DEVICES } from "../../support/branch.js";
import { openStore } from "../../support/desktop.js";
import { makeEventFactory } from "../../support/events.js";
import { makeRoom } from "../../support/memory-room.js";
import { ManualTimers, roomLink, sentOfType, settle } from "../../support/session-link.js";

const stores: LocalStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

describe("the session on a branch compacted past its cursor", () => {
  it("reports the welcome as historyCompacted, and a pull answered history_compacted as HISTORY_COMPACTED: the machine bootstraps again each time", async () => {
    const room = makeRoom();
    const f = makeEventFactory(8);
    const projects = Array.from({ length: 10 }, () => f.createProject(DEVICES.B));
    room.core.push(actor(DEVICES.B), projects);
    room.core.push(actor(DEVICES.B), projects.map((p) => f.updateProject(DEVICES.B, p.entity_id, { notes: "again" }, { base: 1 })));
    room.core.setMeta("last_base_snapshot", { seq: 15, at_ms: room.core.nowMs() });
    const compactor = new BranchCore(room.sql, "test-branch" as BranchId, () => room.core.nowMs(), { defaultTimeZone: "UTC", compaction: { retainCommits: 0, retainMs: 0, minStepCommits: 1 } });
    while (!compactor.compactSlice().finished);

    const { store } = await openStore({ device: DEVICES.A });
    stores.push(store);
    const link = roomLink(room, DEVICES.A);
    const timers = new ManualTimers();
    const told: Array<number | null> = [];
    let bootstraps = 0;
    const machine = syncMachine.provide({
      actors: {
        session: sessionActor({
          store,
          openSocket: link.open,
          uploads: new Map<string, Chunk[]>(),
          app: "test/1",
          timers,
          // This bootstrap finds nothing newer (no snapshot here), so the pull that follows is refused; the
          // second time it fails, as the engine's does when a re-bootstrap did not get past the point.
          bootstrap: async () => {
            if (++bootstraps === 2) throw new Error("the newest snapshot does not cover it yet");
          },
          onHistoryCompacted: (through) => void told.push(through),
        }),
      },
    });
    const sync = createActor(machine, { input: { online: true, needsBootstrap: false, random: () => 1 }, clock: timers }).start();
    await settle();
    // Welcome said 15 > cursor 0: bootstrap; then the pull from 0 is refused: bootstrap again (the
    // engine's bootstrap fails then, desktop/sync/engine.ts, and the machine backs off).
    expect(told).toEqual([15, null]);
    expect(bootstraps).toBe(2);
    expect(sentOfType(link.sent, "pull")).toEqual([expect.objectContaining({ since: 0 })]);
    expect(syncStateName(sync.getSnapshot())).toBe("backoff");
    expect(sync.getSnapshot().context.lastError).toBe("Error: the newest snapshot does not cover it yet");
    sync.stop();
    room.close();
  });
});
