/**
 * The end of a business day inside workerd (issue 19, protocol v10): the routes, who may do what,
 * every bad request's answer, and the `day_report` a close and a late sale send to v10 connections
 * (and not to older ones). The day is the branch's day of the sales rung now (the server's zone),
 * never the test machine's calendar.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { businessDay, type DayReport, nextDay, type Role, type SyncEvent } from "../../domain/index.js";
import { connect, newId, openSocket, ORIGIN, tokenFor } from "./support.js";

let n = 0;
const fresh = () => `days-${Date.now().toString(36)}-${++n}`;
const ZONE = "Asia/Colombo"; // vitest.config.ts binds BRANCH_TIME_ZONE like wrangler.toml

async function call(method: string, branch: string, path: string, role: Role, body?: unknown, device = newId()) {
  const response = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/${path}`, {
    method,
    headers: { Authorization: `Bearer ${await tokenFor(branch, device, role)}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any>, allow: response.headers.get("Allow") };
}

function sale(device: string, receipt: string, amount: number, rungAt: string): SyncEvent {
  return {
    id: newId(),
    device_id: device,
    entity_type: "pos_order",
    entity_id: newId(),
    operation: "create",
    payload: {
      kind: "sale",
      local_receipt_no: receipt,
      corrects_order_id: null,
      reason: null,
      currency: "LKR",
      lines: [{ sku: null, description: "Prints", quantity: 1, unit_price_minor: amount }],
      total_minor: amount,
      payment: { method: "card", tendered_minor: null, change_minor: null },
      rung_at: rungAt,
      cashier: "nimal",
    },
    base_version: null,
    depends_on: null,
    created_at: rungAt,
  } as SyncEvent;
}

const pushed = async (branch: string, device: string, events: SyncEvent[]) => {
  const r = await call("POST", branch, "push?protocol_version=10", "cashier", { type: "push", batch_id: newId(), events }, device);
  expect(r.status).toBe(200);
  expect(r.body.verdicts.map((v: { status: string }) => v.status)).toEqual(events.map(() => "confirmed"));
};

describe("end of day over HTTP", () => {
  it("answers every bad request with its documented error", async () => {
    const branch = fresh();
    const today = businessDay(new Date().toISOString(), ZONE);
    expect(await call("GET", branch, "days/2026-02-30/report", "manager")).toMatchObject({ status: 400, body: { error: "bad_request", message: 'business day "2026-02-30": Enter a date like 2026-11-25' } });
    expect(await call("GET", branch, `days/${today}/close`, "manager")).toMatchObject({ status: 405, allow: "POST" });
    expect(await call("POST", branch, `days/${today}/close`, "cashier", {})).toMatchObject({ status: 403, body: { error: "forbidden", message: "role cashier may not close day" } });
    expect(await call("POST", branch, `days/${today}/drawer`, "viewer", {})).toMatchObject({ status: 403 });
    expect(await call("GET", branch, `days/${today}/report`, "staff")).toMatchObject({ status: 403 });
    expect((await call("GET", branch, `days/${today}/report`, "viewer")).status).toBe(200);
    expect(await call("POST", branch, `days/${today}/close`, "manager", { note: "a\nb" })).toMatchObject({ status: 400, body: { error: "bad_request" } });
    expect(await call("POST", branch, `days/${today}/close`, "manager", { colour: "red" })).toMatchObject({ status: 400 });
    expect(await call("POST", branch, `days/${today}/close`, "manager", "not json")).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^the body is not JSON/) } });
    const future = nextDay(nextDay(today));
    expect(await call("POST", branch, `days/${future}/close`, "manager", {})).toMatchObject({ status: 422, body: { error: "day_not_started" } });
    expect(await call("POST", branch, `days/${today}/drawer`, "manager", { device_id: newId(), currency: "LKR", counted_minor: 100 })).toMatchObject({ status: 404, body: { error: "not_found" } });
    expect(await call("POST", branch, `days/${today}/drawer`, "manager", { device_id: newId(), currency: "LKR", counted_minor: -1 })).toMatchObject({ status: 400 });
  });

  it("a close and a late sale are told to v10 connections as day_report, and amend the report with the difference", async () => {
    const branch = fresh();
    const tillA = newId();
    const tillB = newId();
    const rungAt = new Date().toISOString();
    const day = businessDay(rungAt, ZONE);
    await pushed(branch, tillA, [sale(tillA, "A-1", 150_000, rungAt)]);

    const watcher = await connect(branch, newId(), "manager");
    // A v9 connection is sent no day_report (its enum does not know it).
    const oldDevice = newId();
    const old = await openSocket(branch, await tokenFor(branch, oldDevice, "manager"));
    if (old instanceof Response) throw new Error(`upgrade refused: ${old.status}`);
    const oldFrames: string[] = [];
    old.ws.addEventListener("message", (event) => oldFrames.push(event.data as string));
    old.send({ type: "hello", protocol_version: 9, device_id: oldDevice, cursor: 0, app: "workers-test/1", install_id: newId(), clock_ms: Date.now() });

    const closed = await call("POST", branch, `days/${day}/close`, "manager", { note: "end of day" });
    expect(closed.status).toBe(201);
    const report = closed.body as DayReport;
    expect(report).toMatchObject({ day, state: "closed", time_zone: ZONE, revisions: [{ revision: 1, reason: "close", note: "end of day" }] });
    expect(report.figures.currencies).toEqual([expect.objectContaining({ currency: "LKR", total: expect.objectContaining({ net_minor: 150_000 }) })]);
    expect(await watcher.next("day_report")).toEqual({ type: "day_report", day, revision: 1, reason: "close" });

    const again = await call("POST", branch, `days/${day}/close`, "manager", {});
    expect(again).toMatchObject({ status: 409, body: { error: "day_closed", report: { day, state: "closed" } } });

    // Till B was offline through the close: its sales of the day arrive now.
    await pushed(branch, tillB, [sale(tillB, "B-1", 20_000, rungAt), sale(tillB, "B-2", 5_000, rungAt)]);
    expect(await watcher.next("day_report", { skip: true })).toEqual({ type: "day_report", day, revision: 2, reason: "late_pos" });
    const amended = (await call("GET", branch, `days/${day}/report`, "manager")).body as DayReport;
    expect(amended.revisions.map((r) => [r.revision, r.reason])).toEqual([
      [1, "close"],
      [2, "late_pos"],
    ]);
    expect(amended.revisions[1]!.changes).toEqual([{ device_id: tillB, currency: "LKR", total: expect.objectContaining({ sales_count: 2, net_minor: 25_000 }) }]);
    const ledger = (await call("GET", branch, `ledger?day=${day}`, "manager")).body.rows as Array<{ device_id: string; net_minor: number }>;
    expect(amended.figures.tills.map((t) => [t.device_id, t.total.net_minor])).toEqual(ledger.map((r) => [r.device_id, r.net_minor]));

    const audit = (await call("GET", branch, "audit?limit=100", "owner")).body.entries as Array<{ kind: string; message: string }>;
    expect(audit.filter((e) => e.kind.startsWith("day_")).map((e) => e.kind)).toEqual(["day_closed", "day_amended"]);

    // The v9 connection saw its welcome and the live changes, and no day_report.
    await new Promise((r) => setTimeout(r, 100));
    const oldTypes = oldFrames.map((f) => (JSON.parse(f) as { type: string }).type);
    expect(oldTypes).toContain("live");
    expect(oldTypes).not.toContain("day_report");
    old.send({ type: "status", cursor: 0, queue: { pending: 0, oldest_pending_age_ms: null }, pos_days: [] });
    await new Promise((r) => setTimeout(r, 100));
    expect(oldFrames.map((f) => JSON.parse(f) as { type: string; code?: string; message?: string }).find((f) => f.type === "error")).toMatchObject({
      code: "malformed_message",
      message: "pos_days is protocol 10; this connection said hello with protocol 9",
    });
    watcher.close();
    old.close();
  });

  it("a till's pos_days in hello and status is its proof for a closed day", async () => {
    const branch = fresh();
    const till = newId();
    const rungAt = new Date().toISOString();
    const day = businessDay(rungAt, ZONE);
    await pushed(branch, till, [sale(till, "T-1", 1_000, rungAt)]);
    const socket = await connect(branch, till, "cashier", 0, { pos_days: [{ day, pending: 0, last_local_receipt_no: "T-1" }] });
    await call("POST", branch, `days/${day}/close`, "manager", {});
    await socket.next("day_report", { skip: true });
    // Its hello came before the close: not yet a proof. A status after the close is.
    const before = (await call("GET", branch, `days/${day}/report`, "manager")).body as DayReport;
    expect(before.tills).toEqual([expect.objectContaining({ device_id: till, state: "unconfirmed", connected: true })]);
    socket.send({ type: "status", cursor: 1, queue: { pending: 0, oldest_pending_age_ms: null }, pos_days: [{ day, pending: 0, last_local_receipt_no: "T-1" }] });
    let after: DayReport | undefined;
    for (let i = 0; i < 50 && after?.tills[0]?.state !== "confirmed"; i++) {
      await new Promise((r) => setTimeout(r, 20));
      after = (await call("GET", branch, `days/${day}/report`, "manager")).body as DayReport;
    }
    expect(after!.tills).toEqual([expect.objectContaining({ device_id: till, state: "confirmed", pending: 0, last_local_receipt_no: "T-1" })]);
    socket.close();
  });
});
