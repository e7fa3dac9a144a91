/**
 * The connection protocol (handshake, errors, chunks, fan-out) over in-memory sockets in Node.
 * The cases a client can observe over its socket are the room contract (contract/room-contract.ts),
 * run here against the in-memory room and in test/workers/room.test.ts against the real Durable
 * Object; the cases below also look inside the branch (audit, storage, a moved clock).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Change, type DevicePresence, type RejectionSummary, FRAME_LIMIT_BYTES, PROTOCOL_VERSION, LIVE_UNREAD_BUDGET_BYTES, MAX_OPEN_UPLOADS_PER_DEVICE, MAX_UNANSWERED_POKES, type ServerMessage, type Verdict, splitIntoChunks } from "../../../protocol/index.js";
import { type SyncEvent, type TransferId } from "../../../domain/index.js";
import { DEVICES } from "../../support/branch.js";
import { makeEventFactory } from "../../support/events.js";
import { Prng } from "../../support/prng.js";
import { makeRoom, memoryRoomDriver, type MemoryPeer } from "../../support/memory-room.js";
import { MAX_STRIKES, readSession, splitVerdicts } from "../../../durable/core/room.js";
import { roomContract } from "./contract/room-contract.js";

roomContract("the in-memory room in Node", memoryRoomDriver);

const { A, B, C } = DEVICES;
let r: ReturnType<typeof makeRoom>;
let f: ReturnType<typeof makeEventFactory>;
beforeEach(() => {
  r = makeRoom();
  f = makeEventFactory(9);
});
afterEach(() => r.close());

/** Each device's own install, unless a test says otherwise. */
const installOf = (device: string) => `0193a000-0000-7000-8000-${device.slice(-12)}`;
const hello = (device: string, protocol_version: number = PROTOCOL_VERSION, install = installOf(device)) =>
  protocol_version >= 3
    ? { type: "hello", protocol_version, device_id: device, cursor: 0, app: "test/1", install_id: install, clock_ms: r.core.nowMs() }
    : { type: "hello", protocol_version, device_id: device, cursor: 0, app: "test/1" };
async function open(device: string, role: Parameters<typeof r.connect>[1] = "owner") {
  const peer = r.connect(device, role);
  await peer.deliver(hello(device));
  const [welcome] = await peer.received();
  expect(welcome?.type).toBe("welcome");
  return peer;
}
const only = async <T extends ServerMessage["type"]>(peer: MemoryPeer, type: T) => {
  const messages = await peer.received();
  expect(messages.map((m) => m.type)).toEqual([type]);
  return messages[0] as Extract<ServerMessage, { type: T }>;
};

/** A push too large for one frame: a project with 20,000 selected media items. */
const bigPush = (count = 20_000) => {
  const items = Array.from({ length: count }, (_, i) => ({ sha256: i.toString(16).padStart(64, "0"), file_name: `IMG_${i}.CR3`, size_bytes: i, note: null }));
  const event = { ...f.createProject(A), payload: { ...(f.createProject(A).payload as object), media_selection: { items } } };
  return { event, text: JSON.stringify({ type: "push", batch_id: f.nextId(), events: [event] }) };
};

describe("handshake", () => {
  it("audits a device's first hello, and another install's refused hello with both installs", async () => {
    const real = await open(A);
    const thief = r.connect(A);
    await thief.deliver(hello(A, PROTOCOL_VERSION, "0193a000-0000-7000-8000-0000000000ff"));
    expect(thief.closed).toEqual({ code: 4018, reason: "install_conflict" });
    expect(real.closed).toBeNull();
    const audit = r.core.readAudit(0, 50).entries;
    expect(audit.map((e) => e.kind)).toEqual(["device_first_seen", "install_conflict", "protocol_error"]);
    expect(audit[1]!.message).toContain("0193a000-0000-7000-8000-0000000000ff");
  });

  it("refuses a revoked device at connect and at hello, and audits the revocation", async () => {
    const live = await open(A);
    r.core.revokeDevice({ device_id: B as never, user_id: "mgr" as never, role: "manager" }, A, "till stolen");
    const again = r.connect(A);
    expect(again.closed).toEqual({ code: 4016, reason: "device_revoked" });
    expect(r.core.readAudit(0, 50).entries.map((e) => e.kind)).toContain("device_revoked");
    expect(live.closed).toBeNull(); // an open socket is closed by the host (the Durable Object), see workers tests
  });

  it("audits a device clock more than two minutes off once when it goes wrong, not at every reconnect", async () => {
    const skewed = () => ({ ...hello(A), clock_ms: r.core.nowMs() - 3 * 3600_000 });
    for (let i = 0; i < 5; i++) {
      const peer = r.connect(A);
      await peer.deliver(skewed());
      expect(peer.closed).toBeNull();
    }
    const skews = () => r.core.readAudit(0, 50).entries.filter((e) => e.kind === "clock_skew");
    expect(skews().map((e) => e.message)).toEqual(["the device's clock is 3 h 0 min behind the server's"]);
    expect(r.core.devices()[0]!.clock_skew_ms).toBe(-3 * 3600_000);
    // Fixed, then wrong again: audited again.
    await r.connect(A).deliver(hello(A));
    await r.connect(A).deliver(skewed());
    expect(skews()).toHaveLength(2);
  });

  it("closes a session whose token has expired", async () => {
    const peer = r.connect(A, "owner", 60);
    await peer.deliver(hello(A));
    r.advance(61_000);
    await peer.deliver({ type: "ping", nonce: 1 });
    expect(peer.closed).toEqual({ code: 4015, reason: "token_expired" });
  });
});

describe("bad frames", () => {
  it.each([
    ["a second hello", (d: string) => hello(d)],
    ["eight malformed frames", () => "{"],
  ])("after a fatal close (%s), frames already queued behind it change nothing", async (_, bad) => {
    const peer = await open(A);
    const strikes = typeof bad(A) === "string" ? 8 : 1;
    // Delivered back to back, as a socket's frames queue up behind the one being handled.
    const queued = [...Array.from({ length: strikes }, () => peer.deliver(bad(A))), peer.deliver({ type: "push", batch_id: f.nextId(), events: [f.createProject(A)] })];
    await Promise.all(queued);
    expect(peer.closed?.code).toBe(strikes === 1 ? 4012 : 4013);
    expect(r.core.head()).toBe(0);
  });

});

describe("push, verdicts and live fan-out", () => {
  it("pokes instead of broadcasting a change too large for a frame", async () => {
    const a = await open(A);
    const b = await open(B);
    const items = Array.from({ length: 8_000 }, (_, i) => ({ sha256: i.toString(16).padStart(64, "0"), file_name: `IMG_${i}.CR3`, size_bytes: i, note: null }));
    const create = { ...f.createProject(A), payload: { ...f.createProject(A).payload as object, media_selection: { items } } };
    const text = JSON.stringify({ type: "push", batch_id: f.nextId(), events: [create] });
    expect(text.length).toBeGreaterThan(FRAME_LIMIT_BYTES);
    for (const chunk of await splitIntoChunks(text, f.nextId() as TransferId)) await a.deliver(chunk);
    const toA = await a.received();
    expect(toA.map((m) => m.type)).toEqual(["upload_state", "upload_state", "verdicts", "poke"]);
    expect(await only(b, "poke")).toEqual({ type: "poke", head: 1 });
    // The pull answer is itself larger than a frame: it arrives in chunks and reassembles.
    await b.deliver({ type: "pull", request_id: crypto.randomUUID(), since: 0, limit: 10 });
    expect(b.sent.length).toBeGreaterThan(3);
    const page = await only(b, "changes");
    expect((page.changes[0] as Change).entity).toMatchObject({ data: { media_selection: { items } } });
  });
});

describe("chunked uploads", () => {
  it("resumes after a dropped connection at the chunk the server asks for", async () => {
    const { event, text } = bigPush();
    const transfer = f.nextId() as TransferId;
    const chunks = await splitIntoChunks(text, transfer);
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    const first = await open(A);
    await first.deliver(chunks[0]);
    await first.deliver(chunks[1]);
    first.close(1006, "network lost");
    const second = await open(A);
    await second.deliver({ type: "upload_query", transfer_id: transfer });
    expect(await only(second, "upload_state")).toMatchObject({ next_index: 2, complete: false });
    for (const chunk of chunks.slice(2)) await second.deliver(chunk);
    const messages = await second.received();
    const verdicts = messages.find((m) => m.type === "verdicts");
    expect(verdicts).toMatchObject({ verdicts: [{ event_id: event.id, status: "confirmed", seq: 1 }] });
    expect(r.sql.one<{ n: number }>("SELECT COUNT(*) AS n FROM upload_chunks")!.n).toBe(0);
  });

  it("expires an unfinished upload", async () => {
    const { text } = bigPush();
    const chunks = await splitIntoChunks(text, f.nextId() as TransferId);
    const peer = await open(A);
    await peer.deliver(chunks[0]);
    r.advance(25 * 60 * 60 * 1000);
    await peer.deliver(chunks[1]);
    expect(peer.closed).toEqual({ code: 4015, reason: "token_expired" });
    // A fresh token: the test connection's token expired too.
    const again = r.connect(A, "owner", 3600);
    await again.deliver(hello(A));
    await again.deliver(chunks[1]);
    const messages = await again.received();
    expect(messages.at(-1)).toMatchObject({ type: "error", code: "transfer_expired", message: expect.stringMatching(/start again at chunk 0/) });
    expect(r.sql.one<{ n: number }>("SELECT COUNT(*) AS n FROM upload_chunks")!.n).toBe(0);
  });
});

describe("per-device bounds (I12)", () => {
  it("a device starting more uploads than its quota abandons its oldest, so storage stays bounded", async () => {
    const peer = await open(A);
    for (let i = 0; i < 6; i++) {
      const { text } = bigPush(5_000); // ~1.1 MB: two chunks, enough for an upload in progress
      const chunks = await splitIntoChunks(text, f.nextId() as TransferId);
      await peer.deliver(chunks[0]);
    }
    expect(r.sql.one<{ n: number }>("SELECT COUNT(*) AS n FROM uploads WHERE device_id = ?", A)!.n).toBe(MAX_OPEN_UPLOADS_PER_DEVICE);
    expect(r.sql.one<{ n: number }>("SELECT COUNT(*) AS n FROM upload_chunks")!.n).toBe(MAX_OPEN_UPLOADS_PER_DEVICE);
    // Another device's uploads are its own quota.
    const other = await open(B);
    await other.deliver((await splitIntoChunks(bigPush(5_000).text, f.nextId() as TransferId))[0]);
    expect(r.sql.one<{ n: number }>("SELECT COUNT(*) AS n FROM uploads")!.n).toBe(MAX_OPEN_UPLOADS_PER_DEVICE + 1);
  });

  it("a connection that never reads is fed a bounded amount, then closed as slow_consumer; one that pulls on a poke is not", async () => {
    const writer = await open(A);
    const deaf = await open(B);
    const honest = await open(C);
    let pulls = 0;
    const step = async (events: SyncEvent[]) => {
      await writer.deliver({ type: "push", batch_id: f.nextId(), events });
      await writer.received();
      // The honest device answers a poke by pulling (a frame), as the desktop does.
      const got = await honest.received();
      if (got.some((m) => m.type === "poke")) {
        pulls++;
        await honest.deliver({ type: "pull", request_id: crypto.randomUUID(), since: 0, limit: 1 });
        await honest.received();
      }
    };
    // ~1.4 MB of live changes, then single sales until the deaf connection is given up on.
    for (let i = 0; i < 10; i++) await step(Array.from({ length: 200 }, (_, j) => f.sale(A, undefined, `A-${i}-${j}`)));
    for (let i = 0; i < 2 * MAX_UNANSWERED_POKES && !deaf.closed; i++) await step([f.sale(A, undefined, `B-${i}`)]);
    expect(deaf.closed).toEqual({ code: 4017, reason: "slow_consumer" });
    const deafBytes = deaf.sent.reduce((n, t) => n + t.length, 0);
    expect(deafBytes).toBeLessThan(LIVE_UNREAD_BUDGET_BYTES + (MAX_UNANSWERED_POKES + 8) * 100);
    expect(honest.closed).toBeNull();
    expect(pulls).toBeGreaterThan(0);
    expect(writer.closed).toBeNull();
  });
});

describe("large answers", () => {
  it("sends a large entity once per push, not once per rejection, and none with permission_denied (no amplification)", async () => {
    const a = await open(A);
    const items = Array.from({ length: 9_000 }, (_, i) => ({ sha256: i.toString(16).padStart(64, "0"), file_name: `IMG_${i}.CR3`, size_bytes: i, note: null }));
    const base = f.createProject(A);
    const create = { ...base, payload: { ...(base.payload as object), media_selection: { items } } };
    for (const chunk of await splitIntoChunks(JSON.stringify({ type: "push", batch_id: f.nextId(), events: [create] }), f.nextId() as TransferId)) {
      await a.deliver(chunk);
    }
    await a.received();
    // Ten stale edits of the ~1 MB project: before v3 each rejection carried it (~10 MB back for a
    // push of ~2 KB). Now the first carries it and the other nine point the device at it.
    const stale = Array.from({ length: 10 }, (_, i) => f.updateProject(A, create.entity_id, { title: `t${i}` }, { base: 7 }));
    const sentBefore = a.sent.length;
    await a.deliver({ type: "push", batch_id: f.nextId(), events: stale });
    const verdictBytes = a.sent.slice(sentBefore).reduce((n, text) => n + text.length, 0);
    const messages = (await a.received()).filter((m) => m.type === "verdicts");
    const verdicts = messages.flatMap((m) => (m.type === "verdicts" ? m.verdicts : []));
    expect(verdicts.map((v) => v.event_id)).toEqual(stale.map((e) => e.id));
    expect(verdicts.map((v) => v.status === "rejected" && v.code)).toEqual(stale.map(() => "version_conflict"));
    expect(verdicts.map((v) => (v.status === "rejected" ? v.server_entity?.version ?? null : "confirmed"))).toEqual([1, ...stale.slice(1).map(() => null)]);
    // One copy of the entity (as the chunked transfer carries it: base64 of its JSON) plus ~1 KB per verdict.
    const entityBytes = JSON.stringify(verdicts[0]!.status === "rejected" ? verdicts[0]!.server_entity : null).length;
    expect(verdictBytes).toBeLessThan(entityBytes * 1.4 + 10 * 1_000);
    // A viewer's edits of the same project are refused without the project at all.
    const viewer = await open(B, "viewer");
    const viewerBefore = viewer.sent.length;
    await viewer.deliver({ type: "push", batch_id: f.nextId(), events: Array.from({ length: 10 }, (_, i) => f.updateProject(B, create.entity_id, { title: `v${i}` }, { base: 1 })) });
    const denied = (await viewer.received()).flatMap((m) => (m.type === "verdicts" ? m.verdicts : []));
    expect(denied.map((v) => (v.status === "rejected" ? [v.code, v.server_entity] : v.status))).toEqual(Array.from({ length: 10 }, () => ["permission_denied", null]));
    expect(viewer.sent.slice(viewerBefore).reduce((n, text) => n + text.length, 0)).toBeLessThan(10 * 1_000);
  });

  it("splits verdicts that do not fit one message into several, in order", () => {
    const verdict = (i: number) => ({ event_id: `e${i}`, status: "rejected", code: "version_conflict", message: "x".repeat(400), detail: null, server_entity: null }) as Verdict;
    const groups = splitVerdicts(Array.from({ length: 10 }, (_, i) => verdict(i)), 1_500);
    expect(groups.length).toBeGreaterThan(1);
    expect(groups.flat().map((v) => v.event_id)).toEqual(Array.from({ length: 10 }, (_, i) => `e${i}`));
  });
});

describe("watchers (protocol v6)", () => {
  const watch = async (device: string, role: Parameters<typeof r.connect>[1] = "viewer") => {
    const peer = await open(device, role);
    await peer.deliver({ type: "watch", request_id: f.nextId() });
    await only(peer, "watching");
    return peer;
  };

  it("a device whose connection closes is observed gone, and was last seen then", async () => {
    const viewer = await watch(C);
    const till = await open(A);
    await viewer.received();
    r.advance(90_000);
    till.close(1006, "network"); // the runtime saw the socket go, then tells the room (onClose)
    await r.room.closed(till);
    const gone = await only(viewer, "observed");
    expect(gone.devices).toEqual([expect.objectContaining({ device_id: A, connected: false, last_seen_at: new Date(r.core.nowMs()).toISOString() })]);
    // Closed twice (the runtime may report it again): nothing more to tell.
    await r.room.closed(till);
    expect(await viewer.received()).toEqual([]);
  });

  it("a device with another connection open stays connected when one closes", async () => {
    const viewer = await watch(C);
    // A v2 client (no install) connecting again replaces its older connection: connected throughout.
    const v2 = r.connect(B);
    await v2.deliver(hello(B, 2));
    await viewer.received();
    const again = r.connect(B);
    await again.deliver(hello(B, 2));
    const observed = (await viewer.received()).filter((m) => m.type === "observed");
    expect(observed.at(-1)!.type === "observed" && observed.at(-1)!.devices).toEqual([expect.objectContaining({ device_id: B, connected: true })]);
  });

  it("a revocation over HTTP and rejections pushed outside the socket reach watchers after the request; past the bound, more_rejections", async () => {
    const viewer = await watch(C, "manager");
    r.room.disconnectDevice(A, "device_revoked", "stolen");
    r.core.revokeDevice({ device_id: C as never, user_id: "mgr" as never, role: "manager" }, A, "stolen");
    await r.room.tellWatchers();
    const revoked = await only(viewer, "observed");
    expect(revoked.devices).toEqual([expect.objectContaining({ device_id: A, revoked_at: expect.any(String), revoke_reason: "stolen" })]);
    for (let i = 0; i < 2; i++) r.core.push({ device_id: B as never, user_id: "u" as never, role: "viewer" }, Array.from({ length: 150 }, () => f.createProject(B)));
    await r.room.tellWatchers();
    const many = await only(viewer, "observed");
    expect(many.rejections.length).toBe(200);
    expect(many.more_rejections).toBe(true);
    expect(many.rejections[0]!.id).toBe(1);
  });

  it("tracks a device's cursor from the since of its pulls", async () => {
    const a = await open(A);
    await a.deliver({ type: "push", batch_id: f.nextId(), events: [f.createProject(A), f.createProject(A)] });
    await a.received();
    const viewer = await watch(C);
    await a.deliver({ type: "pull", request_id: f.nextId(), since: 2, limit: 10 });
    expect((await only(viewer, "observed")).devices).toEqual([expect.objectContaining({ device_id: A, cursor: 2 })]);
    await a.deliver({ type: "pull", request_id: f.nextId(), since: 2, limit: 10 });
    expect(await viewer.received()).toEqual([]); // the same cursor again: nothing changed
  });

  it("a watch resets the malformed-frame count like any valid frame", async () => {
    const viewer = await open(C, "viewer");
    for (let i = 0; i < 2; i++) await viewer.deliver("not json");
    await viewer.deliver({ type: "watch", request_id: f.nextId() });
    for (let i = 0; i < MAX_STRIKES - 1; i++) await viewer.deliver("not json");
    expect(viewer.closed).toBeNull();
    expect((await viewer.received()).map((m) => m.type)).toEqual(["error", "error", "watching", ...Array.from({ length: MAX_STRIKES - 1 }, () => "error")]);
  });

  it("so does a hello: malformed frames before it do not count after it", async () => {
    const peer = r.connect(A);
    for (let i = 0; i < 2; i++) await peer.deliver("not json");
    await peer.deliver(hello(A));
    for (let i = 0; i < MAX_STRIKES - 1; i++) await peer.deliver("not json");
    expect(peer.closed).toBeNull();
  });

  it("a message whose handling fails while storage fails closes that connection only: the room goes on", async () => {
    const a = await open(A);
    const b = await open(B);
    const core = r.core as unknown as { pull: () => never; pullText: () => never; recordGone: () => never };
    const [pull, pullText, gone] = [core.pull, core.pullText, core.recordGone];
    core.pull = () => {
      throw new Error("disk I/O error");
    };
    core.pullText = core.recordGone = core.pull;
    await a.deliver({ type: "pull", request_id: f.nextId(), since: 0, limit: 10 }).catch(() => {});
    expect(a.closed).toEqual({ code: 1011, reason: "internal_error" });
    Object.assign(core, { pull, pullText, recordGone: gone });
    await b.deliver({ type: "ping", nonce: 5 });
    expect(await b.received()).toEqual([{ type: "pong", nonce: 5 }]);
  });

  it.each([1, 2, 3])("seed %i: a watcher is told every rejection once, in decision order, and ends with every device as stored", async (seed) => {
    const prng = new Prng(seed, "watchers");
    const viewer = await watch(C, "manager");
    const devices = [A, B];
    const peers = new Map<string, MemoryPeer>();
    const told: RejectionSummary[] = [];
    const presence = new Map<string, DevicePresence>();
    const read = async () => {
      for (const m of await viewer.received()) {
        if (m.type !== "observed") continue;
        expect(m.more_rejections).toBe(false);
        told.push(...m.rejections);
        for (const d of m.devices) presence.set(d.device_id, d);
      }
    };
    const projects: string[] = [];
    for (let step = 0; step < 40; step++) {
      const device = devices[prng.int(0, devices.length - 1)]!;
      let peer = peers.get(device);
      if (!peer || peer.closed) {
        peer = await open(device, prng.chance(0.3) ? "viewer" : "owner");
        peers.set(device, peer);
      }
      const roll = prng.int(0, 3);
      if (roll === 0) {
        const events = Array.from({ length: prng.int(1, 4) }, () => {
          const existing = projects[prng.int(0, Math.max(0, projects.length - 1))];
          if (existing && prng.chance(0.5)) return f.updateProject(device, existing, { title: `t${step}` }, { base: prng.int(1, 3) });
          const created = f.createProject(device);
          projects.push(created.entity_id);
          return created;
        });
        await peer.deliver({ type: "push", batch_id: f.nextId(), events });
      } else if (roll === 1) {
        await peer.deliver({ type: "status", cursor: r.core.head(), queue: { pending: prng.int(0, 9), oldest_pending_age_ms: prng.int(0, 60_000) } });
      } else if (roll === 2) {
        peer.close(1006, "network");
        await r.room.closed(peer);
      } else {
        r.advance(prng.int(1, 5_000));
        await peer.deliver({ type: "pull", request_id: f.nextId(), since: prng.int(0, r.core.head()), limit: 10 });
      }
      await read();
    }
    const stored = r.core.dashboard.rejections({}, null, 200);
    expect(told.length).toBeGreaterThan(0);
    expect(presence.size).toBe(devices.length);
    expect(told.map((x) => x.id)).toEqual(stored.rejections.map((x) => x.id).reverse());
    expect(told).toEqual([...stored.rejections].reverse());
    const now = r.core.dashboard.devices(r.room.connectedDevices());
    for (const device of devices) {
      const latest = now.devices.find((d) => d.device_id === device);
      if (latest) expect(presence.get(device), device).toEqual(latest);
    }
  });

  it("reads a session attached before v6 as not watching", () => {
    const identity = { device_id: A, user_id: "u", role: "owner", expires_at_ms: 1 };
    expect(readSession({ ...identity, state: "open", protocol_version: 5, install_id: null, strikes: 0 })).toMatchObject({ state: "open", watching: false });
    expect(readSession({ ...identity, open: true, protocol_version: 4, strikes: 0 })).toMatchObject({ state: "open", watching: false });
    expect(readSession({ ...identity, state: "open", protocol_version: 6, install_id: null, strikes: 0, watching: true })).toMatchObject({ watching: true });
  });
});
