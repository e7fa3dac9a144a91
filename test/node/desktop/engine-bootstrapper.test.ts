/**
 * The engine's `bootstrapper` seam (desktop/sync/engine.ts), which the simulation uses to bootstrap
 * from its in-memory R2 (test/sim/device.ts): when given, it replaces desktop/sync/bootstrap.ts (no
 * fetch is made), receives the engine's store, and a null answer lets the device pull from 0.
 */
import { afterEach, describe, expect, it } from "vitest";
import { LocalStore } from "../../../desktop/store/local-store.js";
import { SyncEngine } from "../../../desktop/sync/engine.js";
import * as ex from "../../fixtures/examples.js";
import { DEVICES } from "../../support/branch.js";
import { deviceToken, tempDbPath } from "../../support/desktop.js";
import { makeRoom } from "../../support/memory-room.js";
import { ManualTimers, roomLink, settle } from "../../support/session-link.js";

const T0 = Date.UTC(2026, 10, 25, 4, 0, 0);

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

describe("SyncEngine's bootstrapper seam", () => {
  it("bootstraps a new device through the injected bootstrapper instead of fetching, then pulls", async () => {
    const room = makeRoom();
    const timers = new ManualTimers();
    const store = LocalStore.open(tempDbPath("bootstrapper"), { clockMs: () => T0 + timers.now });
    const init = store.init({ server_url: "http://127.0.0.1:8787", token: await deviceToken("test-branch", DEVICES.A, "owner"), time_zone: "UTC" });
    if (!init.ok) throw new Error(init.error);
    const asked: LocalStore[] = [];
    let fetched = 0;
    const engine = new SyncEngine({
      store,
      openSocket: roomLink(room, DEVICES.A).open,
      timers,
      random: () => 1,
      fetch: async () => (fetched++, new Response("{}", { status: 500 })),
      bootstrapper: async (s) => (asked.push(s), null),
    });
    cleanups.push(() => {
      engine.stop();
      store.close();
      room.close();
    });
    const created = store.createInvoice({ ...ex.invoice, project_id: null });
    if (!created.ok) throw new Error(created.error.message);
    engine.start();
    await settle();
    await timers.advance(0);
    expect(asked).toEqual([store]);
    expect(fetched).toBe(0);
    expect(engine.isDrained()).toBe(true);
    expect(store.cursor()).toBe(1);
  });
});
