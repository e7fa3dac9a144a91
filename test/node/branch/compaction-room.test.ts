/**
 * Compaction on the wire (docs/protocol/compaction.md): the room over in-memory sockets and the HTTP
 * API on a real SQLite core whose log was compacted. A v9 device is told `compacted_through` and
 * `history_compacted`; an older one never sees either: below the point it is closed with the
 * terminal `protocol_too_old`; HTTP answers 410.
 */
import { afterEach, describe, expect, it } from "vitest";
import { BranchCore } from "../../../durable/core/branch.js";
import { BranchHttpApi } from "../../../durable/core/http-api.js";
import { CLOSE_CODES, PROTOCOL_VERSION } from "../../../protocol/index.js";
import type { BranchId } from "../../../domain/index.js";
import { makeRoom } from "../../support/memory-room.js";
import { actor, DEVICES } from "../../support/branch.js";
import { makeEventFactory } from "../../support/events.js";

const PULL_ID = "0193a000-0000-7000-8000-00000000f001";
let close: (() => void) | undefined;
afterEach(() => close?.());

/** A room whose branch has 60 commits (20 projects, each edited twice), compacted through 50. */
function compactedRoom() {
  const r = makeRoom();
  close = r.close;
  const f = makeEventFactory(3);
  const a = actor(DEVICES.A);
  const projects = Array.from({ length: 20 }, () => f.createProject(DEVICES.A));
  r.core.push(a, projects);
  for (let v = 1; v <= 2; v++) r.core.push(a, projects.map((p) => f.updateProject(DEVICES.A, p.entity_id, { notes: `v${v + 1}` }, { base: v })));
  r.core.setMeta("last_base_snapshot", { seq: 50, at_ms: r.core.nowMs() });
  const compactor = new BranchCore(r.sql, "test-branch" as BranchId, () => r.core.nowMs(), { defaultTimeZone: "UTC", compaction: { retainCommits: 0, retainMs: 0, minStepCommits: 1 } });
  while (!compactor.compactSlice().finished);
  expect(r.core.compactedThrough()).toBe(50);
  return r;
}

const hello = (version: number, device: string, cursor: number) => ({
  type: "hello",
  protocol_version: version,
  device_id: device,
  cursor,
  app: "compaction-test/1",
  install_id: `0193a000-0000-7000-8000-${device.slice(-12)}`,
  clock_ms: 1_764_043_200_000,
});

describe("compaction on the socket", () => {
  it("a v9 welcome says compacted_through; a pull from below it is history_compacted (non-fatal, naming the pull); from it, pages as before", async () => {
    const r = compactedRoom();
    const peer = r.connect(DEVICES.B);
    await peer.deliver(hello(PROTOCOL_VERSION, DEVICES.B, 10));
    const [welcome] = await peer.received();
    expect(welcome).toMatchObject({ type: "welcome", compacted_through: 50, head: 60 });
    await peer.deliver({ type: "pull", request_id: PULL_ID, since: 10, limit: 100 });
    expect(await peer.received()).toEqual([
      { type: "error", code: "history_compacted", fatal: false, in_reply_to: PULL_ID, message: expect.stringContaining("history through seq 50 was compacted") },
    ]);
    expect(peer.closed).toBeNull();
    await peer.deliver({ type: "pull", request_id: PULL_ID, since: 50, limit: 100 });
    const [page] = await peer.received();
    expect(page).toMatchObject({ type: "changes", cursor: 60, head: 60, more: false });
    expect(page?.type === "changes" && page.changes.map((c) => c.seq)).toEqual([51, 52, 53, 54, 55, 56, 57, 58, 59, 60]);
  });

  it("a v9 welcome of a branch never compacted says 0", async () => {
    const r = makeRoom();
    close = r.close;
    const peer = r.connect(DEVICES.B);
    await peer.deliver(hello(PROTOCOL_VERSION, DEVICES.B, 0));
    expect((await peer.received())[0]).toMatchObject({ type: "welcome", compacted_through: 0 });
  });

  it("an older client never sees compacted_through: below the point it is closed with protocol_too_old (update the app), at or above it works as before", async () => {
    const r = compactedRoom();
    const behind = r.connect(DEVICES.B);
    await behind.deliver(hello(8, DEVICES.B, 10));
    expect(await behind.received()).toEqual([
      { type: "error", code: "protocol_too_old", fatal: true, message: expect.stringMatching(/history through seq 50 was compacted .* update the app \(its unsynced changes are kept/) },
    ]);
    expect(behind.closed).toEqual({ code: CLOSE_CODES.protocol_too_old, reason: "protocol_too_old" });

    const current = r.connect(DEVICES.C);
    await current.deliver(hello(8, DEVICES.C, 50));
    const [welcome] = await current.received();
    expect(welcome?.type).toBe("welcome");
    expect(welcome).not.toHaveProperty("compacted_through");
    await current.deliver({ type: "pull", request_id: PULL_ID, since: 55, limit: 100 });
    expect((await current.received())[0]).toMatchObject({ type: "changes", cursor: 60 });

    // A new v8 device (cursor 0) is welcomed: it may bootstrap from a snapshot. A pull from below the point closes it.
    const fresh = r.connect(DEVICES.A);
    await fresh.deliver(hello(4, DEVICES.A, 0));
    // Read as sent: a v4 welcome has no studio, which today's decoder requires.
    expect(JSON.parse(fresh.sent[0]!)).toMatchObject({ type: "welcome", protocol_version: PROTOCOL_VERSION });
    expect(JSON.parse(fresh.sent[0]!)).not.toHaveProperty("compacted_through");
    await fresh.deliver({ type: "pull", request_id: PULL_ID, since: 0, limit: 100 });
    expect(fresh.sent.slice(1).map((t) => JSON.parse(t) as unknown)).toEqual([{ type: "error", code: "protocol_too_old", fatal: true, in_reply_to: null, message: expect.stringContaining("update the app") }]);
    expect(fresh.closed?.code).toBe(CLOSE_CODES.protocol_too_old);
  });
});

describe("compaction over HTTP", () => {
  it("GET …/changes from below the point is 410 history_compacted; from it, 200", async () => {
    const r = compactedRoom();
    const api = new BranchHttpApi(r.core, {
      publish: () => {},
      disconnectDevice: () => {},
      exportSnapshot: () => Promise.reject(new Error("no R2 here")),
      newRequestId: () => PULL_ID,
      mintToken: () => Promise.resolve("token"),
      newDeviceId: () => DEVICES.C,
      randomBytes: () => {},
    } as never);
    const get = (query: string) =>
      api.handle({ method: "GET", url: new URL(`https://x/v1/branches/test-branch/changes?${query}`), claims: { v: 1, branch: "test-branch", device: DEVICES.A, user: "u", role: "owner", iat: 0, exp: 2e9 } as never, text: async () => "" });
    expect(await get("since=49")).toEqual({ status: 410, body: { error: "history_compacted", compacted_through: 50, message: expect.stringContaining("start from the newest snapshot") } });
    expect(await get(`since=49&protocol_version=${PROTOCOL_VERSION}`)).toMatchObject({ status: 410 });
    expect(await get("since=50")).toMatchObject({ status: 200, body: { type: "changes", cursor: 60 } });
  });
});
