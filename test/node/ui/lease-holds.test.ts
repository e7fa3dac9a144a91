/**
 * The leases the app holds while its user edits (desktop/app/leases.ts), on a fake engine and fake
 * timers (no server, no browser, no real sleeps): renewed at half their time, asked for again when
 * the branch is back or the other till lets go, said to be over when the branch stops listing them,
 * released when the edit ends; and the words the core gives the screens for leases in force.
 */
import { describe, expect, it } from "vitest";
import { LeaseHolds, leaseView, RELEASE_WAIT_MS, remainingWords, type LeaseEngine } from "../../../desktop/app/leases.js";
import type { LeaseAnswer, LeasesSeen } from "../../../desktop/sync/leases.js";
import type { Lease } from "../../../protocol/index.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const B = "01936f3c-0000-7000-8000-0000000000b2";
const INVOICE = "01936f3c-0000-7000-8000-00000000c0de";

const lease = (device: string, expiresAtMs: number, user = "nimal"): Lease =>
  ({ entity_id: INVOICE, entity_type: "invoice", group: "payment", device_id: device, user_id: user, role: "manager", acquired_at_ms: 0, expires_at_ms: expiresAtMs }) as Lease;

/** Timers that fire only when the test moves the clock. */
function fakeTimers() {
  let now = 0;
  const due = new Map<number, { at: number; fn: () => void }>();
  let next = 1;
  return {
    setTimeout: (fn: () => void, ms: number) => {
      due.set(next, { at: now + ms, fn });
      return next++;
    },
    clearTimeout: (h: unknown) => void due.delete(h as number),
    advance(ms: number) {
      now += ms;
      for (const [h, t] of [...due].sort((x, y) => x[1].at - y[1].at)) {
        if (t.at <= now) {
          due.delete(h);
          t.fn();
        }
      }
    },
    pending: () => due.size,
  };
}

/** An engine whose branch answers what the test says, and whose leases the test sends. */
function fakeEngine() {
  const asked: Array<{ action: string; ttlMs?: number }> = [];
  const listeners = new Set<(seen: LeasesSeen | null) => void>();
  let seen: LeasesSeen | null = null;
  let answer: (action: string) => LeaseAnswer = () => ({ outcome: "offline", action: "acquire", request_id: "r", code: null, message: "You are offline: someone may be editing this too" });
  const engine: LeaseEngine = {
    lease: (action, _entityId, _group, opts) => {
      asked.push({ action, ttlMs: opts?.ttlMs });
      return Promise.resolve(answer(action));
    },
    leases: () => seen,
    subscribeLeases: (l) => {
      listeners.add(l);
      return () => void listeners.delete(l);
    },
  };
  return {
    engine,
    asked,
    answers: (f: (action: string) => LeaseAnswer) => void (answer = f),
    send: (next: LeasesSeen | null) => {
      seen = next;
      for (const l of listeners) l(next);
    },
  };
}

const granted = (device: string, serverMs: number, ttlMs = 60_000): LeaseAnswer => ({
  type: "lease_result",
  request_id: "r",
  action: "acquire",
  outcome: "granted",
  refusal: null,
  message: "granted",
  lease: lease(device, serverMs + ttlMs),
  server_time_ms: serverMs,
});
const heldBy = (device: string): LeaseAnswer => ({
  type: "lease_result",
  request_id: "r",
  action: "acquire",
  outcome: "refused",
  refusal: "held",
  message: "Invoice payments and status are being edited on another device",
  lease: lease(device, 60_000),
  server_time_ms: 0,
});
const released: LeaseAnswer = { type: "lease_result", request_id: "r", action: "release", outcome: "released", refusal: null, message: "released", lease: null, server_time_ms: 0 };
const flush = () => new Promise((r) => setImmediate(r));

function setUp() {
  const timers = fakeTimers();
  const fake = fakeEngine();
  let changes = 0;
  const holds = new LeaseHolds({ engine: fake.engine, timers, monotonicMs: () => 0, ownDeviceId: () => A, onChange: () => changes++ });
  return { timers, fake, holds, changes: () => changes };
}

describe("the leases this till holds while its user edits", () => {
  it("a granted lease is renewed at half its time until the edit ends, then released once and not renewed again", async () => {
    const { timers, fake, holds } = setUp();
    fake.answers((action) => (action === "release" ? released : granted(A, 0)));
    expect(await holds.acquire(INVOICE, "payment")).toMatchObject({ state: "held", words: "You are editing payments" });
    expect(fake.asked).toEqual([{ action: "acquire", ttlMs: 60_000 }]);
    timers.advance(29_999);
    expect(fake.asked).toHaveLength(1);
    timers.advance(1);
    await flush();
    expect(fake.asked.map((a) => a.action)).toEqual(["acquire", "acquire"]);
    timers.advance(30_000);
    await flush();
    expect(fake.asked.map((a) => a.action)).toEqual(["acquire", "acquire", "acquire"]);
    expect(await holds.release(INVOICE, "payment")).toEqual({ released: true, words: "released" });
    timers.advance(120_000);
    await flush();
    expect(fake.asked.map((a) => a.action)).toEqual(["acquire", "acquire", "acquire", "release"]);
    expect(holds.view().mine).toEqual([]);
    expect(timers.pending()).toBe(0);
  });

  it("a release waits until this till's own changes to the record have their verdicts (so they are judged under the lease), at most RELEASE_WAIT_MS", async () => {
    const timers = fakeTimers();
    const fake = fakeEngine();
    let clock = 0;
    let open = true;
    const holds = new LeaseHolds({ engine: fake.engine, timers, monotonicMs: () => clock, ownDeviceId: () => A, onChange: () => {}, hasOpenChanges: () => open });
    fake.send({ leases: [], serverTimeMs: 0, receivedAtMs: 0 });
    fake.answers((action) => (action === "release" ? released : granted(A, 0)));
    await holds.acquire(INVOICE, "payment");
    const releasing = holds.release(INVOICE, "payment");
    for (let i = 0; i < 5; i++) {
      clock += 200;
      timers.advance(200);
      await Promise.resolve();
    }
    expect(fake.asked.map((a) => a.action)).toEqual(["acquire"]); // the saved payment is still on its way
    open = false;
    clock += 200;
    timers.advance(200);
    expect(await releasing).toMatchObject({ released: true });
    expect(fake.asked.map((a) => a.action)).toEqual(["acquire", "release"]);

    // Changes that never get their verdicts do not hold the lease past RELEASE_WAIT_MS.
    open = true;
    await holds.acquire(INVOICE, "payment");
    const late = holds.release(INVOICE, "payment");
    for (let waited = 0; waited < RELEASE_WAIT_MS; waited += 200) {
      clock += 200;
      timers.advance(200);
    }
    expect(await late).toMatchObject({ released: true });

    // Taken again by a new edit while the changes were on their way: not released under it.
    await holds.acquire(INVOICE, "payment");
    const superseded = holds.release(INVOICE, "payment");
    await holds.acquire(INVOICE, "payment");
    open = false;
    clock += 200;
    timers.advance(200);
    expect(await superseded).toMatchObject({ released: false, words: "Held again by this till" });
    expect(fake.asked.filter((a) => a.action === "release")).toHaveLength(2);
    holds.releaseAll();
  });

  it("offline: the hold says so and never blocks; when the branch is back it is asked for again", async () => {
    const { fake, holds } = setUp();
    expect(await holds.acquire(INVOICE, "payment")).toMatchObject({ state: "offline", words: "You are offline: someone may be editing this too" });
    expect(holds.view()).toMatchObject({ connected: false, offline_words: "You are offline: someone may be editing this too", in_force: [] });
    fake.answers(() => granted(A, 1_000));
    fake.send({ leases: [], serverTimeMs: 1_000, receivedAtMs: 0 });
    await flush();
    expect(holds.view().mine).toMatchObject([{ state: "held" }]);
    // A release of a lease never granted asks the branch nothing.
    fake.answers(() => released);
  });

  it("refused because another till holds it: asked for again once that lease is gone; held, then no longer listed: over, in words", async () => {
    const { fake, holds } = setUp();
    fake.send({ leases: [lease(B, 60_000)], serverTimeMs: 0, receivedAtMs: 0 });
    fake.answers(() => heldBy(B));
    expect(await holds.acquire(INVOICE, "payment")).toMatchObject({ state: "held_elsewhere" });
    fake.answers(() => granted(A, 5_000));
    fake.send({ leases: [], serverTimeMs: 5_000, receivedAtMs: 0 });
    await flush();
    expect(holds.view().mine).toMatchObject([{ state: "held" }]);
    fake.send({ leases: [lease(A, 65_000)], serverTimeMs: 5_000, receivedAtMs: 0 });
    expect(holds.view().mine).toMatchObject([{ state: "held" }]);
    fake.send({ leases: [], serverTimeMs: 6_000, receivedAtMs: 0 });
    expect(holds.view().mine).toMatchObject([{ state: "ended", words: expect.stringMatching(/^Your hold on payments ended/) }]);
  });

  it("a record the branch does not have yet (created here, not sent): quiet, nobody else can be editing it", async () => {
    const { fake, holds } = setUp();
    fake.send({ leases: [], serverTimeMs: 0, receivedAtMs: 0 });
    fake.answers(() => ({ type: "lease_result", request_id: "r", action: "acquire", outcome: "refused", refusal: "not_found", message: "No invoice with this id", lease: null, server_time_ms: 0 }));
    expect(await holds.acquire(INVOICE, "payment")).toMatchObject({ state: "local_only", words: "Only on this till so far: nobody else can be editing it" });
  });

  it("released while the question is still out: a late grant is given back at once", async () => {
    const { fake, holds } = setUp();
    let grant: (a: LeaseAnswer) => void = () => {};
    fake.engine.lease = (action) => {
      fake.asked.push({ action });
      return action === "acquire" ? new Promise<LeaseAnswer>((r) => (grant = r)) : Promise.resolve(released);
    };
    const asking = holds.acquire(INVOICE, "payment");
    expect(holds.view().mine).toMatchObject([{ state: "asking" }]);
    expect(await holds.release(INVOICE, "payment")).toMatchObject({ released: false });
    grant(granted(A, 0));
    await asking;
    expect(fake.asked.map((a) => a.action)).toEqual(["acquire", "release"]);
    expect(holds.view().mine).toEqual([]);
  });
});

describe("leases in force, in words", () => {
  const seen: LeasesSeen = { leases: [lease(B, 100_000)], serverTimeMs: 40_000, receivedAtMs: 500 };
  it("another till's: who, their role, and how long is left, counted on the monotonic clock", () => {
    const view = leaseView(seen, seen.leases[0]!, A, 500);
    expect(view).toMatchObject({ this_till: false, device_short: "0000b2", words: "Being edited by nimal (manager) on another till, 1 min left", group_label: "payments and status" });
    expect(leaseView(seen, seen.leases[0]!, A, 15_500).remaining_words).toBe("45 s left");
    expect(leaseView(seen, seen.leases[0]!, A, 70_000).remaining_words).toBe("ending now");
  });
  it("this till's: quiet", () => {
    expect(leaseView(seen, seen.leases[0]!, B, 500)).toMatchObject({ this_till: true, holder_words: "You are editing payments" });
  });
  it("remaining time: seconds under a minute, rounded up; minutes from a minute on", () => {
    expect([0, 1, 999, 1_000, 59_001, 60_000, 89_000, 91_000, 300_000].map(remainingWords)).toEqual([
      "ending now",
      "1 s left",
      "1 s left",
      "1 s left",
      "1 min left",
      "1 min left",
      "1 min left",
      "2 min left",
      "5 min left",
    ]);
  });
});
