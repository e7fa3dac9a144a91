/**
 * The sync machine when the branch compacted its log past the device's cursor (protocol v9): it
 * bootstraps again, by the same path as a new device, and then pulls and pushes its kept queue.
 */
import { describe, expect, it } from "vitest";
import { BACKOFF } from "../../../machines/index.js";
import { startSync } from "./harness.js";

const types = (commands: ReadonlyArray<{ type: string }>) => commands.map((c) => c.type);

describe("a branch that compacted its history past the device's cursor", () => {
  it("welcome says so: the device bootstraps again, then pulls and pushes its queue", () => {
    const sync = startSync({ needsBootstrap: false });
    sync.report({ type: "SESSION.OPEN" });
    sync.report({ type: "SESSION.WELCOME", head: 900, historyCompacted: true });
    expect(sync.state).toBe("online.bootstrapping");
    sync.report({ type: "SESSION.BOOTSTRAPPED" });
    expect(sync.state).toBe("online.pulling");
    sync.report({ type: "SESSION.PAGE_APPLIED", cursor: 900, more: false });
    expect(sync.state).toBe("online.pushing");
    expect(types(sync.session().commands)).toEqual(["HELLO", "BOOTSTRAP", "PULL", "PUSH_NEXT"]);
  });

  it("a welcome that does not say so pulls as before", () => {
    const sync = startSync({ needsBootstrap: false });
    sync.report({ type: "SESSION.OPEN" });
    sync.report({ type: "SESSION.WELCOME", head: 900, historyCompacted: false });
    expect(sync.state).toBe("online.pulling");
  });

  it("a pull answered history_compacted bootstraps again; a failed re-bootstrap backs off and tries again on the next connection", () => {
    const sync = startSync({ needsBootstrap: false, random: () => 1 });
    sync.report({ type: "SESSION.OPEN" });
    sync.report({ type: "SESSION.WELCOME", head: 900 });
    sync.report({ type: "SESSION.PAGE_APPLIED", cursor: 100, more: true });
    expect(sync.state).toBe("online.pulling");
    sync.report({ type: "SESSION.HISTORY_COMPACTED" });
    expect(sync.state).toBe("online.bootstrapping");
    sync.report({ type: "SESSION.BOOTSTRAP_FAILED", message: "the newest snapshot does not cover it yet" });
    expect(sync.state).toBe("backoff");
    sync.clock.increment(BACKOFF.baseMs);
    sync.report({ type: "SESSION.OPEN" });
    sync.report({ type: "SESSION.WELCOME", head: 950, historyCompacted: true });
    expect(sync.state).toBe("online.bootstrapping");
    sync.report({ type: "SESSION.BOOTSTRAPPED" });
    expect(sync.state).toBe("online.pulling");
  });

  it("history_compacted outside a pull changes nothing (only pulls are answered so)", () => {
    const sync = startSync({ needsBootstrap: false });
    sync.report({ type: "SESSION.OPEN" });
    sync.report({ type: "SESSION.WELCOME", head: 0 });
    sync.report({ type: "SESSION.PAGE_APPLIED", cursor: 0, more: false });
    sync.report({ type: "SESSION.QUEUE_EMPTY" });
    expect(sync.state).toBe("online.live");
    sync.report({ type: "SESSION.HISTORY_COMPACTED" });
    expect(sync.state).toBe("online.live");
  });
});
