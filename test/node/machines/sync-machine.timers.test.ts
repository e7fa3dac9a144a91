/** Timers of the sync machine, driven by XState's SimulatedClock: no real time passes. */
import { describe, expect, it } from "vitest";
import {
  BACKOFF,
  backoffDelayMs,
  CONNECT_TIMEOUT_MS,
  HANDSHAKE_TIMEOUT_MS,
  HEARTBEAT_MS,
  REQUEST_TIMEOUT_MS,
} from "../../../machines/index.js";
import { CLOSE_CODES } from "../../../protocol/close-codes.js";
import { goLive, startSync, type Sync } from "./harness.js";

/** Advance to one millisecond before `ms`, check nothing happened, then cross it. */
function crossing(sync: Sync, ms: number, before: string, after: string): void {
  sync.clock.increment(ms - 1);
  expect(sync.state).toBe(before);
  sync.clock.increment(1);
  expect(sync.state).toBe(after);
}

describe("connect and handshake timeouts", () => {
  it("gives up connecting after CONNECT_TIMEOUT_MS: the session is told to CLOSE and the machine backs off", () => {
    const sync = startSync();
    const session = sync.session();
    crossing(sync, CONNECT_TIMEOUT_MS, "online.connecting", "backoff");
    expect(session.commands).toEqual([{ type: "CLOSE", reason: "connect_timeout" }]);
    expect(session.stopped).toBe(true);
    expect(sync.context.attempt).toBe(1);
    expect(sync.context.lastError).toBe("connect timed out");
  });

  it("gives up a handshake with no welcome after HANDSHAKE_TIMEOUT_MS", () => {
    const sync = startSync();
    sync.report({ type: "SESSION.OPEN" });
    const session = sync.session();
    crossing(sync, HANDSHAKE_TIMEOUT_MS, "online.handshaking", "backoff");
    expect(session.commands.map((c) => c.type)).toEqual(["HELLO", "CLOSE"]);
  });

  it("does not depend on a SESSION.CLOSED after its own CLOSE: a late one from the old session changes nothing", () => {
    const sync = startSync();
    const session = sync.session();
    sync.clock.increment(CONNECT_TIMEOUT_MS);
    session.report({ type: "SESSION.CLOSED", code: CLOSE_CODES.unauthorized, reason: "unauthorized" }); // dropped: stopped actor
    expect(sync.state).toBe("backoff");
    expect(sync.context.lastClose).toBeNull();
  });
});

describe("backoff", () => {
  it("waits longer after each failed attempt, up to the cap, with deterministic jitter", () => {
    for (const random of [() => 0, () => 0.5, () => 1]) {
      const sync = startSync({ random });
      const waits: number[] = [];
      for (let attempt = 1; attempt <= 12; attempt++) {
        sync.report({ type: "SESSION.CLOSED", code: 1006, reason: "" });
        expect(sync.context.attempt).toBe(attempt);
        const expected = backoffDelayMs(attempt, random);
        crossing(sync, expected, "backoff", "online.connecting");
        waits.push(expected);
      }
      expect(waits.at(-1)).toBeLessThanOrEqual(BACKOFF.capMs);
      expect(waits.at(-1)).toBe(Math.round(BACKOFF.capMs * (1 - BACKOFF.jitter * (1 - random()))));
      for (let i = 1; i < waits.length; i++) expect(waits[i]).toBeGreaterThanOrEqual(waits[i - 1]!);
    }
  });

  it("uses the exact table with a maximal random source: 0.5 s, 1 s, 2 s … then 60 s", () => {
    const sync = startSync({ random: () => 1 });
    const seen: number[] = [];
    for (let attempt = 1; attempt <= 10; attempt++) {
      sync.report({ type: "SESSION.CLOSED", code: 1011, reason: "" });
      seen.push(backoffDelayMs(sync.context.attempt, () => 1));
      crossing(sync, seen.at(-1)!, "backoff", "online.connecting");
    }
    expect(seen).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it("starts counting again after a successful handshake", () => {
    const sync = startSync({ random: () => 1 });
    sync.report({ type: "SESSION.CLOSED", code: 1006, reason: "" });
    sync.clock.increment(500);
    sync.report({ type: "SESSION.CLOSED", code: 1006, reason: "" });
    expect(sync.context.attempt).toBe(2);
    sync.clock.increment(1000);
    sync.report({ type: "SESSION.OPEN" });
    sync.report({ type: "SESSION.WELCOME", head: 3 });
    expect(sync.context.attempt).toBe(0);
    sync.report({ type: "SESSION.CLOSED", code: 1006, reason: "" });
    crossing(sync, 500, "backoff", "online.connecting");
  });
});

describe("heartbeat", () => {
  it("sends PING every HEARTBEAT_MS while live", () => {
    const sync = startSync();
    goLive(sync);
    const pings = () => sync.session().commands.filter((c) => c.type === "PING").length;
    for (let n = 1; n <= 4; n++) {
      crossing(sync, HEARTBEAT_MS, "online.live", "online.live");
      expect(pings()).toBe(n);
    }
  });

  it("keeps its rhythm when live changes arrive (they do not re-enter live)", () => {
    const sync = startSync();
    goLive(sync);
    sync.clock.increment(HEARTBEAT_MS - 5_000);
    sync.report({ type: "SESSION.LIVE_APPLIED", cursor: 1 });
    sync.clock.increment(5_000);
    expect(sync.session().commands.filter((c) => c.type === "PING")).toHaveLength(1);
  });

  it("stops pinging when the machine leaves live", () => {
    const sync = startSync();
    goLive(sync);
    sync.send({ type: "LOCAL_WRITE" });
    sync.clock.increment(HEARTBEAT_MS * 2);
    expect(sync.commands()).not.toContain("PING");
  });
});

describe("request timeouts", () => {
  it("backs off when no pull page arrives within REQUEST_TIMEOUT_MS", () => {
    const sync = startSync();
    sync.report({ type: "SESSION.OPEN" });
    sync.report({ type: "SESSION.WELCOME", head: 9 });
    const session = sync.session();
    crossing(sync, REQUEST_TIMEOUT_MS, "online.pulling", "backoff");
    expect(session.commands.at(-1)).toEqual({ type: "CLOSE", reason: "request_timeout" });
  });

  it("restarts the pull timeout with every page", () => {
    const sync = startSync();
    sync.report({ type: "SESSION.OPEN" });
    sync.report({ type: "SESSION.WELCOME", head: 9 });
    for (let page = 1; page <= 3; page++) {
      sync.clock.increment(REQUEST_TIMEOUT_MS - 1);
      sync.report({ type: "SESSION.PAGE_APPLIED", cursor: page, more: true });
    }
    crossing(sync, REQUEST_TIMEOUT_MS, "online.pulling", "backoff");
  });

  it("backs off when a batch's verdicts stop arriving, counting from the last partial verdicts", () => {
    const sync = startSync();
    goLive(sync);
    sync.send({ type: "LOCAL_WRITE" });
    sync.report({ type: "SESSION.BATCH_SENT", batchId: "b1", events: 4, chunked: false });
    sync.report({ type: "SESSION.QUEUE_EMPTY" });
    sync.clock.increment(REQUEST_TIMEOUT_MS - 1);
    sync.report({ type: "SESSION.VERDICTS_APPLIED", batchId: "b1", confirmed: 2, rejected: 0, complete: false });
    const session = sync.session();
    crossing(sync, REQUEST_TIMEOUT_MS, "online.awaitingVerdicts", "backoff");
    expect(session.commands.at(-1)).toEqual({ type: "CLOSE", reason: "request_timeout" });
  });

  it("with several batches in flight, verdicts of any of them restart the timeout, and only silence ends the session", () => {
    const sync = startSync();
    goLive(sync);
    sync.send({ type: "LOCAL_WRITE" });
    for (const batchId of ["b1", "b2", "b3"]) sync.report({ type: "SESSION.BATCH_SENT", batchId, events: 200, chunked: false });
    sync.report({ type: "SESSION.QUEUE_EMPTY" });
    expect(sync.state).toBe("online.awaitingVerdicts");
    // b1 completes late but in time: b2 and b3 are still in flight, so the machine waits on, from now.
    sync.clock.increment(REQUEST_TIMEOUT_MS - 1);
    sync.report({ type: "SESSION.VERDICTS_APPLIED", batchId: "b1", confirmed: 200, rejected: 0, complete: true });
    sync.report({ type: "SESSION.QUEUE_EMPTY" }); // the PUSH_NEXT its completion sent
    sync.clock.increment(REQUEST_TIMEOUT_MS - 1);
    sync.report({ type: "SESSION.VERDICTS_APPLIED", batchId: "b2", confirmed: 50, rejected: 0, complete: false });
    const session = sync.session();
    crossing(sync, REQUEST_TIMEOUT_MS, "online.awaitingVerdicts", "backoff");
    expect(session.commands.at(-1)).toEqual({ type: "CLOSE", reason: "request_timeout" });
    expect(sync.context.inFlight).toEqual([]);
  });
});
