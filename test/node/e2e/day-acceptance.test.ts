/**
 * Issue 19's acceptance, end to end: real desktops (store + sync engine) against the real Worker and
 * branch Durable Object under workerd, with R2 for the snapshot. Three tills ring a day's sales; one
 * goes offline in the afternoon and rings 20 more; a manager closes the day; the report lists that
 * till as not yet confirmed, never leaves it out. It reconnects: the amended report includes its
 * sales and the difference, and the ledger on the server, on each device and on a desktop
 * bootstrapped from a fresh snapshot is equal to the minor unit, as are the day's figures.
 *
 * The business day is two days before the server's today (the server's clock is real; the tills'
 * clocks are pinned to noon of that day), so nothing depends on the date the test runs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootstrap } from "../../../desktop/sync/bootstrap.js";
import { dayIn, dayStartMs, type DayReport, type LedgerRow } from "../../../domain/index.js";
import type { DayReportIssued } from "../../../protocol/index.js";
import { type Desktop, desktop, waitUntil } from "../../support/e2e.js";
import { tempDbPath } from "../../support/desktop.js";
import { type LocalServer, startServer, tokenFor } from "../../support/server.js";

const ZONE = "Asia/Colombo"; // wrangler.toml BRANCH_TIME_ZONE
const TILLS = { A: "01936f3c-0000-7000-8000-0000000019a1", B: "01936f3c-0000-7000-8000-0000000019b2", C: "01936f3c-0000-7000-8000-0000000019c3" } as const;
const MANAGER = "01936f3c-0000-7000-8000-0000000019e1";
const FRESH = "01936f3c-0000-7000-8000-0000000019f4";
const branch = "day-acceptance";

let server: LocalServer;
const open: Desktop[] = [];
beforeAll(async () => {
  server = await startServer();
}, 60_000);
afterAll(async () => {
  open.forEach((d) => d.close());
  await server.stop();
});

async function api(method: "GET" | "POST", path: string, body?: unknown) {
  const response = await fetch(new URL(`/v1/branches/${branch}/${path}`, server.url), {
    method,
    headers: { Authorization: `Bearer ${await tokenFor(branch, MANAGER, "manager")}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

const report = async (day: string) => (await api("GET", `days/${day}/report`)).body as DayReport;

async function reportUntil(day: string, what: string, ok: (r: DayReport) => boolean): Promise<DayReport> {
  let last: DayReport | null = null;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    last = await report(day);
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting until ${what}; the report's tills: ${JSON.stringify(last?.tills.map((t) => [t.device_id, t.state, t.why]))}`);
}

function ring(d: Desktop, n: number, amount: (i: number) => number) {
  const methods = ["cash", "card", "e_wallet"] as const;
  for (let i = 0; i < n; i++) {
    const method = methods[i % 3]!;
    const sale = d.store.posSale({ currency: "LKR", lines: [{ sku: null, description: `Print ${i}`, quantity: 1, unit_price_minor: amount(i) }], method });
    if (!sale.ok) throw new Error(sale.error.message);
  }
}

const synced = (d: Desktop) => d.store.queueReport().pending === 0;

/** The ledger rows as the report's tills say them. */
const reportLedger = (r: DayReport): LedgerRow[] =>
  r.figures.tills.map((t) => ({ day: r.day, device_id: t.device_id, currency: t.currency, ...t.total }));

describe("closing a day with a till offline through the close", () => {
  it("lists the offline till as unconfirmed, amends the report when it reconnects, and every ledger agrees to the minor unit", async () => {
    const day = dayIn(Date.now() - 2 * 86_400_000, ZONE);
    const noon = dayStartMs(day, ZONE) + 12 * 3_600_000;
    const a = await desktop(server, branch, TILLS.A, "cashier", 1, { nowMs: noon });
    const b = await desktop(server, branch, TILLS.B, "cashier", 2, { nowMs: noon });
    const cPath = tempDbPath("till-c");
    let c = await desktop(server, branch, TILLS.C, "cashier", 3, { nowMs: noon, path: cPath });
    open.push(a, b, c);
    const told: DayReportIssued[] = [];
    a.engine.subscribeDayReports((issued) => told.push(issued));
    for (const d of [a, b, c]) d.start();
    ring(a, 6, (i) => 1_000 + i * 7);
    ring(b, 4, (i) => 25_050 + i);
    ring(c, 2, (i) => 9_990 - i);
    await waitUntil("the three tills' morning sales are confirmed", () => [a, b, c].every(synced));

    // Till C loses its network in the afternoon (the app is closed) and rings 20 more sales offline.
    c.close();
    open.splice(open.indexOf(c), 1);
    c = await desktop(server, branch, TILLS.C, "cashier", 3, { nowMs: noon + 3_600_000, path: cPath });
    open.push(c);
    ring(c, 20, (i) => 2_000 + i * 13);
    const offlineTotal = Array.from({ length: 20 }, (_, i) => 2_000 + i * 13).reduce((s, x) => s + x, 0);
    expect(c.store.queueReport().pending).toBe(20);

    const closed = await api("POST", `days/${day}/close`, { note: "closing with till C offline" });
    expect(closed.status).toBe(201);
    const first = await reportUntil(day, "tills A and B confirm after the close", (r) => r.tills.filter((t) => t.state === "confirmed").length === 2);
    expect(first.tills.map((t) => [t.device_id, t.state])).toEqual([
      [TILLS.A, "confirmed"],
      [TILLS.B, "confirmed"],
      [TILLS.C, "unconfirmed"],
    ]);
    expect(first.tills[2]!.why).toMatch(/^not yet confirmed: last seen (\d\d:\d\d|\d{4}-\d\d-\d\d \d\d:\d\d), offline$/);
    expect(first.revisions).toHaveLength(1);
    const before = first.figures.tills.find((t) => t.device_id === TILLS.C)!.total.net_minor;

    // Till C reconnects: its 20 sales are accepted, the report is amended, and C confirms.
    c.start();
    await waitUntil("till C's offline sales are confirmed", () => synced(c));
    const amended = await reportUntil(day, "the report is amended and till C confirms", (r) => r.revisions.length === 2 && r.tills.every((t) => t.state === "confirmed"));
    expect(amended.revisions[1]).toMatchObject({ revision: 2, reason: "late_pos", by_device: TILLS.C });
    expect(amended.revisions[1]!.changes).toEqual([{ device_id: TILLS.C, currency: "LKR", total: expect.objectContaining({ sales_count: 20, sales_minor: offlineTotal, net_minor: offlineTotal }) }]);
    expect(amended.figures.tills.find((t) => t.device_id === TILLS.C)!.total.net_minor).toBe(before + offlineTotal);
    expect(amended.tills.find((t) => t.device_id === TILLS.C)!.why).toMatch(/^confirmed at .*: nothing queued, last receipt .* received$/);
    // Till A, online throughout, was told of both issues of the report (the app re-reads on them).
    await waitUntil("till A was told of the amendment", () => told.length === 2);
    expect(told).toEqual([
      { type: "day_report", day, revision: 1, reason: "close" },
      { type: "day_report", day, revision: 2, reason: "late_pos" },
    ]);

    // The ledger: server, each device (once it has pulled everything), and the report, to the minor unit.
    const serverLedger = ((await api("GET", `ledger?day=${day}`)).body as { rows: LedgerRow[] }).rows;
    expect(reportLedger(amended)).toEqual(serverLedger);
    const head = amended.revisions[1]!.through_seq;
    await waitUntil("every till has pulled the branch's head", () => [a, b, c].every((d) => d.store.cursor() >= head));
    for (const d of [a, b, c]) {
      expect(d.store.ledger(day)).toEqual(serverLedger);
      expect(d.store.dayFigures(day)).toEqual(amended.figures);
    }

    // A new desktop bootstrapped from a snapshot exported now has the same ledger and figures.
    expect((await api("POST", "snapshots")).status).toBe(201);
    const fresh = await desktop(server, branch, FRESH, "manager", 4, { nowMs: noon });
    open.push(fresh);
    await bootstrap(fresh.store, {});
    expect(fresh.store.ledger(day)).toEqual(serverLedger);
    expect(fresh.store.dayFigures(day)).toEqual(amended.figures);
  }, 120_000);
});
