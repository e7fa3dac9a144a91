/**
 * The real session (desktop/sync/session.ts) run by the sync machine against the real branch room
 * over in-memory sockets (test/support/memory-room.ts), with timers moved by hand: the pong
 * deadline, and errors matched to the request they answer (`in_reply_to`). The room sends
 * `in_reply_to: null` until it correlates, so errors that name a request are scripted here, on top
 * of the room's real frames. And the transport's reading of a refused upgrade, against a real HTTP
 * server on loopback.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createActor } from "xstate";
import { PONG_TIMEOUT_MS, sessionActor } from "../../../desktop/sync/session.js";
import { openPartySocket } from "../../../desktop/sync/transport.js";
import type { LocalStore } from "../../../desktop/store/local-store.js";
import { backoffDelayMs, HEARTBEAT_MS, syncMachine, syncStateName } from "../../../machines/index.js";
import { CLOSE_CODES } from "../../../protocol/close-codes.js";
import type { Chunk } from "../../../protocol/index.js";
import * as ex from "../../fixtures/examples.js";
import { DEVICES } from "../../support/branch.js";
import { openStore } from "../../support/desktop.js";
import { makeRoom } from "../../support/memory-room.js";
import { ManualTimers, roomLink, sentOfType, settle } from "../../support/session-link.js";

const stores: LocalStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

async function setup(opts: { uploads?: Map<string, Chunk[]> } = {}) {
  const room = makeRoom();
  const { store } = await openStore({ device: DEVICES.A });
  stores.push(store);
  const link = roomLink(room, DEVICES.A);
  const timers = new ManualTimers();
  const logs: string[] = [];
  const uploads = opts.uploads ?? new Map<string, Chunk[]>();
  const machine = syncMachine.provide({
    actors: { session: sessionActor({ store, openSocket: link.open, uploads, app: "test/1", timers, onLog: (line) => logs.push(line) }) },
  });
  const actor = createActor(machine, { input: { online: true, needsBootstrap: false, random: () => 1 }, clock: timers }).start();
  await settle();
  return {
    room,
    store,
    link,
    timers,
    logs,
    uploads,
    actor,
    get state() {
      return syncStateName(actor.getSnapshot());
    },
    get context() {
      return actor.getSnapshot().context;
    },
  };
}


describe("the pong deadline", () => {
  it("a healthy connection stays live across heartbeats: every ping is answered in time", async () => {
    const t = await setup();
    expect(t.state).toBe("online.live");
    for (let i = 0; i < 5; i++) await t.timers.advance(HEARTBEAT_MS + PONG_TIMEOUT_MS);
    expect(t.state).toBe("online.live");
    expect(sentOfType(t.link.sent, "ping").length).toBeGreaterThanOrEqual(5);
    expect(t.link.sockets).toBe(1);
  });

  it("a socket that stops answering is closed PONG_TIMEOUT_MS after the ping; the machine backs off and reconnects", async () => {
    const t = await setup();
    expect(t.state).toBe("online.live");
    t.link.silent = true; // half-open: the server and everything between are gone without a word
    await t.timers.advance(HEARTBEAT_MS);
    expect(sentOfType(t.link.sent, "ping")).toEqual([{ type: "ping", nonce: 0 }]);
    await t.timers.advance(PONG_TIMEOUT_MS - 1);
    expect(t.state).toBe("online.live");
    await t.timers.advance(1);
    expect(t.link.closes).toEqual([{ code: 1000, reason: "pong_timeout" }]);
    expect(t.state).toBe("backoff");
    expect(t.context.lastClose).toEqual({ code: 1000, reason: "pong_timeout" });
    expect(t.logs.some((l) => l.includes("no frame within"))).toBe(true);

    t.link.silent = false;
    await t.timers.advance(backoffDelayMs(1, () => 1));
    await settle();
    expect(t.link.sockets).toBe(2);
    expect(t.state).toBe("online.live");
  });

  it("any frame meets the deadline, not only the pong", async () => {
    const t = await setup();
    t.link.hold = (frame) => frame.type === "ping"; // pings go unanswered, other frames arrive
    await t.timers.advance(HEARTBEAT_MS);
    await t.timers.advance(PONG_TIMEOUT_MS - 1);
    t.link.inject({ type: "poke", head: 0 });
    await settle();
    await t.timers.advance(1);
    expect(t.state).toBe("online.live");
    expect(t.link.closes).toEqual([]);
  });
});

describe("errors matched to the request they answer (in_reply_to)", () => {
  it("an error naming the push in flight is reported against that push", async () => {
    const t = await setup();
    t.link.hold = (frame) => frame.type === "push";
    expect(t.store.createProject(ex.project).ok).toBe(true);
    t.actor.send({ type: "LOCAL_WRITE" });
    await settle();
    expect(t.state).toBe("online.awaitingVerdicts");
    const [push] = sentOfType(t.link.sent, "push");
    t.link.inject({ type: "error", code: "malformed_message", message: "events: Invalid input", fatal: false, in_reply_to: push!.batch_id });
    await settle();
    expect(t.context.lastError).toBe(`malformed_message (answering push ${push!.batch_id}): events: Invalid input`);
    expect(t.logs).toContain(`server error malformed_message answering push ${push!.batch_id}: events: Invalid input`);
    // The events stay pending; the machine still waits for verdicts (and times out as before).
    expect(t.state).toBe("online.awaitingVerdicts");
    expect(t.store.summary().pending + t.store.queueCounts().sent).toBeGreaterThan(0);
  });

  it("an error naming the pull in flight is reported against that pull", async () => {
    const t = await setup();
    t.link.hold = (frame) => frame.type === "pull";
    t.link.inject({ type: "poke", head: 5 }); // news: the machine pulls
    await settle();
    expect(t.state).toBe("online.pulling");
    const pull = sentOfType(t.link.sent, "pull").at(-1)!;
    t.link.inject({ type: "error", code: "malformed_message", message: "limit: too big", fatal: false, in_reply_to: pull.request_id });
    await settle();
    expect(t.context.lastError).toBe(`malformed_message (answering pull ${pull.request_id}): limit: too big`);
  });

  it("an in_reply_to that names nothing in flight is logged and ignored", async () => {
    const t = await setup();
    const stale = ex.ids.request;
    t.link.inject({ type: "error", code: "malformed_message", message: "stale", fatal: false, in_reply_to: stale });
    await settle();
    expect(t.context.lastError).toBeNull();
    expect(t.logs).toContain(`server error malformed_message answering ${stale}, which is no request in flight: ignored: stale`);
    expect(t.state).toBe("online.live");
  });

  it("an error without in_reply_to is reported as before, against no request", async () => {
    const t = await setup();
    t.link.inject({ type: "error", code: "malformed_message", message: "not JSON", fatal: false, in_reply_to: null });
    await settle();
    expect(t.context.lastError).toBe("malformed_message: not JSON");
    expect(t.state).toBe("online.live");
  });

  it("an upload error naming one upload forgets that upload only; without a name, every upload", async () => {
    const other: Chunk[] = [];
    const named = await setup({ uploads: new Map([[ex.ids.transfer, other]]) });
    named.link.hold = (frame) => frame.type === "push";
    expect(named.store.createProject(ex.project).ok).toBe(true);
    named.actor.send({ type: "LOCAL_WRITE" });
    await settle();
    const [push] = sentOfType(named.link.sent, "push");
    named.uploads.set(push!.batch_id, []);
    named.link.inject({ type: "error", code: "transfer_expired", message: "expired", fatal: false, in_reply_to: push!.batch_id });
    await settle();
    expect([...named.uploads.keys()]).toEqual([ex.ids.transfer]);
    expect(named.link.closes).toEqual([{ code: 1000, reason: "upload_restart" }]);
    expect(named.state).toBe("backoff");

    const unnamed = await setup({ uploads: new Map([[ex.ids.transfer, other]]) });
    unnamed.link.inject({ type: "error", code: "transfer_expired", message: "expired", fatal: false });
    await settle();
    expect(unnamed.uploads.size).toBe(0);
    expect(unnamed.link.closes).toEqual([{ code: 1000, reason: "upload_restart" }]);
  });
});

describe("the transport reads a refused upgrade's HTTP status", () => {
  let server: Server | null = null;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  async function refusingWith(status: number): Promise<string> {
    server = createServer();
    server.on("upgrade", (_request, socket) => socket.end(`HTTP/1.1 ${status} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/branches/b/sync`;
  }

  function closeOf(url: string): Promise<{ code: number; reason: string }> {
    return new Promise((resolve) => {
      openPartySocket(5_000)(url, { open: () => {}, message: () => {}, closed: (code, reason) => resolve({ code, reason }) });
    });
  }

  it.each([
    [401, { code: CLOSE_CODES.unauthorized, reason: "unauthorized" }],
    [403, { code: CLOSE_CODES.forbidden, reason: "forbidden" }],
    [429, { code: 1006, reason: "http_429" }],
    [503, { code: 1006, reason: "http_503" }],
  ])("HTTP %i", async (status, close) => {
    expect(await closeOf(await refusingWith(status))).toEqual(close);
  });

  it("a connection refused outright is an abnormal close", async () => {
    const url = await refusingWith(401);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = null;
    expect(await closeOf(url)).toEqual({ code: 1006, reason: "connection_lost" });
  });
});
