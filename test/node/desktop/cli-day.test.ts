/**
 * Issue 19 on the command line: `day report`, `day close` and `day drawer` against the real Worker
 * and branch Durable Object under workerd, as a manager and as a cashier, online and offline. The
 * business day is read from the branch's own ledger (never the test machine's calendar).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../../desktop/cli/main.js";
import { helpText } from "../../../desktop/cli/registry.js";
import type { DayReport, LedgerRow } from "../../../domain/index.js";
import { tempDbPath } from "../../support/desktop.js";
import { type LocalServer, startServer, tokenFor } from "../../support/server.js";

const MANAGER = "01936f3c-0000-7000-8000-0000000019e1";
const TILL = "01936f3c-0000-7000-8000-0000000019e2";

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, {});
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("studiovault day", () => {
  let server: LocalServer;
  const branch = "cli-day";
  let managerDb: string;
  let tillDb: string;
  let day: string;
  let stopped = false;

  beforeAll(async () => {
    server = await startServer();
    managerDb = tempDbPath("day-manager");
    tillDb = tempDbPath("day-till");
    expect((await run("--db", managerDb, "init", "--no-bootstrap", "--server", server.url.origin, "--token", await tokenFor(branch, MANAGER, "manager"))).code).toBe(0);
    expect((await run("--db", tillDb, "init", "--no-bootstrap", "--server", server.url.origin, "--token", await tokenFor(branch, TILL, "cashier"))).code).toBe(0);
    expect((await run("--db", tillDb, "pos", "sale", "--item", "Prints:2:750", "--method", "cash", "--tendered", "2000")).code).toBe(0);
    expect((await run("--db", tillDb, "pos", "sale", "--item", "Frame:1:2500", "--method", "card")).code).toBe(0);
    expect((await run("--db", tillDb, "sync", "--timeout", "20")).code).toBe(0);
    expect((await run("--db", managerDb, "sync", "--timeout", "20")).code).toBe(0);
    // The day the branch booked the first sale to (both, unless they straddled midnight in the branch's zone).
    const ledger = JSON.parse((await run("--db", managerDb, "--json", "ledger")).out) as LedgerRow[];
    day = ledger[0]!.day;
  }, 120_000);
  afterAll(async () => {
    if (!stopped) await server.stop();
  });

  it("help lists the three forms", () => {
    const help = helpText();
    expect(help).toMatch(/^ {2}day report \[YYYY-MM-DD\|today\] \[--local\]$/m);
    expect(help).toMatch(/^ {2}day close \[YYYY-MM-DD\|today\] \[--note TEXT\]$/m);
    expect(help).toMatch(/^ {2}day drawer YYYY-MM-DD\|today --till DEVICE_ID --counted AMOUNT \[--currency CODE\] \[--note TEXT\]$/m);
  });

  it("a manager reads the open day, closes it, counts a drawer; the figures are the ledger's", async () => {
    const open = await run("--db", managerDb, "--json", "day", "report", day);
    expect(open.code, open.out).toBe(0);
    const report = JSON.parse(open.out) as DayReport & { ok: true };
    expect(report).toMatchObject({ ok: true, day, state: "open", revisions: [] });
    const ledger = JSON.parse((await run("--db", managerDb, "--json", "ledger", "--day", day)).out) as LedgerRow[];
    expect(report.figures.tills.map((t) => [t.device_id, t.currency, t.total.net_minor])).toEqual(ledger.map((r) => [r.device_id, r.currency, r.net_minor]));
    expect(report.tills.map((t) => t.device_id)).toContain(TILL);

    const closed = await run("--db", managerDb, "day", "close", day, "--note", "closed by the CLI test");
    expect(closed.code, closed.out).toBe(0);
    expect(closed.out).toContain(`Z-report: ${branch}, business day ${day}`);
    expect(closed.out).toMatch(/^closed, revision 1 · generated /m);
    expect(closed.out).toMatch(/^ {4}cash {5}sales 1 1,500\.00, corrections 0 0\.00, voids 0 0\.00, net 1,500\.00 LKR$/m);
    expect(closed.out).toMatch(/^ {2}revision 1: closed \d\d:\d\d by e2e \(closed by the CLI test\)$/m);

    const again = await run("--db", managerDb, "day", "close", day);
    expect(again.code).toBe(1);
    expect(again.out).toMatch(/was closed at .*amended by late sales only/);

    const counted = await run("--db", managerDb, "day", "drawer", day, "--till", TILL, "--counted", "10.00", "--note", "float left in");
    expect(counted.code, counted.out).toBe(0);
    expect(counted.out).toMatch(new RegExp(`^ {2}till ${TILL} LKR: counted 10\\.00, expected 1,500\\.00, variance -1,490\\.00 LKR \\(short\\) · .* by e2e \\(float left in\\)$`));
  }, 60_000);

  it("a cashier reads the report but may not close a day or count a drawer", async () => {
    expect((await run("--db", tillDb, "day", "report", day)).code).toBe(0);
    const close = await run("--db", tillDb, "day", "close", day);
    expect(close.code).toBe(1);
    expect(close.out).toContain("your role (cashier) may not close a business day");
    const drawer = await run("--db", tillDb, "day", "drawer", day, "--till", TILL, "--counted", "1");
    expect(drawer.code).toBe(1);
  }, 60_000);

  it("refuses bad arguments before sending anything", async () => {
    const cases: [string[], RegExp][] = [
      [["day"], /^day: expected report, close or drawer; received ""$/],
      [["day", "frobnicate"], /^day: expected report, close or drawer/],
      [["day", "report", "2026-02-30"], /^day: DAY: received "2026-02-30", expected a date YYYY-MM-DD$/],
      [["day", "drawer", day, "--counted", "5"], /^day drawer: --till missing/],
      [["day", "drawer", day, "--till", "not-a-device", "--counted", "5"], /^day: --till: received "not-a-device"/],
      [["day", "drawer", day, "--till", TILL], /^day drawer: --counted missing/],
      [["day", "drawer", day, "--till", TILL, "--counted", "five"], /^day: --counted: received "five"/],
      [["day", "drawer", day, "--till", TILL, "--counted", "5", "--currency", "rupees"], /^day: --currency: received "rupees"/],
      [["day", "close", day, "--note", ""], /^day: --note: empty/],
      [["day", "report", day, "--till", TILL], /^day: --till is not for `day report`$/],
      [["day", "drawer"], /^day drawer: the day is missing/],
      // A command's own name is said once, not twice (it was "pos: pos: expected …").
      [["pos"], /^pos: expected sale, correct, void or list; received ""$/],
      [["lease", "take"], /^lease take: ENTITY_ID missing/],
    ];
    for (const [argv, message] of cases) {
      const r = await run("--db", managerDb, ...argv);
      expect([argv.join(" "), r.code]).toEqual([argv.join(" "), 2]);
      expect(r.err || r.out).toMatch(message);
    }
  }, 60_000);

  it("offline: the server's report is exit 3; --local prints this device's own figures, equal to the branch's", async () => {
    const branchReport = JSON.parse((await run("--db", tillDb, "--json", "day", "report", day)).out) as DayReport;
    const local = await run("--db", tillDb, "--json", "day", "report", day, "--local");
    expect(local.code).toBe(0);
    expect(JSON.parse(local.out)).toMatchObject({ ok: true, day, source: "this_device", figures: branchReport.figures });
    const text = await run("--db", tillDb, "day", "report", day, "--local");
    expect(text.out).toContain("this device's copy of the day's POS figures, not the branch's report");
    await server.stop();
    stopped = true;
    const unreachable = await run("--db", tillDb, "day", "report", day);
    expect(unreachable.code).toBe(3);
    expect(unreachable.out).toMatch(/^server unreachable at /);
  }, 60_000);
});
