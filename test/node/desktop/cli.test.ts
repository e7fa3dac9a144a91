/** The headless CLI, run in-process with captured output, against the real local server. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flagSynopsis, parseFlags, unknownFlagMessage } from "../../../desktop/cli/args.js";
import { main } from "../../../desktop/cli/main.js";
import { COMMANDS, GLOBAL_FLAGS, helpText } from "../../../desktop/cli/registry.js";
import { parseTokenArgs } from "../../../scripts/token.js";
import { LocalStore } from "../../../desktop/store/local-store.js";
import { corruptQueuedPayload, tempDbPath } from "../../support/desktop.js";
import { desktop, serverTruth } from "../../support/e2e.js";
import { type LocalServer, startServer, tokenFor } from "../../support/server.js";

let server: LocalServer;
beforeAll(async () => {
  server = await startServer();
}, 60_000);
afterAll(async () => server.stop());

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, {});
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const A = "01936f3c-0000-7000-8000-0000000000a1";
const C = "01936f3c-0000-7000-8000-0000000000c3";

describe("studiovault help is generated from the commands' flag tables", () => {
  it("lists every command and every flag of every table, with its value", () => {
    const help = helpText();
    for (const [name, spec] of Object.entries(GLOBAL_FLAGS)) expect(help, name).toContain(flagSynopsis(name, spec));
    for (const command of COMMANDS) {
      for (const form of command.usage) expect(help, form.words).toContain(`  ${form.words}`);
      for (const [name, spec] of Object.entries(command.flags)) expect(help, `${command.name} --${name}`).toContain(flagSynopsis(name, spec));
    }
  });

  it("names in usage lines only flags of the command's own table", () => {
    for (const command of COMMANDS) {
      for (const form of command.usage) {
        for (const flag of [...(form.required ?? []), ...(form.optional ?? [])]) expect(Object.keys(command.flags), `${form.words} --${flag}`).toContain(flag);
      }
    }
  });

  it("is what `studiovault help` prints, with exit 0", async () => {
    const r = await run("help");
    expect(r.code).toBe(0);
    expect(r.out).toBe(helpText());
  });

  it("words an unknown flag the same way in studiovault and in npm run token", () => {
    const table = { item: { type: "string", help: "x" }, json: { type: "boolean", help: "y" } } as const;
    expect(parseFlags(["--colour", "red"], table)).toEqual({ ok: false, error: "unknown flag --colour: expected one of --item, --json" });
    expect(unknownFlagMessage("--colour", table)).toBe("unknown flag --colour: expected one of --item, --json");
    const token = parseTokenArgs(["--branch", "b1", "--role", "owner", "--colour", "red"], 0);
    expect(token).toEqual({ ok: false, error: "unknown flag --colour: expected one of --branch, --role, --user, --device, --ttl, --json, --help" });
  });
});

describe("studiovault: bad input gets one clear line and changes nothing", () => {
  it("without a command prints the usage and exits 2", async () => {
    const r = await run();
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/usage: studiovault/);
  });

  it("refuses to work on a database that was never initialised", async () => {
    const r = await run("--db", tempDbPath(), "status");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no local database at .*run `studiovault init/);
  });

  it.each([
    [["init", "--server", "http://127.0.0.1:1", "--token", "nonsense"], /not a StudioVault device token/],
    [["init", "--token", "x"], /--server: missing/],
    [["init", "--server", "ftp://x", "--token", "TOKEN"], /must be http:\/\/ or https:\/\//],
  ])("init %j", async (argv, message) => {
    const token = await tokenFor("cli-branch", A, "owner");
    const r = await run("--db", tempDbPath(), ...argv.map((a) => (a === "TOKEN" ? token : a)));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it.each([
    [["pos", "sale", "--item", "Prints:2", "--method", "cash"], /--item: received "Prints:2", expected description:quantity:unit-price/],
    [["pos", "sale", "--item", "Prints:2:12.345", "--method", "cash"], /expected an amount like 1500 or 1500.50/],
    [["pos", "sale", "--item", "Prints:0:10", "--method", "cash"], /quantity "0" must be a non-zero whole number/],
    [["pos", "sale", "--item", "Prints:1:10", "--method", "cheque"], /--method: received "cheque", expected one of cash, card, e_wallet/],
    [["pos", "sale", "--method", "card"], /--item: at least one/],
    [["project", "create", "--client", "X"], /--title: missing/],
    [["project", "create", "--title", "T", "--client", "X", "--starts", "2026-13-40"], /--starts: received "2026-13-40", expected a date/],
    [["project", "update", "01936f3c-1111-7000-8000-000000000001"], /nothing to change/],
    [["project", "fly"], /project: expected create, update, delete, select, import, list or show/],
    [["invoice", "create", "--client", "X", "--tax-bp", "20000"], /--tax-bp: received "20000"/],
    [["ledger", "--day", "yesterday"], /--day: received "yesterday"/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["pos", "sale", "--colour", "red"], /^pos: unknown flag --colour: expected one of --item, --method, --tendered, --currency, --reason, --limit, --offset$/],
    [["status", "--colour"], /^status: unknown flag --colour: expected no flags$/],
  ])("%j", async (argv, message) => {
    const db = tempDbPath();
    expect((await run("--db", db, "init", "--server", server.url.origin, "--token", await tokenFor("cli-branch", A, "owner"))).code).toBe(0);
    const r = await run("--db", db, ...argv);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(message);
    expect((await run("--db", db, "--json", "status")).out).toMatch(/"pending":0/);
  });
});

describe("studiovault: an on-location session", () => {
  it("rings up sales offline, syncs, and reports official numbers and the ledger", async () => {
    const db = tempDbPath();
    const token = await tokenFor("cli-session", A, "manager");
    const init = await run("--db", db, "--json", "init", "--server", server.url.origin, "--token", token);
    expect(JSON.parse(init.out)).toMatchObject({ ok: true, branch: "cli-session", role: "manager" });

    const sale = JSON.parse((await run("--db", db, "--json", "pos", "sale", "--item", "Passport photos:2:800", "--item", "Frame A4:1:2500.50", "--method", "cash", "--tendered", "5000")).out);
    expect(sale.entity.data).toMatchObject({ total_minor: 410_050, payment: { tendered_minor: 500_000, change_minor: 89_950 } });
    const project = JSON.parse((await run("--db", db, "--json", "project", "create", "--title", "Perera wedding", "--client", "Anusha Perera", "--starts", "2026-12-12")).out);
    expect((await run("--db", db, "project", "update", project.entity.entity_id, "--notes", "Drone if the weather allows")).code).toBe(0);
    expect((await run("--db", db, "--json", "status")).out).toMatch(/"pending":3/);

    const synced = await run("--db", db, "--json", "sync", "--timeout", "30");
    expect(synced.code, synced.err).toBe(0);
    expect(JSON.parse(synced.out)).toMatchObject({ ok: true, pending: 0, cursor: 3 });
    expect((await run("--db", db, "pos", "list")).out).toMatch(/#1 sale 4,100.50 LKR/);

    expect((await run("--db", db, "pos", "void", sale.entity.entity_id, "--reason", "wrong frame")).code).toBe(0);
    expect((await run("--db", db, "sync")).code).toBe(0);
    const ledger = JSON.parse((await run("--db", db, "--json", "ledger")).out);
    expect(ledger).toMatchObject([{ sales_count: 1, sales_minor: 410_050, voids_count: 1, voids_minor: 410_050, net_minor: 0 }]);
  }, 60_000);

  it("refuses a cashier's void before it reaches the server, with exit code 1", async () => {
    const db = tempDbPath();
    await run("--db", db, "init", "--server", server.url.origin, "--token", await tokenFor("cli-cashier", C, "cashier"));
    const sale = JSON.parse((await run("--db", db, "--json", "pos", "sale", "--item", "Prints:1:100", "--method", "card")).out);
    const r = await run("--db", db, "pos", "void", sale.entity.entity_id, "--reason", "oops");
    expect(r.code).toBe(1);
    expect(r.out).toBe("refused: Your role (cashier) may not void a POS order");
  });

  it("stops with a clear message when the server refuses the token", async () => {
    const db = tempDbPath();
    const { signDeviceToken } = await import("../../../durable/auth.js");
    const iat = Math.floor(Date.now() / 1000);
    const forged = await signDeviceToken({ v: 1, branch: "cli-forged", device: A, user: "x", role: "owner", iat, exp: iat + 600 } as never, "another-secret-0123456789abcdef0123456");
    await run("--db", db, "init", "--server", server.url.origin, "--token", forged);
    const r = await run("--db", db, "sync", "--timeout", "20");
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/the device token was refused \(unauthorized\)/);
  }, 30_000);
});

describe("studiovault: a damaged queue row and a wrong clock", () => {
  it("an unreadable queued sale does not stop sync: it is kept, flagged in the conflict inbox, and every other change is sent", async () => {
    const db = tempDbPath();
    const branch = `cli-unreadable-${Date.now().toString(36)}`;
    expect((await run("--db", db, "init", "--server", server.url.origin, "--token", await tokenFor(branch, A, "manager"))).code).toBe(0);
    const sales = [];
    for (const price of ["100", "200", "300"]) sales.push(JSON.parse((await run("--db", db, "--json", "pos", "sale", "--item", `Prints:1:${price}`, "--method", "card")).out));
    const store = LocalStore.open(db);
    corruptQueuedPayload(store, sales[1].event_id, '{"kind":"sale","lines":[{');
    store.close();

    const synced = await run("--db", db, "sync", "--timeout", "20");
    // Exit 4: done, but a change did not go through (here: could not be read) and waits in the inbox.
    expect(synced.code, synced.err).toBe(4);
    expect(synced.err).not.toMatch(/SyntaxError/);
    expect(synced.out).toBe(
      "synced: nothing pending, cursor 2, open conflicts 1\nsynced, but 1 change was rejected (by the server, or unreadable here): see `studiovault conflicts` and `studiovault queue --status rejected`",
    );
    expect((await run("--db", db, "conflicts")).out).toMatch(/^1\. This change could not be read, so it was not sent: its saved data is not valid JSON .*\[needs a manager\] — create pos_order \S+ \(unreadable\)$/);
    expect((await serverTruth(server, branch)).ledger).toMatchObject([{ sales_count: 2, sales_minor: 40_000 }]);
    // Still listed, flagged: a sale is never erased on the till.
    expect((await run("--db", db, "pos", "list")).out.split("\n").filter((l) => l.endsWith("[rejected]"))).toHaveLength(1);
    expect(JSON.parse((await run("--db", db, "--json", "status")).out)).toMatchObject({ pending: 0, queue: { confirmed: 2, rejected: 1 } });
  }, 60_000);

  it("status warns when this till's clock was hours off the server's at the last sync", async () => {
    const branch = `cli-clock-${Date.now().toString(36)}`;
    // A till whose clock is 3 hours behind the server's real one, synced once by the engine.
    const till = await desktop(server, branch, A, "manager", 11, { nowMs: Date.now() - 3 * 3_600_000 });
    till.start();
    await till.engine.untilDrained(20_000);
    const db = till.store.path;
    till.close();

    const status = await run("--db", db, "status");
    expect(status.code).toBe(0);
    expect(status.out).toContain("WARNING: This till's clock is 3 h 0 min behind the server's: sales may be booked to the wrong day. Fix the computer's clock.");
    const value = JSON.parse((await run("--db", db, "--json", "status")).out);
    expect(value.clock_skew_ms).toBeLessThan(-3 * 3_600_000 + 1);
    expect(value.clock_warning).toMatch(/^This till's clock is 3 h 0 min behind/);

    // A till on time: no warning, just the figure.
    const onTime = await desktop(server, branch, C, "cashier", 12, { nowMs: Date.now() });
    onTime.start();
    await onTime.engine.untilDrained(20_000);
    const onTimeDb = onTime.store.path;
    onTime.close();
    expect((await run("--db", onTimeDb, "status")).out).toMatch(/\nclock: \d+ s (ahead of|behind) the server's at the last sync\n/);
  }, 60_000);
});
