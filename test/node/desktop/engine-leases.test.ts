/**
 * `SyncEngine.lease` and `leases()` (protocol v7) on fake time: the real engine, session and sync
 * machine on a real SQLite store, against the real branch room over in-memory sockets
 * (test/support/session-link.ts). What the real server cannot be made to do on cue is scripted on
 * top of the room's real frames: a lease frame held (never answered), an `error` naming the request.
 * The same behaviour against workerd is in test/node/e2e/leases.test.ts.
 */
import { afterEach, describe, expect, it } from "vitest";
import { SyncEngine } from "../../../desktop/sync/engine.js";
import { LEASE_ANSWER_TIMEOUT_MS, LEASE_WORDS, type LeaseAnswer, leaseRemainingMs } from "../../../desktop/sync/leases.js";
import { LEASE_DEFAULT_TTL_MS } from "../../../domain/index.js";
import type { ClientMessage } from "../../../protocol/index.js";
import * as ex from "../../fixtures/examples.js";
import { DEVICES } from "../../support/branch.js";
import { makeRoom } from "../../support/memory-room.js";
import { ManualTimers, memoryDeviceStore, noSnapshot, roomLink, sentOfType, settle } from "../../support/session-link.js";

const T0 = Date.UTC(2026, 10, 25, 4, 0, 0);

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** A live device with one synced invoice; `hold` keeps lease frames from the room (it never answers them). */
async function liveDevice() {
  const room = makeRoom();
  const timers = new ManualTimers();
  const store = await memoryDeviceStore("leases", timers);
  const link = roomLink(room, DEVICES.A);
  let holding = false;
  link.hold = (frame: ClientMessage) => holding && frame.type === "lease";
  const engine = new SyncEngine({
    store,
    openSocket: link.open,
    timers,
    // The monotonic clock is the fake one too: arrival times are exact.
    monotonicMs: () => timers.now,
    random: () => 1,
    fetch: noSnapshot,
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
  expect(engine.isDrained()).toBe(true);
  /** Asks, lets the session and the room run, and gives the promise with what it resolved to so far. */
  const ask = async (...args: Parameters<SyncEngine["lease"]>) => {
    let answer: LeaseAnswer | null = null;
    const promise = engine.lease(...args).then((a) => (answer = a));
    await settle();
    return { promise, answer: () => answer };
  };
  return {
    room,
    link,
    timers,
    engine,
    invoice: created.value.event.entity_id,
    hold: (on: boolean) => void (holding = on),
    ask,
    leaseFrames: () => sentOfType(link.sent, "lease"),
  };
}

describe("SyncEngine.lease on a live connection", () => {
  it("sends one `lease` frame, resolves with the branch's lease_result, and keeps the `leases` that follow with their arrival time", async () => {
    const d = await liveDevice();
    // The welcome's leases: none, received when the connection was welcomed.
    expect(d.engine.leases()).toMatchObject({ leases: [], receivedAtMs: 0 });
    const seen: number[] = [];
    d.engine.subscribeLeases((s) => seen.push(s?.leases.length ?? -1));

    await d.timers.advance(1_500);
    const { promise } = await d.ask("acquire", d.invoice, "payment");
    const answer = await promise;
    expect(answer).toMatchObject({ type: "lease_result", outcome: "granted", lease: { device_id: DEVICES.A, entity_id: d.invoice, group: "payment" } });
    expect(d.leaseFrames()).toEqual([{ type: "lease", request_id: answer.request_id, action: "acquire", entity_id: d.invoice, group: "payment" }]);
    const current = d.engine.leases()!;
    expect(current.leases).toHaveLength(1);
    expect(current.receivedAtMs).toBe(1_500);
    expect(seen).toEqual([1]);
    // Counted down on the monotonic clock alone: 20 s later, 40 s are left.
    const lease = current.leases[0]!;
    expect(lease.expires_at_ms - current.serverTimeMs).toBeLessThanOrEqual(LEASE_DEFAULT_TTL_MS);
    expect(leaseRemainingMs(current, lease, 1_500 + 20_000)).toBe(lease.expires_at_ms - current.serverTimeMs - 20_000);
    expect(leaseRemainingMs(current, lease, 1_500 + LEASE_DEFAULT_TTL_MS)).toBe(0);
  });

  it("a non-fatal `error` naming the lease's request id answers it; the sync lifecycle carries on", async () => {
    const d = await liveDevice();
    d.hold(true);
    const { promise, answer } = await d.ask("acquire", d.invoice, "payment");
    expect(answer()).toBeNull();
    const requestId = d.leaseFrames()[0]!.request_id;
    // What the room answers a lease frame it cannot take (room.ts #lease, on a v6 connection).
    const message = "lease is protocol 7; this connection said hello with protocol 6";
    d.link.inject({ type: "error", code: "malformed_message", message, fatal: false, in_reply_to: requestId });
    expect(await promise).toEqual({ outcome: "error", action: "acquire", request_id: requestId, code: "malformed_message", message });
    expect(d.engine.status().kind).toBe("live");
  });

  it(`no answer within ${LEASE_ANSWER_TIMEOUT_MS / 1000} s: answered "timed out"; a late lease_result changes nothing`, async () => {
    const d = await liveDevice();
    d.hold(true);
    const { promise, answer } = await d.ask("release", d.invoice, "payment");
    await d.timers.advance(LEASE_ANSWER_TIMEOUT_MS - 1);
    expect(answer()).toBeNull();
    await d.timers.advance(1);
    const requestId = d.leaseFrames()[0]!.request_id;
    expect(await promise).toEqual({ outcome: "timed_out", action: "release", request_id: requestId, code: null, message: LEASE_WORDS.timedOut });
    d.link.inject({ type: "lease_result", request_id: requestId, action: "release", outcome: "refused", refusal: "not_held", message: "late", lease: null, server_time_ms: T0 });
    await settle();
    expect(answer()).toMatchObject({ outcome: "timed_out" });
    expect(d.engine.status().kind).toBe("live");
  });

  it("the connection ends with a question out: answered offline (connection lost), and the leases it told are forgotten", async () => {
    const d = await liveDevice();
    d.hold(true);
    const { promise } = await d.ask("acquire", d.invoice, "payment");
    const seen: Array<number | null> = [];
    d.engine.subscribeLeases((s) => seen.push(s === null ? null : s.leases.length));
    d.engine.setOnline(false);
    expect(await promise).toMatchObject({ outcome: "offline", action: "acquire", message: LEASE_WORDS.connectionLost });
    expect(d.engine.leases()).toBeNull();
    expect(seen).toEqual([null]);
    // Offline, the next question is answered at once, without a frame.
    expect(await d.engine.lease("acquire", d.invoice, "payment")).toMatchObject({ outcome: "offline", message: LEASE_WORDS.offline });
    expect(d.leaseFrames()).toHaveLength(1);
  });

  it("stopping the engine answers every question still waiting", async () => {
    const d = await liveDevice();
    d.hold(true);
    const { promise } = await d.ask("break", d.invoice, "payment", { reason: "stuck" });
    d.engine.stop();
    expect(await promise).toMatchObject({ outcome: "offline", action: "break" });
    expect(d.engine.leases()).toBeNull();
  });
});
