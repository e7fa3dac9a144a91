/** publicStatus: the machine's states collapse into the small status union the UI shows. */
import { describe, expect, it } from "vitest";
import { createActor, SimulatedClock } from "xstate";
import { BACKOFF, type PublicStatus, publicStatus, syncMachine, syncStateName } from "../../../machines/index.js";
import { conflictWords, keptWords, retryInSeconds, statusWords } from "../../../machines/status-words.js";
import { CLOSE_CODES } from "../../../protocol/close-codes.js";
import { type FakeSession, fakeSessionLogic, goLive, startSync, type Sync } from "./harness.js";

const status = (sync: Sync): PublicStatus => publicStatus(sync.actor.getSnapshot());

function handshaken(sync: Sync): Sync {
  sync.report({ type: "SESSION.OPEN" });
  sync.report({ type: "SESSION.WELCOME", head: 3 });
  return sync;
}

describe("publicStatus", () => {
  it("is offline when offline", () => {
    expect(status(startSync({ online: false }))).toEqual({ kind: "offline" });
  });

  it("is connecting, with the attempt count, while connecting and handshaking", () => {
    const sync = startSync({ random: () => 1 });
    expect(status(sync)).toEqual({ kind: "connecting", attempt: 0 });
    sync.report({ type: "SESSION.CLOSED", code: 1006, reason: "" });
    sync.clock.increment(500);
    sync.report({ type: "SESSION.OPEN" });
    expect(sync.state).toBe("online.handshaking");
    expect(status(sync)).toEqual({ kind: "connecting", attempt: 1 });
  });

  it("is syncing with the phase while bootstrapping, pulling, pushing and awaiting verdicts", () => {
    const sync = handshaken(startSync({ needsBootstrap: true }));
    expect(status(sync)).toEqual({ kind: "syncing", phase: "bootstrap" });
    sync.report({ type: "SESSION.BOOTSTRAPPED" });
    expect(status(sync)).toEqual({ kind: "syncing", phase: "pull" });
    sync.report({ type: "SESSION.PAGE_APPLIED", cursor: 3, more: false });
    expect(status(sync)).toEqual({ kind: "syncing", phase: "push" });
    sync.report({ type: "SESSION.BATCH_SENT", batchId: "b1", events: 1, chunked: false });
    expect(sync.state).toBe("online.pushing");
    expect(status(sync)).toEqual({ kind: "syncing", phase: "push" });
    sync.report({ type: "SESSION.QUEUE_EMPTY" });
    expect(sync.state).toBe("online.awaitingVerdicts");
    expect(status(sync)).toEqual({ kind: "syncing", phase: "push" });
  });

  it("counts the transient conflict state as pulling", () => {
    const sync = startSync();
    expect(publicStatus({ ...sync.actor.getSnapshot(), value: { online: "conflict" } } as never)).toEqual({
      kind: "syncing",
      phase: "pull",
    });
  });

  it("is live when live", () => {
    const sync = startSync();
    goLive(sync);
    expect(status(sync)).toEqual({ kind: "live" });
  });

  it("is backoff with the attempt and the last close", () => {
    const sync = startSync();
    sync.report({ type: "SESSION.CLOSED", code: 1011, reason: "internal error" });
    // No clock given to the machine (SyncInput.now): no retry time.
    expect(status(sync)).toEqual({ kind: "backoff", attempt: 1, lastClose: { code: 1011, reason: "internal error" }, retryAtMs: null });
  });

  it("tells when the retry is due, on the clock it was given, and forgets it on leaving backoff", () => {
    const clock = new SimulatedClock();
    let nowMs = 1_700_000_000_000;
    const sessions: FakeSession[] = [];
    const actor = createActor(syncMachine.provide({ actors: { session: fakeSessionLogic(sessions) } }), {
      input: { online: true, needsBootstrap: false, random: () => 1, now: () => nowMs },
      clock,
    }).start();
    const current = () => publicStatus(actor.getSnapshot());
    sessions.at(-1)!.report({ type: "SESSION.CLOSED", code: 1006, reason: "connection_lost" });
    // Attempt 1 with random 1: the full un-jittered 500 ms.
    expect(current()).toEqual({ kind: "backoff", attempt: 1, lastClose: { code: 1006, reason: "connection_lost" }, retryAtMs: nowMs + BACKOFF.baseMs });
    nowMs += 10_000; // the app's clock moves; the due time does not
    expect(current()).toMatchObject({ retryAtMs: nowMs - 10_000 + BACKOFF.baseMs });
    clock.increment(BACKOFF.baseMs);
    expect(current()).toEqual({ kind: "connecting", attempt: 1 });
    expect(actor.getSnapshot().context.retryAtMs).toBeNull();
    sessions.at(-1)!.report({ type: "SESSION.CLOSED", code: 1006, reason: "connection_lost" });
    expect(current()).toMatchObject({ kind: "backoff", attempt: 2, retryAtMs: nowMs + 2 * BACKOFF.baseMs });
    actor.stop();
  });

  it.each([
    ["unauthorized", CLOSE_CODES.unauthorized],
    ["forbidden", CLOSE_CODES.forbidden],
    ["token_expired", CLOSE_CODES.token_expired],
  ] as const)("is auth_failed with the reason %s", (reason, code) => {
    const sync = startSync();
    sync.report({ type: "SESSION.CLOSED", code, reason: "" });
    expect(status(sync)).toEqual({ kind: "auth_failed", reason });
  });

  it("is update_required and replaced in those states", () => {
    const tooOld = startSync();
    tooOld.report({ type: "SESSION.CLOSED", code: CLOSE_CODES.protocol_too_old, reason: "protocol_too_old" });
    expect(status(tooOld)).toEqual({ kind: "update_required" });
    const replaced = startSync();
    replaced.report({ type: "SESSION.CLOSED", code: CLOSE_CODES.replaced, reason: "replaced" });
    expect(status(replaced)).toEqual({ kind: "replaced" });
  });

  it("names nested states with a dot", () => {
    expect(syncStateName({ value: { online: "live" } })).toBe("online.live");
    expect(syncStateName({ value: "backoff" })).toBe("backoff");
  });
});

/** One status of every kind (and every phase and stop reason), as the words must cover them all. */
const EVERY_STATUS: Record<PublicStatus["kind"], PublicStatus[]> = {
  offline: [{ kind: "offline" }],
  connecting: [{ kind: "connecting", attempt: 0 }, { kind: "connecting", attempt: 3 }],
  syncing: [
    { kind: "syncing", phase: "bootstrap" },
    { kind: "syncing", phase: "pull" },
    { kind: "syncing", phase: "push" },
  ],
  live: [{ kind: "live" }],
  backoff: [
    { kind: "backoff", attempt: 1, lastClose: null, retryAtMs: 12_000 },
    { kind: "backoff", attempt: 2, lastClose: { code: 1006, reason: "connection_lost" }, retryAtMs: null },
    { kind: "backoff", attempt: 2, lastClose: { code: 1011, reason: "internal error" }, retryAtMs: 5_000 },
    { kind: "backoff", attempt: 2, lastClose: { code: CLOSE_CODES.protocol_too_new, reason: "protocol_too_new" }, retryAtMs: 5_000 },
    { kind: "backoff", attempt: 2, lastClose: { code: CLOSE_CODES.slow_consumer, reason: "slow_consumer" }, retryAtMs: 5_000 },
  ],
  auth_failed: ["unauthorized", "forbidden", "token_expired", "device_revoked", "install_conflict"].map((reason) => ({ kind: "auth_failed", reason }) as const),
  update_required: [{ kind: "update_required" }],
  replaced: [{ kind: "replaced" }],
};

/** Names a person should never have to read: state kinds, close reasons, codes, ids. */
const INTERNAL = /\b(backoff|auth_failed|update_required|unauthorized|forbidden|token_expired|device_revoked|install_conflict|protocol_too_new|slow_consumer|connection_lost|internal error|\d{4})\b|_|[0-9a-f]{8}-[0-9a-f]{4}/;

describe("statusWords: every public status in a cashier's words", () => {
  const all = Object.values(EVERY_STATUS).flat();

  it.each(all.map((s) => [JSON.stringify(s), s] as const))("words %s, with no internal name in them", (_, s) => {
    const words = statusWords(s, { nowMs: 0, pending: 3 });
    expect(words.short.length).toBeGreaterThan(0);
    expect(words.headline.length).toBeGreaterThan(0);
    for (const text of [words.short, words.headline, words.advice ?? ""]) expect(text).not.toMatch(INTERNAL);
    // Advice only where sync stopped for good; there it is in the headline or the advice.
    if (words.tone === "bad") expect(`${words.headline} ${words.advice ?? ""}`).toMatch(/ask a manager|Update the app|Retry now/i);
  });

  it("says the same words as the table in the report", () => {
    const w = (s: PublicStatus, ctx = {}) => statusWords(s, ctx).headline;
    expect(w({ kind: "offline" })).toBe("Working offline — no network; sales and changes are kept on this computer");
    expect(w({ kind: "live" }, { paused: true })).toBe("Working offline — sync is switched off; sales and changes are kept on this computer");
    expect(w({ kind: "connecting", attempt: 0 })).toBe("Connecting…");
    expect(w({ kind: "syncing", phase: "push" }, { pending: 12 })).toBe("Sending 12 changes…");
    expect(w({ kind: "syncing", phase: "push" }, { pending: 1 })).toBe("Sending 1 change…");
    expect(w({ kind: "live" })).toBe("Up to date");
    expect(statusWords({ kind: "live" }).short).toBe("Live · up to date");
    expect(w({ kind: "backoff", attempt: 4, lastClose: { code: 1006, reason: "connection_lost" }, retryAtMs: 112_000 }, { nowMs: 100_000 })).toBe("Server unreachable — retrying in 12 s");
    expect(w({ kind: "auth_failed", reason: "token_expired" })).toBe("Signed out: this device's access expired — ask a manager for a new sign-in");
    expect(w({ kind: "auth_failed", reason: "unauthorized" })).toBe("Signed out: this device's sign-in was refused — ask a manager for a new sign-in");
  });

  it("counts the retry down on the clock it is given, rounding up, never below zero", () => {
    const s: PublicStatus = { kind: "backoff", attempt: 6, lastClose: null, retryAtMs: 20_000 };
    expect(retryInSeconds(s, 8_000)).toBe(12);
    expect(retryInSeconds(s, 8_001)).toBe(12);
    expect(retryInSeconds(s, 13_000)).toBe(7);
    expect(retryInSeconds(s, 19_999)).toBe(1);
    expect(retryInSeconds(s, 25_000)).toBe(0);
    expect(statusWords(s, { nowMs: 25_000 }).headline).toBe("Server unreachable — retrying now");
    expect(statusWords(s).headline).toBe("Server unreachable — retrying soon");
    expect(retryInSeconds({ kind: "live" }, 0)).toBeNull();
    expect(retryInSeconds({ ...s, retryAtMs: null }, 0)).toBeNull();
  });

  it("counts what is kept and what was not accepted", () => {
    expect(keptWords(0)).toBe("");
    expect(keptWords(1)).toBe("1 change not yet sent stays on this computer.");
    expect(keptWords(2)).toBe("2 changes not yet sent stay on this computer.");
    expect(conflictWords(0)).toBe("");
    expect(conflictWords(2)).toBe("2 changes were not accepted by the server — review them in the conflict inbox");
  });
});
