/**
 * A till's account of its business days on the wire (issue 19, protocol v10): `pos_days` in the
 * hello and in every `status`, a changed list told like a changed queue, and the branch's
 * `day_report` answered at once with a status, so the branch confirms the till for the day right
 * after the close. The real SyncEngine and session on a real SQLite store, against the real branch
 * room over in-memory sockets, on fake time (the store's clock follows the timers).
 */
import { afterEach, describe, expect, it } from "vitest";
import { LocalStore } from "../../../desktop/store/local-store.js";
import { SyncEngine } from "../../../desktop/sync/engine.js";
import { TILL_DAYS_WINDOW } from "../../../domain/index.js";
import { type ClientMessage, type DayReportIssued, STATUS_INTERVAL_MS, STATUS_MIN_INTERVAL_MS } from "../../../protocol/index.js";
import { actor, DEVICES } from "../../support/branch.js";
import { deviceToken, tempDbPath } from "../../support/desktop.js";
import { makeRoom } from "../../support/memory-room.js";
import { ManualTimers, noSnapshot, roomLink, sentOfType, settle } from "../../support/session-link.js";
import * as ex from "../../fixtures/examples.js";

const T0 = Date.UTC(2026, 10, 25, 4, 0, 0);
const DAY = "2026-11-25";
const DAY_MS = 24 * 3_600_000;

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function sale(store: LocalStore): string {
  const result = store.posSale({ currency: "LKR", lines: [{ sku: null, description: "Print", quantity: 1, unit_price_minor: 100 }], method: "cash", tendered_minor: null });
  if (!result.ok) throw new Error(result.error.message);
  return result.value.entity.entity_type === "pos_order" ? result.value.entity.data.local_receipt_no : "";
}

/**
 * Till A on fake time: its store's clock is T0 plus the timers' time plus `jump` (a clock set
 * forward by hand). `protocolVersion`: what its hello says (default: this build's).
 */
async function till(opts: { hold?: (frame: ClientMessage) => boolean; protocolVersion?: number } = {}) {
  const room = makeRoom();
  const timers = new ManualTimers();
  let jumpMs = 0;
  const store = LocalStore.open(tempDbPath("day-status"), { clockMs: () => T0 + jumpMs + timers.now });
  const init = store.init({ server_url: "http://127.0.0.1:8787", token: await deviceToken("test-branch", DEVICES.A, "cashier"), time_zone: "UTC" });
  if (!init.ok) throw new Error(init.error);
  const link = roomLink(room, DEVICES.A);
  link.hold = (frame) => opts.hold?.(frame) ?? false;
  const reports: DayReportIssued[] = [];
  const heard: DayReportIssued[] = [];
  const engine = new SyncEngine({
    store,
    openSocket: link.open,
    timers,
    random: () => 1,
    onDayReport: (issued) => reports.push(issued),
    fetch: noSnapshot,
    ...(opts.protocolVersion === undefined ? {} : { protocolVersion: opts.protocolVersion }),
  });
  const unsubscribe = engine.subscribeDayReports((issued) => heard.push(issued));
  cleanups.push(() => {
    unsubscribe();
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
    reports,
    heard,
    jump: (ms: number) => void (jumpMs += ms),
    async start() {
      engine.start();
      await settle();
    },
    async write(n = 1) {
      const receipts: string[] = [];
      for (let i = 0; i < n; i++) {
        receipts.push(sale(store));
        engine.notifyWrite();
      }
      await settle();
      return receipts;
    },
    /**
     * A manager closes the day on the branch, and the branch's `day_report` reaches this till, as
     * the room words it (room.ts #tellDayReports; the e2e test has the real one over workerd). The
     * memory link delivers the room's own frames only when the till sends something, which would
     * say nothing of "at once".
     */
    async closeDay(day = DAY) {
      const outcome = room.core.closeDay(actor(DEVICES.B, "manager"), day, null);
      if (!outcome.ok) throw new Error(outcome.message);
      // The branch's clock stands still in the memory room: the till's answer arrives a millisecond
      // after the close (a report stamped the close's own millisecond may have come before it).
      room.advance(1);
      expect(room.core.takeIssuedRevisions()).toEqual([outcome.issued]); // told here, not again by the room's next publish
      link.inject({ type: "day_report", day, revision: outcome.issued.revision, reason: outcome.issued.reason });
      await settle();
    },
    statuses: () => sentOfType(link.sent, "status"),
    hello: () => sentOfType(link.sent, "hello").at(-1),
    proof: (day = DAY) => room.core.dayReport(day, new Set([DEVICES.A])).tills.find((t) => t.device_id === DEVICES.A),
  };
}

describe("pos_days in hello and status (v10)", () => {
  it("the hello says the days of the queue written offline; the status after the verdicts says them confirmed", async () => {
    const d = await till();
    const receipts = await d.write(2); // offline: queued
    await d.start(); // hello, welcome, push, verdicts: no time passes
    expect(d.hello()?.pos_days).toEqual([{ day: DAY, pending: 2, last_local_receipt_no: receipts[1] }]);
    expect(d.store.queueReport().pending).toBe(0);
    expect(d.statuses()[0]?.pos_days).toEqual([{ day: DAY, pending: 0, last_local_receipt_no: receipts[1] }]);
    // The branch keeps the latest: before the day is over or closed, it proves nothing yet.
    expect(d.proof()).toMatchObject({ state: "unconfirmed", pending: 0, last_local_receipt_no: receipts[1] });
  });

  it("a v9 till says no days, in hello or status", async () => {
    const d = await till({ protocolVersion: 9 });
    await d.write();
    await d.start();
    expect(d.hello()).not.toHaveProperty("pos_days");
    await d.timers.advance(STATUS_INTERVAL_MS);
    expect(d.statuses().length).toBeGreaterThan(0);
    expect(d.statuses().every((s) => !("pos_days" in s))).toBe(true);
  });

  it("a changed list is news like a changed queue: a day leaving the window is told at the next look at the queue, not at the periodic report", async () => {
    const d = await till();
    await d.start();
    const [receipt] = await d.write();
    await d.timers.advance(STATUS_MIN_INTERVAL_MS);
    const told = d.statuses().length;
    expect(d.statuses().at(-1)).toMatchObject({ queue: { pending: 0 }, pos_days: [{ day: DAY, pending: 0, last_local_receipt_no: receipt }] });
    // The till's clock moves past the window: queue and cursor are as they were, the list is empty now.
    d.jump((TILL_DAYS_WINDOW + 1) * DAY_MS);
    await d.timers.advance(2_000); // the engine looks at the queue every 2 s
    expect(d.statuses().slice(told)).toEqual([{ type: "status", cursor: d.store.cursor(), queue: { pending: 0, oldest_pending_age_ms: null }, pos_days: [] }]);
    // Nothing more changes: nothing more until the periodic report.
    await d.timers.advance(STATUS_INTERVAL_MS - 2_001);
    expect(d.statuses()).toHaveLength(told + 1);
  });
});

describe("day_report is answered at once", () => {
  it("a close makes the till report within the same instant, so the branch calls it confirmed; the interval holds for the rest", async () => {
    const d = await till();
    await d.start();
    const [receipt] = await d.write();
    // Just told (the write): another report would otherwise wait STATUS_MIN_INTERVAL_MS.
    const told = d.statuses().length;
    expect(d.proof()).toMatchObject({ state: "unconfirmed" });

    await d.closeDay();
    expect(d.statuses()).toHaveLength(told + 1);
    expect(d.statuses().at(-1)?.pos_days).toEqual([{ day: DAY, pending: 0, last_local_receipt_no: receipt }]);
    expect(d.proof()).toMatchObject({ state: "confirmed", pending: 0, last_local_receipt_no: receipt });
    expect(d.reports).toEqual([{ type: "day_report", day: DAY, revision: 1, reason: "close" }]);
    expect(d.heard).toEqual(d.reports);

    // The rate limit is as before: a write right after waits for the interval, then goes out once.
    // (An invoice: a sale of the closed day would amend it, and its day_report be answered at once too.)
    expect(d.store.createInvoice({ ...ex.invoice, project_id: null, status: "draft", payments: [], issued_on: null }).ok).toBe(true);
    d.engine.notifyWrite();
    await settle();
    expect(d.statuses()).toHaveLength(told + 1);
    await d.timers.advance(STATUS_MIN_INTERVAL_MS);
    expect(d.statuses()).toHaveLength(told + 2);

    // An amendment (another till's late sales) is heard, for the app, but not answered: it changes
    // no proof of this till's, and a branch selling on after an early close would have every till
    // answer every sale.
    await d.timers.advance(STATUS_MIN_INTERVAL_MS / 2);
    d.link.inject({ type: "day_report", day: DAY, revision: 2, reason: "late_pos" });
    await settle();
    expect(d.statuses()).toHaveLength(told + 2);
    expect(d.heard.at(-1)).toEqual({ type: "day_report", day: DAY, revision: 2, reason: "late_pos" });
  });

  it("a till with sales of the day still queued answers too, and stays unconfirmed: its queue is not the branch's", async () => {
    const d = await till({ hold: (frame) => frame.type === "push" });
    await d.start();
    await d.write(3);
    await d.closeDay();
    expect(d.statuses().at(-1)?.pos_days).toEqual([{ day: DAY, pending: 3, last_local_receipt_no: expect.any(String) }]);
    expect(d.proof()).toMatchObject({ state: "unconfirmed", pending: 3 });
  });
});
