/**
 * What a desktop tells its branch about itself (protocol v6): its queue in the hello, and `status`
 * (cursor + queue) while connected, when the queue changes (at most once per
 * STATUS_MIN_INTERVAL_MS, the last change always told) and every STATUS_INTERVAL_MS. The real
 * SyncEngine and session on a real SQLite store, against the real branch room over in-memory
 * sockets, on fake time (the store's clock follows the timers). The frames the device sends are
 * read as they leave it. And the store's queue report, read from its index alone.
 */
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { LocalStore } from "../../../desktop/store/local-store.js";
import { LAST_CONFIRMED_SQL, QUEUE_REPORT_SQL } from "../../../desktop/store/queue-read.js";
import { SyncEngine } from "../../../desktop/sync/engine.js";
import { HEARTBEAT_MS } from "../../../machines/index.js";
import { type ClientMessage, STATUS_INTERVAL_MS, STATUS_MIN_INTERVAL_MS } from "../../../protocol/index.js";
import { actor, DEVICES, makeCore } from "../../support/branch.js";
import { makeEventFactory } from "../../support/events.js";
import { openStore, tempDbPath } from "../../support/desktop.js";
import { makeRoom } from "../../support/memory-room.js";
import { ManualTimers, memoryDeviceStore, noSnapshot, roomLink, sentOfType, settle } from "../../support/session-link.js";

const T0 = Date.UTC(2026, 10, 25, 4, 0, 0);

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function sale(store: LocalStore) {
  const result = store.posSale({ currency: "LKR", lines: [{ sku: null, description: "Print", quantity: 1, unit_price_minor: 100 }], method: "cash", tendered_minor: null });
  if (!result.ok) throw new Error(result.error.message);
}

/**
 * A device on fake time: its store's clock is T0 plus the timers' time. `online: false` leaves the
 * engine unstarted (writes queue up); `start()` connects it.
 */
async function device(opts: { hold?: (frame: ClientMessage) => boolean } = {}) {
  const room = makeRoom();
  const timers = new ManualTimers();
  const store = await memoryDeviceStore("status", timers);
  const link = roomLink(room, DEVICES.A);
  link.hold = (frame) => opts.hold?.(frame) ?? false;
  const logs: string[] = [];
  const engine = new SyncEngine({
    store,
    openSocket: link.open,
    timers,
    random: () => 1,
    onLog: (line) => logs.push(line),
    fetch: noSnapshot,
  });
  cleanups.push(() => {
    engine.stop();
    store.close();
    room.close();
  });
  return {
    room,
    store,
    link,
    timers,
    engine,
    logs,
    async start() {
      engine.start();
      await settle();
    },
    /** A sale rung up now, and the engine told (as the app does after every write). */
    async write(n = 1) {
      for (let i = 0; i < n; i++) {
        sale(store);
        engine.notifyWrite();
      }
      await settle();
    },
    statuses: () => sentOfType(link.sent, "status"),
    hello: () => sentOfType(link.sent, "hello").at(-1),
  };
}

describe("the hello carries the queue", () => {
  it("an empty queue: nothing pending, no age", async () => {
    const d = await device();
    await d.start();
    expect(d.engine.status().kind).toBe("live");
    expect(d.hello()?.queue).toEqual({ pending: 0, oldest_pending_age_ms: null });
  });

  it("a backlog written offline: its count, and how long the first of it has waited by the device's clock", async () => {
    const d = await device();
    sale(d.store);
    await d.timers.advance(5_000);
    sale(d.store);
    sale(d.store);
    await d.timers.advance(55_000);
    await d.start();
    expect(d.hello()?.queue).toEqual({ pending: 3, oldest_pending_age_ms: 60_000 });
  });
});

describe("status while connected", () => {
  it("a write is told at once, with the cursor; a burst within the second after it goes out as one trailing report", async () => {
    const d = await device({ hold: (frame) => frame.type === "push" }); // the queue stays: no verdict comes
    await d.start();
    await d.timers.advance(5_000);
    await d.write();
    expect(d.statuses()).toEqual([{ type: "status", cursor: d.store.cursor(), queue: { pending: 1, oldest_pending_age_ms: 0 }, pos_days: d.store.tillDays() }]);

    await d.timers.advance(200);
    await d.write(19);
    expect(d.statuses()).toHaveLength(1);
    await d.timers.advance(STATUS_MIN_INTERVAL_MS - 200 - 1);
    expect(d.statuses()).toHaveLength(1);
    await d.timers.advance(1);
    expect(d.statuses()).toHaveLength(2);
    expect(d.statuses()[1]!.queue).toEqual({ pending: 20, oldest_pending_age_ms: STATUS_MIN_INTERVAL_MS });
    // The branch keeps it: the dashboard's presence of the device says so.
    const [presence] = d.room.core.presenceOf([DEVICES.A], new Set([DEVICES.A]));
    expect(presence).toMatchObject({ pending: 20, cursor: d.store.cursor() });
  });

  it("the hello is no status: a backlog pushed on reconnect is told drained, and caught up, as soon as its verdicts are in", async () => {
    const d = await device();
    await d.write(3); // offline: queued
    expect(d.store.queueReport().pending).toBe(3);
    await d.start(); // hello (3 waiting), welcome, push, verdicts, pull: all without time passing
    expect(d.hello()?.queue?.pending).toBe(3);
    expect(d.store.queueReport().pending).toBe(0);
    // v11: the verdicts moved the cursor over its own commits (echo off): the drained report already
    // says it is caught up, and nothing is left to tell a second later.
    expect(d.store.cursor()).toBe(3);
    expect(d.statuses()).toEqual([{ type: "status", cursor: 3, queue: { pending: 0, oldest_pending_age_ms: null }, pos_days: d.store.tillDays() }]);
    await d.timers.advance(STATUS_MIN_INTERVAL_MS);
    expect(d.statuses()).toHaveLength(1);
  });

  it("another device's changes arriving live move the cursor, told within STATUS_MIN_INTERVAL_MS: the dashboard never shows an up-to-date device as behind", async () => {
    const d = await device();
    await d.start();
    await d.timers.advance(5_000);
    const before = d.statuses().length;
    // Another till sells twice; each commit reaches this device live, as the room broadcasts it.
    const events = makeEventFactory(31);
    for (const n of [1, 2]) {
      const outcome = d.room.core.push(actor(DEVICES.B), [events.sale(DEVICES.B, undefined, `T2-00000${n}`)]);
      d.link.inject({ type: "live", changes: outcome.changes.map((c) => c.change), head: outcome.changes.at(-1)!.change.seq });
      await settle();
    }
    expect(d.store.cursor()).toBe(2);
    await d.timers.advance(STATUS_MIN_INTERVAL_MS);
    expect(d.statuses().slice(before).map((s) => s.cursor)).toEqual([1, 2]);
    const [presence] = d.room.core.presenceOf([DEVICES.A], new Set([DEVICES.A]));
    expect(presence).toMatchObject({ cursor: 2 });
  });

  it("verdicts that empty the queue are told within STATUS_MIN_INTERVAL_MS", async () => {
    const d = await device();
    await d.start();
    await d.timers.advance(5_000);
    await d.write();
    await d.timers.advance(0);
    expect(d.store.queueReport().pending).toBe(0); // pushed and confirmed
    expect(d.statuses().map((s) => s.queue.pending)).toEqual([1]);
    await d.timers.advance(STATUS_MIN_INTERVAL_MS);
    expect(d.statuses().map((s) => s.queue)).toEqual([
      { pending: 1, oldest_pending_age_ms: 0 },
      { pending: 0, oldest_pending_age_ms: null },
    ]);
    expect(d.statuses()[1]!.cursor).toBe(d.store.cursor());
  });

  it("with nothing to tell, the last report is repeated every STATUS_INTERVAL_MS, and nothing more", async () => {
    const d = await device();
    await d.start();
    await d.timers.advance(3 * STATUS_INTERVAL_MS + 1_000);
    expect(d.statuses()).toHaveLength(3);
    expect(new Set(d.statuses().map((s) => JSON.stringify(s)))).toEqual(new Set([JSON.stringify({ type: "status", cursor: 0, queue: { pending: 0, oldest_pending_age_ms: null }, pos_days: [] })]));
    expect(sentOfType(d.link.sent, "ping").length).toBeGreaterThanOrEqual(Math.floor((3 * STATUS_INTERVAL_MS) / HEARTBEAT_MS) - 1); // the heartbeat is unchanged
  });

  it("a write by another process, which the engine is not told of, is noticed by its queue poll", async () => {
    const d = await device({ hold: (frame) => frame.type === "push" });
    await d.start();
    await d.timers.advance(5_000);
    // The CLI beside the app writes to the same file.
    const { store: cli } = await openStore({ device: DEVICES.A, path: d.store.path });
    cleanups.push(() => cli.close());
    sale(cli);
    await d.timers.advance(2_000);
    expect(d.statuses().map((s) => s.queue.pending)).toEqual([1]);
  });

  it("nothing is told before the hello is welcomed, nor after the connection closed", async () => {
    const d = await device({ hold: (frame) => frame.type === "hello" });
    await d.start();
    expect(d.engine.status().kind).toBe("connecting"); // handshaking: the welcome never comes
    await d.write();
    await d.timers.advance(10_000);
    expect(d.statuses()).toEqual([]);

    const e = await device();
    await e.start();
    await e.timers.advance(5_000);
    e.engine.setOnline(false);
    await settle();
    await e.write();
    await e.timers.advance(2 * STATUS_INTERVAL_MS);
    expect(e.statuses()).toEqual([]);
  });

  it("watching and observed, which a desktop never asks for, are logged and otherwise ignored", async () => {
    const d = await device();
    await d.start();
    d.link.inject({ type: "watching", request_id: crypto.randomUUID(), head: 0, server_time_ms: T0, audit_head: 0, devices: [] });
    d.link.inject({ type: "observed", head: 0, server_time_ms: T0, audit_head: 0, devices: [], rejections: [], more_rejections: false });
    await settle();
    expect(d.engine.status().kind).toBe("live");
    expect(d.logs.filter((l) => l.includes("watches nothing"))).toHaveLength(2);
    expect(d.link.closes).toEqual([]);
  });
});

describe("the store's queue report", () => {
  it("counts pending and sent events, not decided ones, and ages the first written", async () => {
    const { store, advance } = await openStore({ device: DEVICES.A });
    cleanups.push(() => store.close());
    expect(store.queueReport()).toEqual({ pending: 0, oldest_pending_age_ms: null });
    sale(store);
    advance(1_000);
    sale(store);
    advance(2_000);
    expect(store.queueReport()).toEqual({ pending: 2, oldest_pending_age_ms: 3_000 });
    const batch = store.nextBatch(1)!; // the first is sent: still waiting for its verdict
    expect(store.queueReport()).toEqual({ pending: 2, oldest_pending_age_ms: 3_000 });
    const branch = makeCore();
    cleanups.push(() => branch.close());
    store.applyVerdicts(batch.batch_id, branch.core.push(actor(DEVICES.A), batch.events as never).verdicts);
    expect(store.queueReport()).toEqual({ pending: 1, oldest_pending_age_ms: 2_000 });
  });

  it("the sync summary's last confirmation is one probe of queue_by_status, not a walk of every confirmed event", () => {
    const path = tempDbPath("last-confirmed-plan");
    LocalStore.open(path).close();
    const db = new Database(path, { readonly: true });
    try {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${LAST_CONFIRMED_SQL}`).all() as Array<{ detail: string }>).map((r) => r.detail);
      expect(plan).toEqual(["SEARCH sync_queue USING INDEX queue_by_status (sync_status=?)"]);
    } finally {
      db.close();
    }
  });

  it("reads queue_by_status only: the count from the index, one row for the age", () => {
    const path = tempDbPath("queue-report-plan");
    LocalStore.open(path).close();
    const db = new Database(path, { readonly: true });
    try {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${QUEUE_REPORT_SQL}`).all() as Array<{ detail: string }>).map((r) => r.detail);
      expect(plan.filter((step) => step.startsWith("SEARCH sync_queue USING COVERING INDEX queue_by_status (sync_status=?)"))).toHaveLength(2);
      expect(plan).toContain("SEARCH sync_queue USING INTEGER PRIMARY KEY (rowid=?)");
      expect(plan.some((step) => step.startsWith("SCAN sync_queue"))).toBe(false);
    } finally {
      db.close();
    }
  });
});
