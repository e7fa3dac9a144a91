/**
 * Protocol v11 in the desktop: its hello says `echo: false`, so its own pushes' commits do not come
 * back live; the verdicts move its cursor over them (sync-apply.ts cursorOver), and when a commit of
 * its own is left above the cursor it pulls. The real SyncEngine and session on a real SQLite store,
 * against the real branch room over in-memory sockets, on fake time.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { AppEvent } from "../../../desktop/app/api.js";
import { DesktopCore } from "../../../desktop/app/core.js";
import { actor, DEVICES } from "../../support/branch.js";
import { makeEventFactory } from "../../support/events.js";
import { makeRoom } from "../../support/memory-room.js";
import { liveMemoryDevice, memoryDeviceStore, noSnapshot, roomLink, sentOfType, settle } from "../../support/session-link.js";
import * as ex from "../../fixtures/examples.js";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** Device A, online, with every frame the room sends it recorded in `received`. */
async function device() {
  const d = await liveMemoryDevice("own-commits", cleanups);
  expect(d.engine.status().kind).toBe("live");
  return { ...d, received: d.received.map((r) => r.message) };
}

describe("its own commits by verdict (protocol v11)", () => {
  it("says echo: false, is sent none of its own commits, and its verdicts leave it caught up", async () => {
    const d = await device();
    expect(sentOfType(d.link.sent, "hello").at(-1)).toMatchObject({ protocol_version: 11, echo: false });
    for (let i = 0; i < 3; i++) {
      const written = d.store.createProject({ ...ex.project, title: `Shoot ${i}` });
      expect(written.ok).toBe(true);
    }
    const sale = d.store.posSale({ currency: "LKR", lines: [{ sku: null, description: "Print", quantity: 1, unit_price_minor: 100 }], method: "cash", tendered_minor: null });
    expect(sale.ok).toBe(true);
    d.engine.notifyWrite();
    await settle();
    expect(d.store.summary().pending).toBe(0);
    expect(d.received.filter((m) => m.type === "live" || m.type === "poke")).toEqual([]);
    expect(d.store.cursor()).toBe(d.room.core.head());
    expect(d.store.cursor()).toBe(4);
    // One pull, the first after the hello: its own commits were never pulled back.
    expect(sentOfType(d.link.sent, "pull")).toHaveLength(1);
    expect(d.engine.status().kind).toBe("live");
  });

  it("a commit below its own that it was never sent leaves its verdict above the cursor: it pulls, and has both", async () => {
    const d = await device();
    // Another device's commit the room never broadcast (made on the core directly): seq 1.
    const other = makeEventFactory(51).createProject(DEVICES.B);
    expect(d.room.core.push(actor(DEVICES.B), [other]).verdicts[0]).toMatchObject({ status: "confirmed", seq: 1 });
    const mine = d.store.createProject(ex.project);
    if (!mine.ok) throw new Error(mine.error.message);
    d.engine.notifyWrite();
    await settle();
    // Its create is seq 2; the cursor could not move over it, so the device pulled from 0.
    expect(sentOfType(d.link.sent, "pull").map((p) => p.since)).toEqual([0, 0]);
    expect(d.store.cursor()).toBe(2);
    expect(d.store.base(other.entity_id)?.version).toBe(1);
    expect(d.store.get(mine.value.entity.entity_id)?.status).toBe("synced");
    expect(d.engine.status().kind).toBe("live");
  });
});

describe("the app hears of its own confirmations", () => {
  it("every screen is told a change when its own events are confirmed, though their changes do not come back", async () => {
    const room = makeRoom();
    const store = await memoryDeviceStore("own-commits-app");
    const link = roomLink(room, DEVICES.A);
    const core = new DesktopCore(store, {
      online: false,
      engine: { openSocket: link.open, random: () => 1, fetch: noSnapshot },
    });
    cleanups.push(() => {
      core.stop();
      store.close();
      room.close();
    });
    const events: AppEvent[] = [];
    core.subscribe((e) => events.push(e));
    // Written offline: the screens are told of the write, and show it pending.
    const answer = (await core.handle({ method: "write", action: { kind: "project_create", data: ex.project } })) as { ok: boolean; value?: { entity: { entity_id: string } } };
    if (!answer.ok || !answer.value) throw new Error("the write was refused");
    const id = answer.value.entity.entity_id;
    await waitUntil("the write's changed event", () => events.some((e) => e.type === "changed"));
    expect(store.get(id)?.status).toBe("pending");
    const seen = events.length;
    await core.handle({ method: "setOnline", online: true });
    await waitUntil("synced", () => store.get(id)?.status === "synced");
    // Nothing came back live, yet the screens are told to re-read (within the app's 100 ms coalescing).
    await waitUntil("a changed event after the confirmation", () => events.slice(seen).some((e) => e.type === "changed"));
  });
});

async function waitUntil(what: string, done: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
