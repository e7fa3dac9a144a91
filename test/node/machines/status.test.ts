/** publicStatus: the machine's states collapse into the small status union the UI shows. */
import { describe, expect, it } from "vitest";
import { type PublicStatus, publicStatus, syncStateName } from "../../../machines/index.js";
import { CLOSE_CODES } from "../../../protocol/close-codes.js";
import { goLive, startSync, type Sync } from "./harness.js";

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
    sync.report({ type: "SESSION.BATCH_SENT", batchId: "b1", events: 1 });
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
    expect(status(sync)).toEqual({ kind: "backoff", attempt: 1, lastClose: { code: 1011, reason: "internal error" } });
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
