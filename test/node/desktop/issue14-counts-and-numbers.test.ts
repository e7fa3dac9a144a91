/**
 * Issue 14, small fixes: counts printed to people are grouped by thousands ("1,234 changes waiting")
 * in the pill's and the sync panel's words and in the CLI's human output; and every CLI flag that
 * takes a number reads it with domain/amounts.ts's parsers (so `--tax-bp 1,500` is 1500, as the
 * app's fields read it), refusing anything else with the parser's words.
 */
import { describe, expect, it } from "vitest";
import { main } from "../../../desktop/cli/main.js";
import { describeEntry } from "../../../desktop/cli/commands/queue.js";
import { formatCount, parseWholeNumber } from "../../../domain/amounts.js";
import { parseDay } from "../../../domain/clock.js";
import { conflictWords, keptWords, statusWords } from "../../../machines/status-words.js";
import { openStore } from "../../support/desktop.js";
import { newProject } from "../../../desktop/renderer/defaults.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, {});
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** A closed database with `n` sales waiting to be sent. */
async function withSales(n: number): Promise<string> {
  const { store } = await openStore({ device: A, role: "manager" });
  for (let i = 0; i < n; i++) {
    const r = store.posSale({ currency: "LKR", lines: [{ sku: null, description: "Print", quantity: 1, unit_price_minor: 100 }], method: "cash", tendered_minor: null });
    if (!r.ok) throw new Error(r.error.message);
  }
  const path = store.path;
  store.close();
  return path;
}

describe("counts for people have a thousands separator", () => {
  it("the pill and the sync panel's sentences", () => {
    const live = { kind: "live" } as const;
    expect(statusWords({ kind: "syncing", phase: "push" }, { pending: 1_234 }).short).toBe("Sending 1,234 changes…");
    expect(statusWords(live, { pending: 1_234 }).headline).toBe("Connected — 1,234 changes waiting to be sent");
    expect(keptWords(12_345)).toBe("12,345 changes not yet sent stay on this computer.");
    expect(conflictWords(1_001)).toBe("1,001 changes were not accepted by the server — review them in the conflict inbox");
    // Singular and small counts unchanged.
    expect(statusWords(live, { pending: 1 }).headline).toBe("Connected — 1 change waiting to be sent");
    expect(formatCount(999)).toBe("999");
    expect(formatCount(2_314)).toBe("2,314");
  });

  it("studiovault status and queue print 1,234, not 1234", async () => {
    const db = await withSales(1_234);
    const status = await run(["--db", db, "status"]);
    expect(status.out).toMatch(/^pending 1,234 \(oldest \d[\d,]* s ago\) · cursor 0 · open conflicts 0$/m);
    const queue = await run(["--db", db, "queue", "--limit", "1", "--offset", "1,000"]);
    expect(queue.out.split("\n").at(-1)).toBe("showing 1,001–1,001 of 1,234; --offset 1001 for more");
    const revoke = await run(["--db", db, "device", "revoke", "01936f3c-0000-7000-8000-0000000000b2", "--reason", "x".repeat(1_234)]);
    expect([revoke.code, revoke.err]).toEqual([2, "device: --reason: 1,234 characters, expected at most 500"]);
  }, 60_000);
});

describe("CLI flags read numbers with the shared parsers", () => {
  it("parseWholeNumber reads what people type and refuses the rest in words", () => {
    expect(parseWholeNumber("1,500")).toEqual({ ok: true, value: 1500 });
    expect(parseWholeNumber(" 12 500 ")).toEqual({ ok: true, value: 12_500 });
    expect(parseWholeNumber("1e3")).toEqual({ ok: false, error: "Enter a whole number like 1,500" });
    expect(parseWholeNumber("0x10")).toEqual({ ok: false, error: "Enter a whole number like 1,500" });
    expect(parseWholeNumber("2.5")).toEqual({ ok: false, error: "Enter a whole number like 1,500" });
    expect(parseWholeNumber("")).toEqual({ ok: false, error: "Enter a number" });
    expect(parseWholeNumber("-3")).toEqual({ ok: false, error: "Enter a number of 0 or more" });
    expect(parseWholeNumber("0", { min: 1 })).toEqual({ ok: false, error: "Enter a number of 1 or more" });
    expect(parseWholeNumber("10,001", { max: 10_000 })).toEqual({ ok: false, error: "Enter at most 10,000" });
  });

  it("--tax-bp takes 1,500 like the app's fields, and refuses with the parser's words", async () => {
    const { store } = await openStore({ device: A, role: "manager" });
    const db = store.path;
    store.close();
    const created = await run(["--db", db, "--json", "invoice", "create", "--client", "Silva", "--line", "Album:1:1,000", "--tax-bp", "1,500"]);
    expect(created.code, created.out + created.err).toBe(0);
    expect(JSON.parse(created.out).entity.data.tax_rate_bp).toBe(1500);
    const tooHigh = await run(["--db", db, "invoice", "create", "--client", "X", "--line", "A:1:1", "--tax-bp", "20000"]);
    expect(tooHigh.code).toBe(2);
    expect(tooHigh.err).toBe('invoice: --tax-bp: received "20000", expected basis points from 0 to 10,000 (1500 = 15%) (enter at most 10,000)');
    const word = await run(["--db", db, "invoice", "create", "--client", "X", "--line", "A:1:1", "--tax-bp", "15%"]);
    expect(word.err).toBe('invoice: --tax-bp: received "15%", expected basis points from 0 to 10,000 (1500 = 15%) (enter a whole number like 1,500)');
  });

  it("--timeout, --limit/--offset and a conflict's ID refuse what is not a whole number, in the same words", async () => {
    const { store } = await openStore({ device: A, role: "manager" });
    const db = store.path;
    store.close();
    // Number() read these as 1000 s and 16 s; and "abc" as NaN, sent on to the store.
    const exp = await run(["--db", db, "sync", "--timeout", "1e3"]);
    expect([exp.code, exp.err]).toEqual([2, 'sync: --timeout: received "1e3", expected seconds from 1 (enter a whole number like 1,500)']);
    expect((await run(["--db", db, "sync", "--timeout", "0x10"])).code).toBe(2);
    const id = await run(["--db", db, "conflicts", "resolve", "abc", "dismiss"]);
    expect([id.code, id.err]).toEqual([2, 'conflicts: ID: received "abc", expected a conflict id from `studiovault conflicts` (enter a whole number like 1,500)']);
    const limit = await run(["--db", db, "queue", "--limit", "0"]);
    expect([limit.code, limit.err]).toEqual([2, 'queue: --limit: received "0", expected a whole number ≥ 1 (enter a number of 1 or more)']);
  });
});

describe("days: one reader for the app's date fields and the CLI's date flags", () => {
  it("parseDay takes days that exist, and says what is wrong otherwise", () => {
    expect(parseDay("2024-02-29")).toEqual({ ok: true, value: "2024-02-29" });
    expect(parseDay(" 2026-12-05 ")).toEqual({ ok: true, value: "2026-12-05" });
    expect(parseDay("2026-02-29")).toEqual({ ok: false, error: "Enter a date like 2026-11-25" });
    expect(parseDay("2026-13-01")).toEqual({ ok: false, error: "Enter a date like 2026-11-25" });
    expect(parseDay("5/12/2026")).toEqual({ ok: false, error: "Enter a date like 2026-11-25" });
    expect(parseDay("")).toEqual({ ok: false, error: "Enter a date" });
  });

  it("--starts 2026-02-30 is a usage error in words (Date.parse rolled it over to March 2)", async () => {
    const { store } = await openStore({ device: A, role: "manager" });
    const db = store.path;
    store.close();
    const r = await run(["--db", db, "project", "create", "--title", "T", "--client", "C", "--starts", "2026-02-30"]);
    expect([r.code, r.err]).toEqual([2, 'project: --starts: received "2026-02-30", expected a date YYYY-MM-DD']);
  });
});

describe("studiovault queue keeps in step with the app's activity view", () => {
  it("filters by --type, newest first with --newest, and names the record", async () => {
    const { store } = await openStore({ device: A, role: "manager" });
    const sale = store.posSale({ currency: "LKR", lines: [{ sku: null, description: "Print", quantity: 1, unit_price_minor: 100 }], method: "cash", tendered_minor: null });
    const project = store.createProject(newProject("Wedding Silva", "Nimali Silva"));
    if (!sale.ok || !project.ok) throw new Error("seed failed");
    expect(store.updateProject(project.value.entity.entity_id, { notes: "two cameras" }).ok).toBe(true);
    const db = store.path;
    store.close();
    const projects = JSON.parse((await run(["--db", db, "--json", "queue", "--type", "project", "--newest"])).out);
    expect(projects).toMatchObject({ total: 2, events: [{ operation: "update", name: "Wedding Silva" }, { operation: "create", name: "Wedding Silva" }] });
    const sales = await run(["--db", db, "queue", "--type", "pos_order"]);
    expect(sales.out).toMatch(/^1 pending .* create pos_order \S+ "D00A1-000001"\nshowing 1–1 of 1$/);
    expect((await run(["--db", db, "queue", "--type", "invoice", "--status", "pending"])).out).toBe("no pending invoice events");
    const bad = await run(["--db", db, "queue", "--type", "photo"]);
    expect([bad.code, bad.err]).toEqual([2, 'queue: --type: received "photo", expected one of project, invoice, pos_order']);
    expect(describeEntry(projects.events[0])).toContain('update project');
  });
});
